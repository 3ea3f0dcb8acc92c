"""Recording a call: the call row, referrals, answers, the task's next state, the audit row and
the release of the lease, in one transaction.

The task's next state comes from the outcome catalogue (`outreach.domain.outcomes`): the effect
(done, retry, next_phone, callback), the business status it sets and the opt-out flag. The call
is always saved, even when the agent's lease was lost; the task then changes only if nobody else
holds it (the holder's own outcome will decide it otherwise). On PostgreSQL most calls are
recorded by a read and one compare-and-set statement with the same rules (see queue.fastpath).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from outreach.db.engine import Database, Executor, is_disconnect_error, retry_busy, unavailable
from outreach.db.models import AuditLog, Business, Call, CallAnswer, CallTask, Referral
from outreach.domain.lifecycle import DECLINED, INITIAL_STATES, state_label
from outreach.domain.outcomes import CALLBACK, DONE, NEXT_PHONE, RETRY, Outcome, UnknownOutcome
from outreach.domain.outcomes import outcome as catalogue_outcome
from outreach.domain.referrals import REFERRAL_KINDS_BY_CODE
from outreach.domain.script import check_answer
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.audit import record_audit
from outreach.services.clock import from_db, to_db, utcnow
from outreach.services.lease import held_by_other
from outreach.services.queue.context import (
    UNFINISHED_STATES,
    CampaignRow,
    QueueContext,
    load_context,
)
from outreach.services.queue.dnc import opt_out
from outreach.services.queue.views import script_of
from outreach.services.referrals import creation_events
from outreach.services.types import CallInput, RecordResult
from outreach.services.verification import PURPOSE as VERIFICATION
from outreach.services.verification import apply_answers

T = CallTask.__table__
B = Business.__table__
MAX_CALLBACK_AHEAD = timedelta(days=366)


def OPT_OUT_REASON() -> str:  # noqa: N802 - a message, translated when used
    return _("opposition exprimée lors d'un appel")


# built once: the SET / VALUES clauses come from the parameters' keys
_UPDATE_TASK = update(T).where(T.c.id == bindparam("task_pk"))
_INSERT_CALL = insert(Call.__table__).returning(Call.__table__.c.id)
_INSERT_REFERRAL = insert(Referral.__table__).returning(
    Referral.__table__.c.id, sort_by_parameter_order=True
)


@dataclass(frozen=True, slots=True)
class _Next:
    state: str
    next_attempt_at: datetime | None = None
    phone_index: int | None = None
    callback_agent_id: int | None = None
    callback_team_at: datetime | None = None


def _outcome(code: str) -> Outcome:
    try:
        return catalogue_outcome(code)
    except UnknownOutcome:
        raise InvalidInput(_("résultat d'appel inconnu : « {code} »").format(code=code)) from None


def _validate(call: CallInput, oc: Outcome, now: datetime) -> datetime | None:
    """Checks that need no database; the callback time as stored (naive UTC)."""
    if not call.uuid or len(call.uuid) > 36:
        raise InvalidInput(_("identifiant d'appel (uuid) manquant ou trop long"))
    if to_db(call.ended_at) < to_db(call.started_at):
        raise InvalidInput(_("fin d'appel avant son début"))
    callback_at = None
    if oc.needs_callback_time:
        if call.callback_at is None:
            raise InvalidInput(_("rappel : indiquez la date et l'heure du rappel"))
        callback_at = to_db(call.callback_at)
        # Judged against the moment the agent recorded it, not the moment the server stores
        # it: a call kept in the outbox while the database was away must still replay.
        decided = min(to_db(call.ended_at), now)
        if callback_at <= decided:
            raise InvalidInput(_("rappel : la date et l'heure sont déjà passées"))
        if callback_at > decided + MAX_CALLBACK_AHEAD:
            raise InvalidInput(_("rappel : date à plus d'un an"))
    if call.referrals and not oc.allows_referrals:
        raise InvalidInput(
            _("orientation impossible avec le résultat « {label} »").format(label=oc.label_fr)
        )
    for ref in call.referrals:
        if ref.kind not in REFERRAL_KINDS_BY_CODE:
            raise InvalidInput(_("type d'orientation inconnu : « {kind} »").format(kind=ref.kind))
        if ref.status not in INITIAL_STATES:
            raise InvalidInput(
                _(
                    "statut d'orientation impossible lors d'un appel : « {status} » (au choix : {valid})"
                ).format(
                    status=ref.status,
                    valid=", ".join(f"{s} ({state_label(s)})" for s in INITIAL_STATES),
                )
            )
        if ref.partner is not None and len(ref.partner) > 120:
            raise InvalidInput(_("partenaire : 120 caractères au plus"))
    for key in call.answers:
        if not key or len(key) > 64:
            raise InvalidInput(_("question du script invalide : « {key} »").format(key=key))
    return callback_at


def _checked_answers(answers: dict[str, str], script: Any) -> dict[str, str]:
    """The answers as stored: each names a question of the campaign's script, and a question
    with listed choices takes one of them (free text only where the question allows it)."""
    questions = {q.key: q for q in script_of(script)}
    out: dict[str, str] = {}
    for key, answer in answers.items():
        question = questions.get(key)
        if question is None:
            raise InvalidInput(
                _("« {key} » n'est pas une question du script de la campagne").format(key=key)
            )
        try:
            out[key] = check_answer(question.choices, question.other, answer)
        except ValueError:
            raise InvalidInput(
                _("question « {key} » : « {answer} » n'est pas un choix ({choices})").format(
                    key=key, answer=answer, choices=" / ".join(question.choices)
                )
            ) from None
    return out


def _next_state(
    oc: Outcome,
    call: CallInput,
    task: Any,
    business: Any,
    campaign: CampaignRow,
    callback_at: datetime | None,
    attempts: int,
    now: datetime,
) -> _Next:
    if oc.effect == DONE:
        follow = any(
            REFERRAL_KINDS_BY_CODE[r.kind].follow_up and r.status != DECLINED
            for r in call.referrals
        )
        return _Next("follow_up" if follow else "done")
    if oc.effect == RETRY:
        if attempts >= campaign.max_attempts:
            return _Next("exhausted")
        return _Next("waiting", next_attempt_at=now + campaign.retry_delay(attempts))
    if oc.effect == NEXT_PHONE:
        if task.phone_index == 0 and business.phone_alt and not business.phone_alt_flagged:
            return _Next("queued", phone_index=1)
        return _Next("exhausted")
    if oc.effect == CALLBACK:
        assert callback_at is not None
        personal = call.callback_personal
        grace = timedelta(minutes=campaign.callback_grace_minutes)
        return _Next(
            "callback",
            next_attempt_at=callback_at,
            callback_agent_id=call.agent_id if personal else None,
            callback_team_at=callback_at + grace if personal else callback_at,
        )
    raise AssertionError(f"effect {oc.effect!r} not handled")


def _replayed(session: Executor, call_id: int, uuid: str) -> RecordResult:
    detail = session.execute(
        select(AuditLog.detail)
        .where(
            AuditLog.entity == "call",
            AuditLog.entity_id == str(call_id),
            AuditLog.action == "call.record",
        )
        .limit(1)
    ).scalar()
    detail = detail or {}
    nxt = detail.get("next_attempt_at")
    return RecordResult(
        call_id=call_id,
        uuid=uuid,
        replayed=True,
        lease_lost=bool(detail.get("lease_lost", False)),
        task_state=detail.get("task_state"),
        next_attempt_at=from_db(datetime.fromisoformat(nxt)) if nxt else None,
    )


_TASK_COLUMNS = (
    T.c.id,
    T.c.campaign_id,
    T.c.business_id,
    T.c.state,
    T.c.attempts,
    T.c.phone_index,
    T.c.next_attempt_at,
    T.c.claimed_by,
    T.c.lease_expires_at,
    T.c.callback_agent_id,
    T.c.callback_team_at,
    T.c.last_outcome,
    T.c.last_call_at,
)
# what recording changes in the task, kept in the audit row so that an undo can put it back
UNDONE_TASK_COLUMNS = (
    "state",
    "attempts",
    "phone_index",
    "next_attempt_at",
    "callback_agent_id",
    "callback_team_at",
    "last_outcome",
    "last_call_at",
)
_BUSINESS_COLUMNS = (
    B.c.id.label("b_id"),
    B.c.name.label("b_name"),
    B.c.chamber_id.label("b_chamber_id"),
    B.c.department.label("b_department"),
    B.c.phone.label("b_phone"),
    B.c.phone_alt.label("b_phone_alt"),
    B.c.phone_flagged.label("b_phone_flagged"),
    B.c.phone_alt_flagged.label("b_phone_alt_flagged"),
    B.c.status.label("b_status"),
    B.c.do_not_call.label("b_do_not_call"),
)


@cache
def _task_stmt(by_id: bool, pg: bool) -> Select[*tuple[Any, ...]]:
    """The task (locked on PostgreSQL) with its business: one round trip. Without a task id,
    the business outer-joined to its task in the campaign (it may not be in it yet)."""
    if by_id:
        stmt = (
            select(*_TASK_COLUMNS, *_BUSINESS_COLUMNS)
            .select_from(T.join(B, B.c.id == T.c.business_id))
            .where(T.c.id == bindparam("task"))
        )
        return stmt.with_for_update(of=T) if pg else stmt
    stmt = (
        select(*_TASK_COLUMNS, *_BUSINESS_COLUMNS)
        .select_from(
            B.outerjoin(
                T, and_(T.c.business_id == B.c.id, T.c.campaign_id == bindparam("campaign"))
            )
        )
        .where(B.c.id == bindparam("business"))
    )
    return stmt.with_for_update(of=B) if pg else stmt


@dataclass(frozen=True, slots=True)
class _Business:
    id: int
    name: str
    chamber_id: int
    department: str
    phone: str | None
    phone_alt: str | None
    phone_flagged: bool
    phone_alt_flagged: bool
    status: str
    do_not_call: bool


def business_changes(oc: Outcome, business: Any, dialled: str | None) -> dict[str, Any]:
    """What the outcome changes in the business: the dialled number flagged (other phone), the
    status it sets (ceased); the opt-out is `opt_out`'s."""
    values: dict[str, Any] = {}
    if oc.effect == NEXT_PHONE and dialled:
        if dialled == business.phone:
            values["phone_flagged"] = True
        elif dialled == business.phone_alt:
            values["phone_alt_flagged"] = True
    if oc.business_status and business.status != oc.business_status:
        values["status"] = oc.business_status
    return values


