"""Claiming a task under a lease, renewing the lease, handing a task back, taking a given task.

The claim is one statement. It picks, in this order, the first task that exists:
1. the task this agent already holds in the campaign (a second claim returns the same task),
2. the agent's own callbacks that are due,
3. team callbacks that are due (team callbacks, and personal ones past their grace period),
4. queued tasks due now: higher priority first, then fewest attempts, then oldest (lowest id).
Every candidate is in the agent's scope (own chamber, unless `works_every_chamber`), in a
département whose calling window is open now, not held under a live lease, and of a business
neither opted out (do-not-call) nor ceased. PostgreSQL: `FOR UPDATE SKIP LOCKED` in each
candidate subquery; SQLite: the same UPDATE ... RETURNING inside BEGIN IMMEDIATE.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, true, update
from sqlalchemy.orm import Session

from outreach.db.engine import Database, retry_busy
from outreach.db.models import Business, Call, CallTask
from outreach.domain.windows import open_departments
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.audit import record_audit
from outreach.services.clock import from_db, to_db, utcnow
from outreach.services.queue.context import OPEN_STATES, QueueContext, load_context
from outreach.services.queue.views import claimed_task
from outreach.services.types import ClaimedTask

T = CallTask.__table__
B = Business.__table__
CAP_WINDOW = timedelta(days=30)
DEFAULT_SKIP_MINUTES = 10
_MAX_CAP_SKIPS = 20


def _now(now: datetime | None) -> datetime:
    return to_db(now) if now is not None else utcnow()


def _callable_business() -> ColumnElement[bool]:
    return ~exists().where(
        B.c.id == T.c.business_id, or_(B.c.do_not_call == true(), B.c.status == "ceased")
    )


def claim_statement(ctx: QueueContext, now: datetime, pg: bool):  # type: ignore[no-untyped-def]
    """The one UPDATE ... RETURNING that claims the next task for `ctx` (None: nothing)."""
    agent_id, campaign = ctx.agent.id, ctx.campaign
    mine = (
        select(T.c.id)
        .where(T.c.campaign_id == campaign.id, T.c.claimed_by == agent_id)
        .where(T.c.state.in_(OPEN_STATES))
        .limit(1)
    )
    candidates = [mine.with_for_update() if pg else mine]
    departments = open_departments(campaign.window, now)
    if campaign.status == "active" and departments:
        common = [
            T.c.campaign_id == campaign.id,
            or_(T.c.lease_expires_at.is_(None), T.c.lease_expires_at <= now),
            _callable_business(),
        ]
        if len(departments) < 101:
            common.append(T.c.department.in_(sorted(departments)))
        scoped = [] if ctx.chamber_id is None else [T.c.chamber_id == ctx.chamber_id]
        own = (
            select(T.c.id)
            .where(*common, T.c.state == "callback", T.c.callback_agent_id == agent_id)
            .where(T.c.next_attempt_at <= now)
            .order_by(T.c.next_attempt_at, T.c.id)
            .limit(1)
        )
        team = (
            select(T.c.id)
            .where(*common, *scoped, T.c.state == "callback", T.c.callback_team_at <= now)
            .order_by(T.c.next_attempt_at, T.c.id)
            .limit(1)
        )
        queued = (
            select(T.c.id)
            .where(*common, *scoped, T.c.state == "queued")
            .where(or_(T.c.next_attempt_at.is_(None), T.c.next_attempt_at <= now))
            .order_by(T.c.priority.desc(), T.c.attempts, T.c.id)
            .limit(1)
        )
        for q in (own, team, queued):
            candidates.append(q.with_for_update(skip_locked=True) if pg else q)
    pick = func.coalesce(*(c.scalar_subquery() for c in candidates))
    return (
        update(T)
        .where(T.c.id == pick)
        .values(
            claimed_by=agent_id,
            claimed_at=now,
            lease_expires_at=campaign.lease_until(now),
            updated_at=now,
        )
        .returning(T.c.id, T.c.business_id, T.c.state)
    )


def cap_reached_until(
    session: Session, business_id: int, cap: int, now: datetime
) -> datetime | None:
    """When the business may next be called under the rolling 30-day cap (None: it may now).

    The cap counts every call to the business, in every campaign, started in the last 30 days.
    """
    if cap <= 0:
        return None
    recent = (
        session.execute(
            select(Call.started_at)
            .where(Call.business_id == business_id, Call.started_at > now - CAP_WINDOW)
            .order_by(Call.started_at.desc())
            .limit(cap)
        )
        .scalars()
        .all()
    )
    if len(recent) < cap:
        return None
    return recent[cap - 1] + CAP_WINDOW


def _claim(
    session: Session, agent_id: int, campaign_id: int, now: datetime, pg: bool
) -> int | None:
    ctx = load_context(session, agent_id, campaign_id)
    stmt = claim_statement(ctx, now, pg)
    for _attempt in range(_MAX_CAP_SKIPS):
        row = session.execute(stmt).first()
        if row is None:
            return None
        # Callbacks were asked for by the business: the 30-day cap applies to the queue only.
        if row.state != "queued":
            return int(row.id)
        until = cap_reached_until(session, row.business_id, ctx.campaign.max_attempts_30d, now)
        if until is None:
            return int(row.id)
        session.execute(
            update(T)
            .where(T.c.id == row.id)
            .values(claimed_by=None, claimed_at=None, lease_expires_at=None, next_attempt_at=until)
        )
    return None


def claim_next(
    db: Database, agent_id: int, campaign_id: int, now: datetime | None = None
) -> ClaimedTask | None:
    """The next business for the agent in the campaign, held under a lease; None when nothing
    can be claimed now (ask `why_empty`). An agent holding a task here gets that task back."""
    at = _now(now)

    def run() -> int | None:
        with db.writing() as session:
            return _claim(session, agent_id, campaign_id, at, db.is_postgresql)

    task_id = retry_busy(run)
    if task_id is None:
        return None
    with db.reading() as session:
        return claimed_task(session, task_id)


def renew_lease(
    db: Database, agent_id: int, task_id: int, now: datetime | None = None
) -> datetime | None:
    """Extend the agent's lease on the task; the new expiry (aware UTC), or None when the lease
    is lost (another agent took the task, it was released or finished)."""
    at = _now(now)

    def run() -> datetime | None:
        with db.writing() as session:
            lease = session.execute(
                select(CallTask.campaign_id).where(CallTask.id == task_id)
            ).scalar()
            if lease is None:
                return None
            from outreach.services.queue.context import load_campaign

            campaign = load_campaign(session, lease)
            until = campaign.lease_until(at)
            row = session.execute(
                update(T)
                .where(T.c.id == task_id, T.c.claimed_by == agent_id)
                .where(T.c.state.in_(OPEN_STATES))
                .values(lease_expires_at=until)
                .returning(T.c.lease_expires_at)
            ).first()
            return None if row is None else from_db(row[0])

    return retry_busy(run)


def release_task(
    db: Database,
    agent_id: int,
    task_id: int,
    reason: str,
    *,
    delay_minutes: int = DEFAULT_SKIP_MINUTES,
    now: datetime | None = None,
) -> bool:
    """Hand a held task back with a reason (audited). It returns to the queue after
    `delay_minutes` (default 10, so a skipped business is not offered again at once; 0 for
    at once). False when the agent did not hold it (nothing changed)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("motif obligatoire pour rendre une entreprise"))
    if delay_minutes < 0:
        raise InvalidInput(_("délai négatif : {n} minutes").format(n=delay_minutes))
    at = _now(now)

    def run() -> bool:
        with db.writing() as session:
            row = session.execute(
                update(T)
                .where(T.c.id == task_id, T.c.claimed_by == agent_id)
                .values(
                    claimed_by=None,
                    claimed_at=None,
                    lease_expires_at=None,
                    next_attempt_at=func.coalesce(
                        T.c.next_attempt_at, at + timedelta(minutes=delay_minutes)
                    )
                    if delay_minutes
                    else T.c.next_attempt_at,
                    updated_at=at,
                )
                .returning(T.c.id, T.c.state, T.c.next_attempt_at)
            ).first()
            if row is None:
                return False
            if row.state == "queued" and delay_minutes:
                later = at + timedelta(minutes=delay_minutes)
                if row.next_attempt_at is None or row.next_attempt_at < later:
                    session.execute(
                        update(T).where(T.c.id == task_id).values(next_attempt_at=later)
                    )
            record_audit(
                session,
                agent_id=agent_id,
                action="task.release",
                entity="call_task",
                entity_id=task_id,
                detail={"reason": reason, "delay_minutes": delay_minutes},
                at=at,
            )
            return True

    return retry_busy(run)


