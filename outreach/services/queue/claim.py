"""Claiming a task under a lease, renewing the lease, handing a task back, taking a given task.

The claim is one statement. It picks, in this order, the first task that exists:
1. the task this agent already holds in the campaign (a second claim returns the same task),
2. the agent's own callbacks that are due,
3. team callbacks that are due (team callbacks, and personal ones past their grace period),
4. queued tasks: higher priority first, then fewest attempts, then oldest (lowest id).
Tasks waiting for a later attempt (retry delay, 30-day cap, handed back) are in the state
"waiting", outside the queued range the claim walks: the claim first makes the campaign's
waiting tasks that are due "queued" again (`_wake`: found through ix_call_tasks_due, at most
WAKE_BATCH a claim, oldest due first), so however many wait, the claim never steps over them.
Every candidate is in the agent's scope (own chamber, unless `works_every_chamber`), in a
département whose calling window is open now, not held under a live lease, and of a business
neither opted out (do-not-call) nor ceased. PostgreSQL: `FOR UPDATE SKIP LOCKED` in each
candidate subquery; SQLite: the same UPDATE ... RETURNING inside BEGIN IMMEDIATE. On PostgreSQL
the claim and the call screen's reads are two statements outside any transaction (see
queue.fastpath).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    String,
    Update,
    and_,
    any_,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningUpdate

from outreach.db.engine import Database, Executor, retry_busy
from outreach.db.models import Business, CallTask
from outreach.domain.geography import DEPARTMENTS
from outreach.domain.windows import open_departments
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.audit import record_audit
from outreach.services.clock import from_db, to_db, utcnow
from outreach.services.lease import held_by_other, lease_free
from outreach.services.queue.context import (
    OPEN_STATES,
    QueueContext,
    load_context,
    queued_state,
)
from outreach.services.queue.views import claimed_task
from outreach.services.types import ClaimedTask, HistoryItem

T = CallTask.__table__
B = Business.__table__
CAP_WINDOW = timedelta(days=30)
DEFAULT_SKIP_MINUTES = 10
# waiting tasks made queued by one claim: bounds the claim's cost when many come due at once (the
# first claims of a morning); each later claim wakes the next ones
WAKE_BATCH = 200
_MAX_CAP_SKIPS = 20
ALL_DEPARTMENTS = frozenset(d.code for d in DEPARTMENTS)
DEPARTMENTS_OF_CHAMBER: dict[str, frozenset[str]] = {
    chamber: frozenset(d.code for d in DEPARTMENTS if d.chamber == chamber)
    for chamber in {d.chamber for d in DEPARTMENTS}
}


def _now(now: datetime | None) -> datetime:
    return to_db(now) if now is not None else utcnow()


_NB = B.alias("nb")


def const(value: str | int) -> Any:
    """A constant written into the statement, not bound: PostgreSQL plans a prepared statement
    once (its generic plan) only when it knows the LIMITs and states; with them as parameters
    it plans again at every execution (about 1 ms per claim)."""
    return literal_column(repr(value) if isinstance(value, str) else str(int(value)))


ONE = const(1)


def _callable_business(c: Any) -> ColumnElement[bool]:
    return ~exists().where(
        _NB.c.id == c.business_id, or_(_NB.c.do_not_call == true(), _NB.c.status == const("ceased"))
    )


@lru_cache(maxsize=64)
def claim_pick(pg: bool, queue_open: bool, scoped: bool, windowed: bool) -> ColumnElement[Any]:
    """The id of the task to claim, for one shape of request (see the module's docstring)."""
    c = T.alias("c").c  # short aliases: psycopg caches the parsing of statements up to 4 kB
    agent: BindParameter[int] = bindparam("agent")
    campaign: BindParameter[int] = bindparam("campaign")
    now: BindParameter[datetime] = bindparam("now")
    mine = (
        select(c.id)
        .where(c.campaign_id == campaign, c.claimed_by == agent)
        .where(c.state.in_([const(s) for s in OPEN_STATES]))
        .limit(ONE)
    )
    candidates = [mine.with_for_update() if pg else mine]
    if queue_open:
        common = [
            c.campaign_id == campaign,
            lease_free(c.lease_expires_at, now),
            _callable_business(c),
        ]
        if windowed and pg:  # one statement text whatever the départements (prepared once)
            # imported here: the PostgreSQL dialect costs ~40 ms to import, on SQLite for nothing
            from sqlalchemy.dialects.postgresql import ARRAY

            common.append(c.department == any_(bindparam("departments", type_=ARRAY(String))))
        elif windowed:
            common.append(c.department.in_(bindparam("departments", expanding=True)))
        scope = [c.chamber_id == bindparam("chamber")] if scoped else []
        own = (
            select(c.id)
            .where(*common, c.state == const("callback"), c.callback_agent_id == agent)
            .where(c.next_attempt_at <= now)
            .order_by(c.next_attempt_at, c.id)
            .limit(ONE)
        )
        team = (
            select(c.id)
            .where(*common, *scope, c.state == const("callback"), c.callback_team_at <= now)
            .where(c.next_attempt_at <= now)
            .order_by(c.next_attempt_at, c.id)
            .limit(ONE)
        )
        queued = (
            select(c.id)
            .where(*common, *scope, c.state == const("queued"))
            .where(or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now))
            .order_by(c.priority.desc(), c.attempts, c.id)
            .limit(ONE)
        )
        for q in (own, team, queued):
            candidates.append(q.with_for_update(skip_locked=True) if pg else q)
    subqueries = [q.scalar_subquery() for q in candidates]
    return subqueries[0] if len(subqueries) == 1 else func.coalesce(*subqueries)


