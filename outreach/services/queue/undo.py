"""Undoing a call the agent has just recorded: the call is removed and the task given back to
the agent as it was before, under a fresh lease, in one audited transaction.

Only the agent who recorded the call, only shortly after (`UNDO_WINDOW`, never past the
campaign's lease), only while nobody else took the business and no later call was made on it.
An opposition (do-not-call) is final and cannot be undone here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from outreach.db.engine import Database, retry_busy
from outreach.db.models import AuditLog, Business, Call, CallTask, EmailMessage
from outreach.db.security import UNDO_DELETES
from outreach.domain.outcomes import outcome as catalogue_outcome
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.audit import record_audit
from outreach.services.clock import to_db, utcnow
from outreach.services.queue.claim import hold_only
from outreach.services.queue.context import load_context
from outreach.services.queue.record import UNDONE_TASK_COLUMNS
from outreach.services.queue.views import claimed_task
from outreach.services.types import ClaimedTask

UNDO_WINDOW = timedelta(minutes=2)
T, B, C = CallTask.__table__, Business.__table__, Call.__table__
_DATETIMES = {"next_attempt_at", "callback_team_at", "last_call_at"}


def _restored(before: dict[str, object]) -> dict[str, object]:
    out = {}
    for name in UNDONE_TASK_COLUMNS:
        value = before.get(name)
        if name in _DATETIMES and isinstance(value, str):
            value = datetime.fromisoformat(value)
        out[name] = value
    return out


def _remove(session: Connection, call_id: int) -> None:
    """Remove the call and what it recorded (security.UNDO_DELETES). On PostgreSQL through
    outreach_undo_call(): agents may delete nothing themselves; the function checks that the
    caller recorded the call and holds its task again (taken back just before, in this
    transaction) under a live lease."""
    if session.dialect.name != "postgresql":
        for statement in UNDO_DELETES:
            session.execute(text(statement.format(p="", call=":call")), {"call": call_id})
        return
    try:
        session.execute(text("SELECT outreach_undo_call(:call)"), {"call": call_id})
    except DBAPIError as exc:  # the transaction is rolled back: nothing changed
        if getattr(exc.orig, "sqlstate", None) != "42501":
            raise
        raise Forbidden(
            _("la base refuse d'annuler cet appel : il n'est pas à vous ou le bail a expiré")
        ) from None


def undo_call(db: Database, agent_id: int, uuid: str, now: datetime | None = None) -> ClaimedTask:
    """Revert the call `uuid` the agent just recorded and hand its business back to the agent.

    The call, its answers and referrals are deleted; the task and the business get back what
    the call changed (state, attempts, callback, phone flags, status); any other business the
    agent held in the campaign is handed back. Audited as `call.undo`. InvalidInput, NotFound
    or Forbidden, with nothing changed, when the call cannot be undone."""
    at = to_db(now) if now is not None else utcnow()

    def run() -> int:
        with db.write_conn() as session:
            call = session.execute(
                select(
                    C.c.id,
                    C.c.task_id,
                    C.c.agent_id,
                    C.c.campaign_id,
                    C.c.business_id,
                    C.c.outcome,
                    C.c.recorded_at,
                ).where(C.c.uuid == uuid)
            ).first()
            if call is None:
                raise NotFound(_("appel inconnu : {uuid}").format(uuid=uuid))
            if call.agent_id != agent_id:
                raise Forbidden(_("seul le conseiller qui a enregistré l'appel peut l'annuler"))
            if catalogue_outcome(call.outcome).opt_out:
                raise InvalidInput(_("une opposition (ne plus appeler) ne s'annule pas"))
            ctx = load_context(session, agent_id, call.campaign_id)
            window = min(UNDO_WINDOW, timedelta(minutes=ctx.campaign.lease_minutes))
            if call.task_id is None or at - call.recorded_at > window:
                raise InvalidInput(_("trop tard pour annuler cet appel"))
            detail = session.execute(
                select(AuditLog.detail).where(
                    AuditLog.entity == "call",
                    AuditLog.entity_id == str(call.id),
                    AuditLog.action == "call.record",
                )
            ).scalar()
            if not detail or "task_before" not in detail:
                raise InvalidInput(_("cet appel ne peut pas être annulé"))
            task = session.execute(
                select(T.c.id, T.c.claimed_by, T.c.lease_expires_at)
                .where(T.c.id == call.task_id)
                .with_for_update()
            ).one()
            if task.claimed_by not in (None, agent_id) and (
                task.lease_expires_at is not None and task.lease_expires_at > at
            ):
                raise Forbidden(_("un autre conseiller a pris cette entreprise entre-temps"))
            later = session.execute(
                select(C.c.id).where(C.c.task_id == task.id, C.c.id > call.id).limit(1)
            ).first()
            if later is not None:
                raise InvalidInput(_("un autre appel a suivi sur cette fiche"))
            # the business shown since goes back to the queue at once
            hold_only(
                session,
                agent_id,
                call.campaign_id,
                task.id,
                ctx.campaign.lease_until(at),
                at,
                **_restored(detail["task_before"]),
            )
            business_before = detail.get("business_before") or {}
            if business_before:
                session.execute(
                    update(B)
                    .where(B.c.id == call.business_id)
                    .values(**business_before, updated_at=at)
                )
            # an e-mail the call asked for goes with it, unless it has already left
            mails = session.execute(
                select(EmailMessage.state).where(EmailMessage.call_id == call.id)
            ).scalars()
            if any(state != "queued" for state in mails):
                raise InvalidInput(_("l'e-mail de cet appel est déjà parti : appel gardé"))
            _remove(session, call.id)
            record_audit(
                session,
                agent_id=agent_id,
                action="call.undo",
                entity="call",
                entity_id=call.id,
                detail={
                    "uuid": uuid,
                    "task_id": task.id,
                    "business_id": call.business_id,
                    "outcome": call.outcome,
                    "business_restored": business_before,
                },
                at=at,
            )
            return int(task.id)

    task_id = retry_busy(run)
    with db.read_conn() as session:
        return claimed_task(session, task_id)
