"""Do-not-call (the business's opposition, RGPD): it wins in every campaign and every chamber.

Opting out marks the business and cancels every unfinished task of it in every campaign; only a
supervisor may set it outside a call or lift it, and both leave an audit row. Lifting does not
reopen the cancelled tasks: a supervisor adds the business to a campaign again if needed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outreach.db.engine import Database, Executor, retry_busy
from outreach.db.models import Business, CallTask
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.agents import load_agent, works_every_chamber
from outreach.services.audit import record_audit
from outreach.services.clock import to_db, utcnow
from outreach.services.queue.context import UNFINISHED_STATES

T = CallTask.__table__


def cancel_unfinished_tasks(
    session: Executor, business_ids: list[int], now: datetime, *, keep_task_id: int | None = None
) -> list[int]:
    """Cancel every unfinished task of these businesses in every campaign, releasing any lease
    (but `keep_task_id`); the ids of the tasks cancelled. Opting out and erasure both end here."""
    stmt = (
        update(T)
        .where(T.c.business_id.in_(business_ids), T.c.state.in_(UNFINISHED_STATES))
        .values(
            state="cancelled",
            claimed_by=None,
            claimed_at=None,
            lease_expires_at=None,
            updated_at=now,
        )
    )
    if keep_task_id is not None:
        stmt = stmt.where(T.c.id != keep_task_id)
    return [int(i) for i in session.execute(stmt.returning(T.c.id)).scalars()]


def opt_out(
    session: Executor,
    business_id: int,
    agent_id: int | None,
    now: datetime,
    *,
    reason: str,
    keep_task_id: int | None = None,
) -> int:
    """Mark the business do-not-call and cancel its unfinished tasks everywhere (but
    `keep_task_id`, the task of the call that recorded it); the number of tasks cancelled."""
    session.execute(
        update(Business)
        .where(Business.id == business_id)
        .values(do_not_call=True, do_not_call_at=now, updated_at=now)
    )
    cancelled = cancel_unfinished_tasks(session, [business_id], now, keep_task_id=keep_task_id)
    record_audit(
        session,
        agent_id=agent_id,
        action="business.do_not_call",
        entity="business",
        entity_id=business_id,
        detail={"reason": reason, "tasks_cancelled": sorted(cancelled)},
        at=now,
    )
    return len(cancelled)


def _supervisor_on(session: Session, supervisor_id: int, business_id: int) -> tuple[int, bool]:
    person = load_agent(session, supervisor_id)
    if not person.is_supervisor:
        raise Forbidden(
            _("{login} est conseiller : seul un superviseur peut modifier une opposition").format(
                login=person.login
            )
        )
    row = session.execute(
        select(Business.chamber_id, Business.do_not_call)
        .where(Business.id == business_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(_("entreprise inconnue : n° {id}").format(id=business_id))
    if not works_every_chamber(person) and row.chamber_id != person.chamber_id:
        raise Forbidden(_("cette entreprise n'est pas dans le périmètre de votre chambre"))
    return person.id, bool(row.do_not_call)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("motif obligatoire"))
    return reason


def set_do_not_call(
    db: Database, supervisor_id: int, business_id: int, reason: str, now: datetime | None = None
) -> int | None:
    """A supervisor records an opposition received outside a call; the number of tasks
    cancelled, or None if the business already had one (kept as it was, with its date)."""
    reason = _reason(reason)
    at = to_db(now) if now else utcnow()

    def run() -> int | None:
        with db.writing() as session:
            sid, already = _supervisor_on(session, supervisor_id, business_id)
            if already:
                return None
            return opt_out(session, business_id, sid, at, reason=reason)

    return retry_busy(run)


def lift_do_not_call(
    db: Database, supervisor_id: int, business_id: int, reason: str, now: datetime | None = None
) -> bool:
    """A supervisor lifts an opposition (audited); False if the business had none."""
    reason = _reason(reason)
    at = to_db(now) if now else utcnow()

    def run() -> bool:
        with db.writing() as session:
            sid, flagged = _supervisor_on(session, supervisor_id, business_id)
            if not flagged:
                return False
            session.execute(
                update(Business)
                .where(Business.id == business_id)
                .values(do_not_call=False, do_not_call_at=None, updated_at=at)
            )
            record_audit(
                session,
                agent_id=sid,
                action="business.do_not_call_lifted",
                entity="business",
                entity_id=business_id,
                detail={"reason": reason},
                at=at,
            )
            return True

    return retry_busy(run)
