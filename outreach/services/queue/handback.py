"""Handing a held business back with a reason: the reason's effect comes from the hand-back
catalogue (`outreach.domain.outcomes.HAND_BACKS`), never from the screen.

- requeue: back to the queue after the reason's delay, for anybody (audited `task.release`);
- remove: out of the campaign, the task cancelled with the reason as `end_reason`, so the
  campaign counts it (audited `task.remove`);
- flag: the record is reported to a supervisor (`record_flags`, `outreach flags`) and the task
  leaves the queue until the flag is resolved (audited `record.flag`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from outreach.db.engine import Database, retry_busy
from outreach.db.models import Business, CallTask, RecordFlag
from outreach.domain.outcomes import FLAG, REMOVE, hand_back_reason
from outreach.errors import InvalidInput
from outreach.i18n import _
from outreach.services.audit import record_audit
from outreach.services.clock import to_db, utcnow
from outreach.services.queue.claim import release_task

T, B = CallTask.__table__, Business.__table__
FLAGGED = "flagged"  # end_reason of a task whose record waits for a supervisor


def hand_back(
    db: Database,
    agent_id: int,
    task_id: int,
    reason: str,
    note: str | None = None,
    *,
    now: datetime | None = None,
) -> bool:
    """Hand the held task back for `reason` (a code of HAND_BACKS), with its effect. A reason
    that needs text refuses an empty `note`. False when the agent did not hold the task."""
    try:
        entry = hand_back_reason(reason)
    except KeyError:
        raise InvalidInput(_("motif inconnu : « {code} »").format(code=reason)) from None
    note = (note or "").replace("\x00", "").strip() or None
    if entry.needs_text and not note:
        raise InvalidInput(
            _("motif « {label} » : précisez-le en quelques mots").format(label=entry.label_fr)
        )
    if entry.effect not in (REMOVE, FLAG):
        return release_task(
            db, agent_id, task_id, reason, delay_minutes=entry.delay_minutes, now=now, note=note
        )
    at = to_db(now) if now is not None else utcnow()

    def run() -> bool:
        with db.write_conn() as session:
            held = session.execute(
                select(T.c.id, T.c.campaign_id, T.c.business_id, T.c.chamber_id)
                .where(T.c.id == task_id, T.c.claimed_by == agent_id)
                .with_for_update()
            ).first()
            if held is None:
                return False
            session.execute(
                update(T)
                .where(T.c.id == task_id)
                .values(
                    state="cancelled",
                    end_reason=reason if entry.effect == REMOVE else FLAGGED,
                    claimed_by=None,
                    claimed_at=None,
                    lease_expires_at=None,
                    updated_at=at,
                )
            )
            detail: dict[str, object] = {"reason": reason, "note": note}
            if entry.effect == FLAG:
                flag_id = session.execute(
                    insert(RecordFlag.__table__)
                    .values(
                        at=at,
                        business_id=held.business_id,
                        chamber_id=held.chamber_id,
                        campaign_id=held.campaign_id,
                        task_id=task_id,
                        agent_id=agent_id,
                        reason=reason,
                        note=note,
                    )
                    .returning(RecordFlag.__table__.c.id)
                ).scalar_one()
                detail["flag_id"] = int(flag_id)
            record_audit(
                session,
                agent_id=agent_id,
                action="record.flag" if entry.effect == FLAG else "task.remove",
                entity="call_task",
                entity_id=task_id,
                detail=detail,
                at=at,
            )
            return True

    return retry_busy(run)