def claim_update(pick: Any) -> Update:
    """The UPDATE that puts the task `pick` under the agent's lease."""
    now: BindParameter[datetime] = bindparam("now")
    return (
        update(T)
        .where(T.c.id == pick)
        .values(
            claimed_by=bindparam("agent"),
            claimed_at=now,
            lease_expires_at=bindparam("lease"),
            updated_at=now,
        )
    )


@lru_cache(maxsize=64)
def _claim_stmt(
    pg: bool, queue_open: bool, scoped: bool, windowed: bool
) -> ReturningUpdate[int, int, str]:
    """The claim for one shape of request, built once (values are bound parameters)."""
    return claim_update(claim_pick(pg, queue_open, scoped, windowed)).returning(
        T.c.id, T.c.business_id, T.c.state
    )


@lru_cache(maxsize=2)
def _wake_stmt(pg: bool) -> Update:
    """Due waiting tasks of a campaign made queued (oldest due first, WAKE_BATCH at most)."""
    w = T.alias("w").c
    due = (
        select(w.id)
        .where(
            w.campaign_id == bindparam("campaign"),
            w.state == const("waiting"),
            w.next_attempt_at <= bindparam("now"),
        )
        .order_by(w.next_attempt_at)
        .limit(const(WAKE_BATCH))
    )
    if pg:  # two claims waking at once do not wait for each other
        due = due.with_for_update(skip_locked=True)
    return update(T).where(T.c.id.in_(due.scalar_subquery())).values(state=const("queued"))


def wake_due(session: Executor, campaign_id: int, now: datetime, pg: bool) -> None:
    """Make the campaign's waiting tasks that are due at `now` queued again (see above)."""
    session.execute(_wake_stmt(pg), {"campaign": campaign_id, "now": now})


def claim_statement(ctx: QueueContext, now: datetime, pg: bool) -> tuple[Any, dict[str, Any]]:
    """The one UPDATE ... RETURNING that claims the next task for `ctx`, and its parameters."""
    shape, params = claim_shape(ctx, now)
    return _claim_stmt(pg, *shape), params