def dialled_number(call: CallInput, task: Any, business: Any) -> str | None:
    """The number called: the one the agent says, else the task's current one."""
    return call.phone or (
        business.phone_alt if task.phone_index == 1 and business.phone_alt else business.phone
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _record(
    session: Executor, call: CallInput, now: datetime, pg: bool, ctx: QueueContext | None = None
) -> RecordResult:
    if ctx is None:
        ctx = load_context(session, call.agent_id, call.campaign_id, call.uuid)
    if ctx.existing_call is not None:
        return _replayed(session, ctx.existing_call, call.uuid)
    oc = _outcome(call.outcome)
    callback_at = _validate(call, oc, now)
    answers = _checked_answers(call.answers, ctx.script) if call.answers else {}
    agent, campaign, chamber = ctx.agent, ctx.campaign, ctx.chamber_id
    by_id = call.task_id is not None
    row = session.execute(
        _task_stmt(by_id, pg),
        {"business": call.business_id, "task": call.task_id, "campaign": campaign.id},
    ).first()
    if row is None:
        if by_id:
            raise NotFound(_("tâche inconnue : n° {id}").format(id=call.task_id))
        raise NotFound(_("entreprise inconnue : n° {id}").format(id=call.business_id))
    if by_id and (row.campaign_id != campaign.id or row.business_id != call.business_id):
        raise InvalidInput(
            _("la tâche n° {id} ne correspond pas à cette campagne et cette entreprise").format(
                id=call.task_id
            )
        )
    business = _Business(
        row.b_id,
        row.b_name,
        row.b_chamber_id,
        row.b_department,
        row.b_phone,
        row.b_phone_alt,
        bool(row.b_phone_flagged),
        bool(row.b_phone_alt_flagged),
        row.b_status,
        bool(row.b_do_not_call),
    )
    if chamber is not None and business.chamber_id != chamber:
        raise Forbidden(
            _("« {name} » n'est pas dans le périmètre de votre chambre").format(name=business.name)
        )
    task: Any = row if row.id is not None else None
    if task is None:
        # A call on a business not yet in the campaign (an inbound call found by search).
        task_id = session.execute(
            insert(T)
            .values(
                campaign_id=campaign.id,
                business_id=business.id,
                chamber_id=business.chamber_id,
                department=business.department,
                state="queued",
                created_at=now,
                updated_at=now,
            )
            .returning(T.c.id)
        ).scalar_one()
        task = session.execute(select(*_TASK_COLUMNS).where(T.c.id == task_id)).one()
    elif pg and not by_id:
        task = session.execute(
            select(*_TASK_COLUMNS).where(T.c.id == task.id).with_for_update()
        ).one()

    task_before = {name: _jsonable(getattr(task, name)) for name in UNDONE_TASK_COLUMNS}
    holds = task.claimed_by == agent.id
    other_holds = held_by_other(task.claimed_by, task.lease_expires_at, agent.id, now)
    # Lost: the agent had claimed this task (it names it) but no longer holds it.
    lease_lost = call.task_id is not None and not holds
    attempts = task.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_outcome": oc.code,
        "last_call_at": now,
        "updated_at": now,
    }
    apply = holds or (not other_holds and task.state in UNFINISHED_STATES)
    new_state = task.state
    next_at = task.next_attempt_at
    if apply:
        nxt = _next_state(oc, call, task, business, campaign, callback_at, attempts, now)
        new_state, next_at = nxt.state, nxt.next_attempt_at
        values.update(
            state=nxt.state,
            next_attempt_at=nxt.next_attempt_at,
            callback_agent_id=nxt.callback_agent_id,
            callback_team_at=nxt.callback_team_at,
            claimed_by=None,
            claimed_at=None,
            lease_expires_at=None,
        )
        if nxt.phone_index is not None:
            values["phone_index"] = nxt.phone_index
    session.execute(_UPDATE_TASK, {"task_pk": task.id, **values})

    dialled = dialled_number(call, task, business)
    biz_values = business_changes(oc, business, dialled)
    business_before = {name: getattr(business, name) for name in biz_values if name != "updated_at"}
    if biz_values:
        biz_values["updated_at"] = now
        session.execute(update(B).where(B.c.id == business.id).values(**biz_values))
        record_audit(
            session,
            agent_id=agent.id,
            action="business.update",
            entity="business",
            entity_id=business.id,
            detail={
                "via": "call",
                "uuid": call.uuid,
                **{k: v for k, v in biz_values.items() if k != "updated_at"},
            },
            at=now,
        )

    call_id = session.execute(
        _INSERT_CALL,
        {
            "uuid": call.uuid,
            "task_id": task.id,
            "campaign_id": campaign.id,
            "business_id": business.id,
            "agent_id": agent.id,
            "chamber_id": business.chamber_id,
            "phone": dialled,
            "started_at": to_db(call.started_at),
            "ended_at": to_db(call.ended_at),
            "outcome": oc.code,
            "reached": oc.reached,
            "notes": (call.notes or None),
            "callback_at": callback_at,
            "lease_lost": lease_lost,
            "recorded_at": now,
        },
    ).scalar_one()
    if call.referrals:
        ref_ids = session.execute(
            _INSERT_REFERRAL,
            [
                {
                    "call_id": call_id,
                    "business_id": business.id,
                    "kind": r.kind,
                    "partner": r.partner,
                    "status": r.status,
                    "notes": r.notes,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in call.referrals
            ],
        ).scalars()
        creation_events(
            session,
            [(int(rid), r.status) for rid, r in zip(ref_ids, call.referrals, strict=True)],
            agent.id,
            now,
        )
    email = None
    if any(r.email for r in call.referrals):
        from outreach.services.mail.queueing import queue_referral_email  # only when asked

        email = queue_referral_email(
            session,
            business_id=business.id,
            call_id=call_id,
            agent_id=agent.id,
            referrals=[(r.kind, r.partner) for r in call.referrals],
            now=now,
        )
    if answers:
        session.execute(
            insert(CallAnswer.__table__),
            [{"call_id": call_id, "question": k, "answer": v} for k, v in answers.items()],
        )
    if campaign.purpose == VERIFICATION and call.answers:
        apply_answers(session, business.id, call.answers, now, agent.id, call.uuid)
    if oc.opt_out and not business.do_not_call:
        opt_out(
            session,
            business.id,
            agent.id,
            now,
            reason=OPT_OUT_REASON(),
            keep_task_id=task.id,
        )
    record_audit(
        session,
        agent_id=agent.id,
        action="call.record",
        entity="call",
        entity_id=call_id,
        detail={
            "uuid": call.uuid,
            "task_id": task.id,
            "outcome": oc.code,
            "task_state": new_state,
            "next_attempt_at": next_at.isoformat() if next_at else None,
            "lease_lost": lease_lost,
            "task_before": task_before,
            "business_before": business_before,
        },
        at=now,
    )
    return RecordResult(
        call_id=int(call_id),
        uuid=call.uuid,
        replayed=False,
        lease_lost=lease_lost,
        task_state=new_state,
        next_attempt_at=from_db(next_at),
        email_to=email.to if email and email.queued else None,
        email_refused=email.reason if email else None,
    )


def record_call(db: Database, call: CallInput, now: datetime | None = None) -> RecordResult:
    """Save a call and apply its outcome, in one transaction (see the module's docstring).

    Replaying a uuid already stored changes nothing and returns the first result
    (`replayed=True`). Bad input raises InvalidInput/NotFound/Forbidden with nothing written.
    SQLite busy is retried here; a lost PostgreSQL connection rolls back and raises
    DatabaseUnavailable, and the same call can be replayed.
    """
    at = to_db(now) if now is not None else utcnow()

    def run() -> RecordResult:
        ctx = None
        if db.is_sqlite:
            # SQLite has one writer at a time: agent, campaign and replay check are read before
            # the write lock (a replay racing in between hits the uuid's unique index and is
            # then read as a replay)
            with db.read_conn() as session:
                ctx = load_context(session, call.agent_id, call.campaign_id, call.uuid)
                if ctx.existing_call is not None:
                    return _replayed(session, ctx.existing_call, call.uuid)
        with db.write_conn() as session:
            return _record(session, call, at, db.is_postgresql, ctx)

    def run_once_more_on_race() -> RecordResult:
        try:
            if db.is_postgresql:  # most calls: two statements (see queue.fastpath)
                from outreach.services.queue.fastpath import record_fast

                fast = record_fast(db, call, at)
                if fast is not None:
                    return fast
            return run()
        except IntegrityError:
            # the same uuid stored by a concurrent replay: this is now a replay
            return run()

    try:
        return retry_busy(run_once_more_on_race)
    except OperationalError as exc:
        if is_disconnect_error(exc):
            raise unavailable(db, exc) from None
        raise