def _take(
    session: Session,
    agent_id: int,
    campaign_id: int,
    task_id: int | None,
    business_id: int | None,
    now: datetime,
) -> int:
    ctx = load_context(session, agent_id, campaign_id)
    if task_id is not None:
        cond = T.c.id == task_id
    elif business_id is not None:
        cond = and_(T.c.campaign_id == campaign_id, T.c.business_id == business_id)
    else:
        raise InvalidInput(_("indiquez la tâche ou l'entreprise à prendre"))
    task = session.execute(select(T).where(cond).with_for_update()).first()
    if task is None and task_id is not None:
        raise NotFound(_("tâche inconnue : n° {id}").format(id=task_id))
    if task is not None and task.campaign_id != campaign_id:
        raise InvalidInput(
            _("la tâche n° {id} n'est pas dans la campagne « {name} »").format(
                id=task.id, name=ctx.campaign.name
            )
        )
    bid = business_id if task is None else task.business_id
    biz = session.execute(
        select(B.c.id, B.c.name, B.c.chamber_id, B.c.department, B.c.do_not_call).where(
            B.c.id == bid
        )
    ).first()
    if biz is None:
        raise NotFound(_("entreprise inconnue : n° {id}").format(id=bid))
    if ctx.chamber_id is not None and biz.chamber_id != ctx.chamber_id:
        raise Forbidden(
            _("« {name} » n'est pas dans le périmètre de votre chambre").format(name=biz.name)
        )
    if biz.do_not_call:
        raise Forbidden(
            _("« {name} » s'est opposée aux appels (ne plus appeler)").format(name=biz.name)
        )
    if task is None:
        # An inbound call from a business not yet in the campaign: it joins the campaign.
        new_id = session.execute(
            insert(T)
            .values(
                campaign_id=campaign_id,
                business_id=biz.id,
                chamber_id=biz.chamber_id,
                department=biz.department,
                state="queued",
                claimed_by=agent_id,
                claimed_at=now,
                lease_expires_at=ctx.campaign.lease_until(now),
                created_at=now,
                updated_at=now,
            )
            .returning(T.c.id)
        ).scalar_one()
        record_audit(
            session,
            agent_id=agent_id,
            action="task.create",
            entity="call_task",
            entity_id=new_id,
            detail={"campaign_id": campaign_id, "business_id": biz.id, "via": "take"},
            at=now,
        )
        return int(new_id)
    held = task.claimed_by not in (None, agent_id) and (
        task.lease_expires_at is not None and task.lease_expires_at > now
    )
    if held:
        raise Forbidden(
            _("« {name} » est en cours de traitement par un autre conseiller").format(name=biz.name)
        )
    # An agent holds one task per campaign: taking this one hands back any other.
    session.execute(
        update(T)
        .where(T.c.campaign_id == campaign_id, T.c.claimed_by == agent_id, T.c.id != task.id)
        .values(claimed_by=None, claimed_at=None, lease_expires_at=None)
    )
    session.execute(
        update(T)
        .where(T.c.id == task.id)
        .values(
            claimed_by=agent_id,
            claimed_at=now,
            lease_expires_at=ctx.campaign.lease_until(now),
            updated_at=now,
        )
    )
    return int(task.id)


def take_task(
    db: Database,
    agent_id: int,
    campaign_id: int,
    task_id: int | None = None,
    business_id: int | None = None,
    now: datetime | None = None,
) -> ClaimedTask:
    """Claim a given task (a callback from `my_callbacks`), or a business found by search (an
    inbound call). A business not yet in the campaign is added to it (audited). Refused when
    another agent holds it, when the business opted out, or outside the agent's chamber. Any
    other task the agent held in the campaign is handed back. Windows do not apply: the agent
    chose this business (an inbound call is answered whenever it comes)."""
    at = _now(now)

    def run() -> int:
        with db.writing() as session:
            return _take(session, agent_id, campaign_id, task_id, business_id, at)

    tid = retry_busy(run)
    with db.reading() as session:
        return claimed_task(session, tid)