def claim_shape(ctx: QueueContext, now: datetime) -> tuple[tuple[bool, bool, bool], dict[str, Any]]:
    """The shape of the claim for `ctx` now (queue open, scoped to a chamber, windowed to the
    départements open now) and its parameters."""
    campaign = ctx.campaign
    # the départements the agent works here, and those of them open now
    if ctx.chamber_id is None:
        scope = ALL_DEPARTMENTS
    else:
        code = campaign.chamber_code if campaign.chamber_id is not None else ctx.agent.chamber_code
        scope = DEPARTMENTS_OF_CHAMBER.get(code or "", frozenset())
    departments = open_departments(campaign.window, now) & scope
    queue_open = campaign.status == "active" and bool(departments)
    windowed = departments != scope
    params: dict[str, Any] = {
        "agent": ctx.agent.id,
        "campaign": campaign.id,
        "now": now,
        "lease": campaign.lease_until(now),
    }
    if queue_open and windowed:
        params["departments"] = sorted(departments)
    if ctx.chamber_id is not None:
        params["chamber"] = ctx.chamber_id
    return (queue_open, ctx.chamber_id is not None, windowed), params


def cap_reached_until(history: tuple[HistoryItem, ...], cap: int, now: datetime) -> datetime | None:
    """When the business may next be called under the rolling 30-day cap (None: it may now).

    The cap counts every call to the business, in every campaign, started in the last 30 days;
    `history` is the business's latest calls, newest first (as the claimed task carries them).
    """
    if cap <= 0:
        return None
    since = from_db(now - CAP_WINDOW)
    assert since is not None
    recent = [h.started_at for h in history if h.started_at > since]
    if len(recent) < cap:
        return None
    return to_db(recent[cap - 1] + CAP_WINDOW)


def _claim_once(
    db: Database, agent_id: int, campaign_id: int, now: datetime
) -> tuple[ClaimedTask, int] | None:
    pg = db.is_postgresql
    if pg:  # two statements, no transaction round trips (see queue.fastpath)
        from outreach.services.queue.fastpath import claim_once

        return retry_busy(lambda: claim_once(db, agent_id, campaign_id, now))

    def run() -> tuple[ClaimedTask, int] | None:
        if not pg:
            # SQLite has one writer at a time: read the agent and campaign before taking the
            # write lock, so the lock is held for the claim statement alone
            with db.read_conn() as session:
                ctx = load_context(session, agent_id, campaign_id)
        with db.write_conn() as session:
            if pg:
                ctx = load_context(session, agent_id, campaign_id)
            if ctx.campaign.status == "active":
                wake_due(session, campaign_id, now, pg)
            stmt, params = claim_statement(ctx, now, pg)
            row = session.execute(stmt, params).first()
            if row is None:
                return None
            if pg:  # reads in the same transaction: one round trip less
                return claimed_task(session, row.id), ctx.campaign.max_attempts_30d
        # SQLite: read once the write lock is released
        with db.read_conn() as session:
            return claimed_task(session, row.id), ctx.campaign.max_attempts_30d

    return retry_busy(run)


def claim_next(
    db: Database, agent_id: int, campaign_id: int, now: datetime | None = None
) -> ClaimedTask | None:
    """The next business for the agent in the campaign, held under a lease; None when nothing
    can be claimed now (ask `why_empty`). An agent holding a task here gets that task back.

    A queued business already called as often as the campaign's 30-day cap allows (in any
    campaign) is put back to wait ("waiting"), due when the oldest of those calls is 30 days
    old, and the claim goes on to the next one. Callbacks, asked for by the business, are exempt.
    """
    at = _now(now)
    for _attempt in range(_MAX_CAP_SKIPS):
        got = _claim_once(db, agent_id, campaign_id, at)
        if got is None:
            return None
        task, cap = got
        until = None if task.is_callback else cap_reached_until(task.history, cap, at)
        if until is None:
            return task

        def push(task_id: int = task.task_id, until: datetime = until) -> None:
            with db.write_conn() as session:
                session.execute(
                    update(T)
                    .where(T.c.id == task_id, T.c.claimed_by == agent_id)
                    .values(
                        state="waiting",
                        claimed_by=None,
                        claimed_at=None,
                        lease_expires_at=None,
                        next_attempt_at=until,
                    )
                )

        retry_busy(push)
    return None


def renew_lease(
    db: Database, agent_id: int, task_id: int, now: datetime | None = None
) -> datetime | None:
    """Extend the agent's lease on the task; the new expiry (aware UTC), or None when the lease
    is lost (another agent took the task, it was released or finished)."""
    at = _now(now)

    def run() -> datetime | None:
        with db.write_conn() as session:
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


def release_all(session: Session, agent_id: int, at: datetime) -> list[int]:
    """In the caller's transaction: every task `agent_id` holds goes back to the queue at once,
    as the lease's expiry would have returned it (an admin disabling them). The tasks' ids."""
    released = session.execute(
        update(T)
        .where(T.c.claimed_by == agent_id)
        .values(claimed_by=None, claimed_at=None, lease_expires_at=None, updated_at=at)
        .returning(T.c.id)
    ).all()
    return sorted(int(r[0]) for r in released)


def release_task(
    db: Database,
    agent_id: int,
    task_id: int,
    reason: str,
    *,
    delay_minutes: int = DEFAULT_SKIP_MINUTES,
    now: datetime | None = None,
    note: str | None = None,
) -> bool:
    """Hand a held task back with a reason (audited, with the adviser's `note` if any). It
    returns to the queue after `delay_minutes` (default 10, so a skipped business is not
    offered again at once; 0 for at once). False when the agent did not hold it (nothing
    changed)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("motif obligatoire pour rendre une entreprise"))
    if delay_minutes < 0:
        raise InvalidInput(_("délai négatif : {n} minutes").format(n=delay_minutes))
    at = _now(now)

    def run() -> bool:
        with db.write_conn() as session:
            held = session.execute(
                select(T.c.next_attempt_at, T.c.state)
                .where(T.c.id == task_id, T.c.claimed_by == agent_id)
                .with_for_update()
            ).first()
            if held is None:
                return False
            # a skipped business (or callback) waits `delay_minutes` before it is offered again
            later = at + timedelta(minutes=delay_minutes)
            due = held.next_attempt_at
            if delay_minutes and (due is None or due < later):
                due = later
            # a queued task handed back waits for its due time; a callback stays a callback
            state = queued_state(due, at) if held.state in ("queued", "waiting") else held.state
            session.execute(
                update(T)
                .where(T.c.id == task_id)
                .values(
                    state=state,
                    claimed_by=None,
                    claimed_at=None,
                    lease_expires_at=None,
                    next_attempt_at=due,
                    updated_at=at,
                )
            )
            record_audit(
                session,
                agent_id=agent_id,
                action="task.release",
                entity="call_task",
                entity_id=task_id,
                detail={"reason": reason, "delay_minutes": delay_minutes}
                | ({"note": note} if note else {}),
                at=at,
            )
            return True

    return retry_busy(run)


def _take(
    session: Executor,
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
    if held_by_other(task.claimed_by, task.lease_expires_at, agent_id, now):
        raise Forbidden(
            _("« {name} » est en cours de traitement par un autre conseiller").format(name=biz.name)
        )
    # An agent holds one task per campaign: taking this one hands back any other.
    hold_only(session, agent_id, campaign_id, task.id, ctx.campaign.lease_until(now), now)
    return int(task.id)


def hold_only(
    session: Executor,
    agent_id: int,
    campaign_id: int,
    task_id: int,
    lease_until: datetime,
    now: datetime,
    **values: Any,
) -> None:
    """The agent holds task `task_id` (with `values` set on it) and no other task of the
    campaign: an agent holds one business per campaign."""
    session.execute(
        update(T)
        .where(T.c.campaign_id == campaign_id, T.c.claimed_by == agent_id, T.c.id != task_id)
        .values(claimed_by=None, claimed_at=None, lease_expires_at=None)
    )
    session.execute(
        update(T)
        .where(T.c.id == task_id)
        .values(
            **values,
            claimed_by=agent_id,
            claimed_at=now,
            lease_expires_at=lease_until,
            updated_at=now,
        )
    )


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
        with db.write_conn() as session:
            return _take(session, agent_id, campaign_id, task_id, business_id, at)

    tid = retry_busy(run)
    with db.read_conn() as session:
        return claimed_task(session, tid)
