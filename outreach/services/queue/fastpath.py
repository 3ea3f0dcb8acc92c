"""The claim and the record on PostgreSQL in the fewest round trips: one statement per unit.

A round trip costs more than a statement's work on this path (each is a wake-up of the server
and of the agent's process), so on PostgreSQL each unit of work below is a single statement
run on its own (autocommit: no BEGIN and COMMIT round trips; a statement is atomic):

- claim = 2 round trips: (1) the agent and campaign read, the campaign's due waiting tasks
  woken by a data-modifying CTE in the same statement; (2) the claim's UPDATE ... RETURNING
  (the same candidates and SKIP LOCKED as `claim_pick`) in a CTE, joined to the campaign, the
  business and its latest calls (LATERAL), so the call screen's reads come back with it.
- record = 2 round trips: (1) the agent, campaign, uuid check, task and business read; then the
  outcome rules decide in Python (`record._next_state`, the same code as the general path);
  (2) one compare-and-set statement: the task's UPDATE guarded by the row version read (xmin:
  nobody wrote it in between, which the general path gets from FOR UPDATE), the call, its answers,
  its referrals with their first event (`referrals.creation_events`) and the audit row inserted
  from the CTE's result. No row back: the task changed meanwhile, read again. A uuid stored
  meanwhile hits the unique index: a replay.

The business's changes (the dialled number flagged, ceased, opt-out with the business's other
tasks cancelled) are CTEs of the same statement, audited as the locked path audits them. What
the fast record leaves to the general, locked path (`record._record`, same results): calls
without a task id, referrals that send an e-mail, answers or referrals written by a role under
row-level security (an adviser's own role: the policies of call_answers and referral_events look
up the call and the referral, which a statement does not see among its own new rows), answers of
a verification campaign (they set the business's sells_online) and a task the agent no longer
holds. SQLite keeps the general path (one writer at a time, no data-modifying CTEs).
"""

from __future__ import annotations

import itertools
import weakref
from datetime import datetime
from functools import cache, lru_cache
from types import ModuleType, SimpleNamespace
from typing import Any

from sqlalchemy import (
    LABEL_STYLE_NONE,
    Boolean,
    ColumnClause,
    ColumnElement,
    Select,
    String,
    Text,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    insert,
    literal_column,
    null,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from outreach.db.driver import driver_statement
from outreach.db.engine import Database
from outreach.db.models import AuditLog, CallAnswer, Campaign, Referral, ReferralEvent
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.clock import from_db, to_db
from outreach.services.queue import claim as claiming
from outreach.services.queue.context import UNFINISHED_STATES, _context_stmt, context_of_row
from outreach.services.queue.views import (
    AG,
    BT,
    BUSINESS_COLUMNS,
    CH,
    CL,
    HISTORY_LIMIT,
    HISTORY_WIDTH,
    KG,
    RF,
    claimed_task_of,
    history_of_rows,
)
from outreach.services.types import CallInput, ClaimedTask, RecordResult
from outreach.services.verification import PURPOSE as VERIFICATION

T = claiming.T
B = claiming.B

# --- claim -----------------------------------------------------------------------------------------


@cache
def _context_wake_stmt() -> Select[*tuple[Any, ...]]:
    """The agent and campaign (`context._context_stmt`), the campaign's due waiting tasks made
    queued in the same statement (only while the campaign is active)."""
    k = Campaign.__table__
    woken = (
        claiming._wake_stmt(True)
        .where(
            exists().where(k.c.id == bindparam("campaign"), k.c.status == claiming.const("active"))
        )
        .returning(T.c.id)
        .cte("woken")
    )
    count = select(func.count()).select_from(woken).scalar_subquery()
    return _context_stmt().add_columns(count.label("woken"))


_HISTORY_NAMES = (
    "id",
    "started_at",
    "login",
    "name",
    "campaign",
    "outcome",
    "notes",
    "r_at",
    "kind",
    "partner",
    "status",
)
assert len(_HISTORY_NAMES) == HISTORY_WIDTH


@lru_cache(maxsize=16)
def _claim_read_stmt(queue_open: bool, scoped: bool, windowed: bool) -> Select[*tuple[Any, ...]]:
    """The claim (a CTE) and what the call screen shows of the task: one row per line of the
    business's history (one row with empty history columns when it has none)."""
    claimed = (
        claiming.claim_update(claiming.claim_pick(True, queue_open, scoped, windowed))
        .returning(
            T.c.id,
            T.c.campaign_id,
            T.c.business_id,
            T.c.state,
            T.c.attempts,
            T.c.phone_index,
            T.c.next_attempt_at,
            T.c.lease_expires_at,
        )
        .cte("claimed")
    )
    # short aliases: psycopg caches the parsing of statements up to 4 kB only
    b, ch, k = BT.alias("b"), CH.alias("ch"), KG.alias("k")
    hc, ha, hk, hr, hl = (
        t.alias(n) for t, n in ((CL, "hc"), (AG, "ha"), (KG, "hk"), (RF, "hr"), (CL, "hl"))
    )
    latest = (
        select(hl.c.id)
        .where(hl.c.business_id == claimed.c.business_id)
        .order_by(hl.c.started_at.desc(), hl.c.id.desc())
        .limit(claiming.const(HISTORY_LIMIT))
        .correlate(claimed)
    )
    h = (
        select(
            hc.c.id,
            hc.c.started_at,
            ha.c.login,
            ha.c.name,
            hk.c.name.label("campaign"),
            hc.c.outcome,
            hc.c.notes,
            hr.c.created_at.label("r_at"),
            hr.c.kind,
            hr.c.partner,
            hr.c.status,
            hr.c.id.label("rid"),
        )
        .select_from(
            hc.join(ha, ha.c.id == hc.c.agent_id)
            .join(hk, hk.c.id == hc.c.campaign_id)
            .outerjoin(hr, hr.c.call_id == hc.c.id)
        )
        .where(hc.c.id.in_(latest))
        .lateral("h")
    )
    business = [
        ch.c.code.label(col.name) if col.name == "chamber_code" else b.c[col.name]
        for col in BUSINESS_COLUMNS
    ]
    return (
        select(
            claimed.c.id.label("task_id"),
            claimed.c.campaign_id,
            claimed.c.state,
            claimed.c.attempts,
            claimed.c.phone_index,
            claimed.c.next_attempt_at,
            claimed.c.lease_expires_at,
            k.c.name.label("campaign_name"),
            k.c.script,
            k.c.script_intro,
            k.c.window_days,
            k.c.window_hours,
            k.c.skip_holidays,
            *business,
            *(h.c[name] for name in _HISTORY_NAMES),
        )
        .select_from(
            claimed.join(k, k.c.id == claimed.c.campaign_id)
            .join(b, b.c.id == claimed.c.business_id)
            .join(ch, ch.c.id == b.c.chamber_id)
            .outerjoin(h, true())
        )
        .order_by(h.c.started_at.desc(), h.c.id.desc(), h.c.rid)
    )


def claim_once(
    db: Database, agent_id: int, campaign_id: int, now: datetime
) -> tuple[ClaimedTask, int] | None:
    """One claim on PostgreSQL in two statements (see the module's docstring); the task and
    the campaign's 30-day cap, or None when nothing can be claimed now."""
    with db.statement_conn() as conn:
        context = driver_statement(conn, _context_wake_stmt())
        got = context.run(
            conn, {"agent": agent_id, "campaign": campaign_id, "uuid": "", "now": now}
        )
        ctx = context_of_row(context.named(got[0]) if got else None, agent_id, campaign_id)
        shape, params = claiming.claim_shape(ctx, now)
        claim = driver_statement(conn, _claim_read_stmt(*shape))
        rows = claim.run(conn, params)
    if not rows:
        return None
    first = len(rows[0]) - HISTORY_WIDTH
    seen = history_of_rows(r[first:] for r in rows if r[first] is not None)
    return claimed_task_of(claim.named(rows[0]), seen), ctx.campaign.max_attempts_30d


# --- record ----------------------------------------------------------------------------------------


def _recording() -> ModuleType:
    """The general record path (its rules and columns), loaded with the first record, not with
    the first claim: a start on PostgreSQL claims through this module, and `queue.record`
    with what it imports is about 15 ms of the start to the first business."""
    from outreach.services.queue import record

    return record


@cache
def _task_names() -> tuple[str, ...]:
    return tuple(c.name for c in _recording()._TASK_COLUMNS)


# the task's columns the record's rules decide (the others: the time, the lease released)
_TASK_DECIDED = (
    "state",
    "attempts",
    "phone_index",
    "next_attempt_at",
    "callback_agent_id",
    "callback_team_at",
    "last_outcome",
)
# the call's columns taken from the task's CTE (the task, its business, the outcome, the time)
_CALL_FROM_TASK = ("task_id", "business_id", "outcome", "recorded_at", "lease_lost")
_CALL_COLUMNS = (
    "uuid",
    "task_id",
    "campaign_id",
    "business_id",
    "agent_id",
    "chamber_id",
    "phone",
    "started_at",
    "ended_at",
    "outcome",
    "reached",
    "notes",
    "callback_at",
    "lease_lost",
    "recorded_at",
)


# the version of a task's row: PostgreSQL gives every write of a row a new xmin
_XMIN: ColumnClause[str] = literal_column("call_tasks.xmin::text")


@cache
def _record_read_stmt() -> Select[*tuple[Any, ...]]:
    """Agent, campaign, a call already stored with the uuid, the task and its business."""
    recording = _recording()
    ctx = _context_stmt()
    return (
        ctx.add_columns(
            *(c.label(f"t_{c.name}") for c in recording._TASK_COLUMNS),
            _XMIN.label("t_xmin"),
            *recording._BUSINESS_COLUMNS,
        )
        .outerjoin(T, T.c.id == bindparam("task"))
        .outerjoin(B, B.c.id == T.c.business_id)
    )


@cache
def _record_write_stmt() -> Select[int]:
    """The task (compare and set), the call, its answers, referrals and their first events, the
    business's changes and the audit rows. Kept under psycopg's limits for caching the parsing
    of a statement (4 kB, 50 parameters): the time and the ids come from the CTEs' results."""
    p = bindparam
    recording = _recording()
    c_, au_ = recording.Call.__table__, AuditLog.__table__
    # compare and set on the row's version: any write to the task since the read changed xmin
    guards = [T.c.id == p("task_pk"), _XMIN == p("g_xmin", type_=String)]
    now = p("now", type_=T.c.updated_at.type)
    t = (
        update(T)
        .where(*guards)
        .values(
            {name: p(f"v_{name}", type_=T.c[name].type) for name in _TASK_DECIDED}
            | {
                "last_call_at": now,
                "updated_at": now,
                "claimed_by": null(),
                "claimed_at": null(),
                "lease_expires_at": null(),
            }
        )
        .returning(T.c.id, T.c.business_id, T.c.last_outcome, T.c.last_call_at)
        .cte("t")
    )
    call_values: dict[str, ColumnElement[Any]] = {
        name: p(f"c_{name}", type_=c_.c[name].type)
        for name in _CALL_COLUMNS
        if name not in _CALL_FROM_TASK
    }
    call_values.update(
        task_id=t.c.id,
        business_id=t.c.business_id,
        outcome=t.c.last_outcome,
        recorded_at=t.c.last_call_at,
        lease_lost=false(),
    )
    c = (
        insert(c_)
        .from_select(
            list(_CALL_COLUMNS),
            select(*(call_values[name] for name in _CALL_COLUMNS))
            .select_from(t)
            .set_label_style(LABEL_STYLE_NONE),
        )
        .returning(c_.c.id, c_.c.business_id, c_.c.agent_id, c_.c.recorded_at)
        .cte("c")
    )
    at = select(c.c.recorded_at).scalar_subquery()
    qa = (
        func.unnest(p("questions", type_=ARRAY(String)), p("answers", type_=ARRAY(Text)))
        .table_valued("q", "a")
        .render_derived()
    )
    answers = insert(CallAnswer.__table__).from_select(
        ["call_id", "question", "answer"],
        select(c.c.id, qa.c.q, qa.c.a)
        .select_from(c.join(qa, true()))
        .set_label_style(LABEL_STYLE_NONE),
    )
    r_ = Referral.__table__
    rr = (
        func.unnest(
            p("r_kinds", type_=ARRAY(String)),
            p("r_partners", type_=ARRAY(String)),
            p("r_statuses", type_=ARRAY(String)),
            p("r_notes", type_=ARRAY(Text)),
        )
        .table_valued("kind", "partner", "status", "notes")
        .render_derived()
    )
    referrals = (
        insert(r_)
        .from_select(
            [
                "call_id",
                "business_id",
                "kind",
                "partner",
                "status",
                "notes",
                "created_at",
                "updated_at",
            ],
            select(
                c.c.id,
                c.c.business_id,
                rr.c.kind,
                rr.c.partner,
                rr.c.status,
                rr.c.notes,
                c.c.recorded_at,
                c.c.recorded_at,
            )
            .select_from(c.join(rr, true()))
            .set_label_style(LABEL_STYLE_NONE),
        )
        .returning(r_.c.id, r_.c.status)
        .cte("rf")
    )
    # each new referral's first event (referrals.creation_events)
    events = insert(ReferralEvent.__table__).from_select(
        ["referral_id", "at", "agent_id", "from_state", "to_state", "note", "detail"],
        select(
            referrals.c.id,
            c.c.recorded_at,
            c.c.agent_id,
            null(),
            referrals.c.status,
            null(),
            null(),
        )
        .select_from(referrals.join(c, true()))
        .set_label_style(LABEL_STYLE_NONE),
    )
    # the business: the dialled number flagged, the status the outcome sets, the opt-out; each
    # change audited as the locked path does (record.business_changes, dnc.opt_out)
    opt = p("opt_out", type_=Boolean)
    called = exists(select(c.c.id))
    business_id = p("c_business_id", type_=c_.c.business_id.type)
    business = (
        update(B)
        .where(B.c.id == business_id, p("b_change", type_=Boolean), called)
        .values(
            status=func.coalesce(p("b_status", type_=B.c.status.type), B.c.status),
            phone_flagged=B.c.phone_flagged | p("b_flag", type_=Boolean),
            phone_alt_flagged=B.c.phone_alt_flagged | p("b_alt_flag", type_=Boolean),
            do_not_call=B.c.do_not_call | opt,
            do_not_call_at=case((opt, at), else_=B.c.do_not_call_at),
            updated_at=at,
        )
    )
    audit_columns = ["at", "agent_id", "action", "entity", "entity_id", "detail"]
    b_detail = p("b_detail", type_=au_.c.detail.type)
    business_audit = insert(au_).from_select(
        audit_columns,
        select(
            c.c.recorded_at,
            c.c.agent_id,
            literal_column("'business.update'"),
            literal_column("'business'"),
            cast(c.c.business_id, String),
            b_detail,
        )
        .select_from(c)
        .where(p("b_audit", type_=Boolean))
        .set_label_style(LABEL_STYLE_NONE),
    )
    cancelled = (
        update(T)
        .where(
            opt,
            called,
            T.c.business_id == business_id,
            T.c.id != p("task_pk"),
            T.c.state.in_([claiming.const(s) for s in UNFINISHED_STATES]),
        )
        .values(
            state=claiming.const("cancelled"),
            claimed_by=null(),
            claimed_at=null(),
            lease_expires_at=null(),
            updated_at=at,
        )
        .returning(T.c.id)
        .cte("cancelled")
    )
    ids = select(func.json_agg(aggregate_order_by(cancelled.c.id, cancelled.c.id)))
    dnc_audit = insert(au_).from_select(
        audit_columns,
        select(
            c.c.recorded_at,
            c.c.agent_id,
            literal_column("'business.do_not_call'"),
            literal_column("'business'"),
            cast(c.c.business_id, String),
            func.json_build_object(
                literal_column("'reason'"),
                p("reason", type_=String),
                literal_column("'tasks_cancelled'"),
                func.coalesce(ids.scalar_subquery(), literal_column("'[]'::json")),
            ),
        )
        .select_from(c)
        .where(opt)
        .set_label_style(LABEL_STYLE_NONE),
    )
    audit = insert(au_).from_select(
        audit_columns,
        select(
            c.c.recorded_at,
            c.c.agent_id,
            literal_column("'call.record'"),
            literal_column("'call'"),
            cast(c.c.id, String),
            p("detail", type_=au_.c.detail.type),
        )
        .select_from(c)
        .set_label_style(LABEL_STYLE_NONE),
    )
    return select(c.c.id).add_cte(
        answers.cte("an"),
        events.cte("ev"),
        business.cte("bz"),
        business_audit.cte("bza"),
        cancelled,
        dnc_audit.cte("dnc"),
        audit.cte("au"),
    )


def compile_statements(db: Database) -> None:
    """Build and compile the fast path's statements for this database's engine now (about
    40 ms of CPU), instead of in a process's first claim and record: every claim shape, the
    context, the record's read and write. For a process about to work (an agent's session, a
    load test's agent before its clock starts); nothing is sent to the server but a connect."""
    with db.statement_conn() as conn:
        driver_statement(conn, _context_wake_stmt())
        for shape in itertools.product((False, True), repeat=3):
            driver_statement(conn, _claim_read_stmt(*shape))
        driver_statement(conn, _record_read_stmt())
        driver_statement(conn, _record_write_stmt())


def fast_record_applies(call: CallInput) -> bool:
    """Whether the one-statement record can take this call (see the module's docstring)."""
    return call.task_id is not None and not any(r.email for r in call.referrals)


# engine -> whether its role sees every row (superuser or BYPASSRLS), asked once per engine
_SEES_EVERY_ROW: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _sees_every_row(db: Database, conn: Any) -> bool:
    """Whether row-level security leaves this connection's role alone. Under it, a new call's
    answers and its referrals' events cannot be written in the statement that writes the call:
    their policies look the call (the referral) up, and a statement does not see its own rows."""
    got = _SEES_EVERY_ROW.get(db.engine)
    if got is None:
        got = bool(
            conn.execute(
                text(
                    "SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles"
                    " WHERE rolname = current_user"
                )
            ).scalar()
        )
        _SEES_EVERY_ROW[db.engine] = got
    return got


def record_fast(db: Database, call: CallInput, now: datetime) -> RecordResult | None:
    """The call recorded in two statements (see the module's docstring), or None when the
    general path must take it (nothing written then)."""
    recording = _recording()
    oc = recording._outcome(call.outcome)
    if not fast_record_applies(call):
        return None
    callback_at = recording._validate(call, oc, now)
    with db.statement_conn() as conn:
        if (call.answers or call.referrals) and not _sees_every_row(db, conn):
            return None  # an adviser's own role: the locked path (two statements there)
        read, write = (
            driver_statement(conn, _record_read_stmt()),
            driver_statement(conn, _record_write_stmt()),
        )
        for _race in range(3):
            got = read.run(
                conn,
                {
                    "agent": call.agent_id,
                    "campaign": call.campaign_id,
                    "uuid": call.uuid,
                    "task": call.task_id,
                },
            )
            row = read.named(got[0]) if got else None
            ctx = context_of_row(row, call.agent_id, call.campaign_id)
            if ctx.existing_call is not None:
                return recording._replayed(conn, ctx.existing_call, call.uuid)
            answers = recording._checked_answers(call.answers, ctx.script) if call.answers else {}
            if ctx.campaign.purpose == VERIFICATION and call.answers:
                return None  # the answers set the business's sells_online: the general path
            assert row is not None  # (context_of_row refused a missing one)
            v = row._mapping
            task = SimpleNamespace(**{name: v[f"t_{name}"] for name in _task_names()})
            if task.id is None:
                raise NotFound(_("tâche inconnue : n° {id}").format(id=call.task_id))
            campaign, agent = ctx.campaign, ctx.agent
            if task.campaign_id != campaign.id or task.business_id != call.business_id:
                raise InvalidInput(
                    _(
                        "la tâche n° {id} ne correspond pas à cette campagne et cette entreprise"
                    ).format(id=call.task_id)
                )
            business = recording._Business(
                v["b_id"],
                v["b_name"],
                v["b_chamber_id"],
                v["b_department"],
                v["b_phone"],
                v["b_phone_alt"],
                bool(v["b_phone_flagged"]),
                bool(v["b_phone_alt_flagged"]),
                v["b_status"],
                bool(v["b_do_not_call"]),
            )
            if ctx.chamber_id is not None and business.chamber_id != ctx.chamber_id:
                raise Forbidden(
                    _("« {name} » n'est pas dans le périmètre de votre chambre").format(
                        name=business.name
                    )
                )
            if task.claimed_by != agent.id:
                return None  # lease lost or never held: the general path decides
            attempts = task.attempts + 1
            nxt = recording._next_state(
                oc, call, task, business, campaign, callback_at, attempts, now
            )
            task_before = {
                name: recording._jsonable(getattr(task, name))
                for name in recording.UNDONE_TASK_COLUMNS
            }
            dialled = recording.dialled_number(call, task, business)
            changes = recording.business_changes(oc, business, dialled)
            opt_out = bool(oc.opt_out and not business.do_not_call)
            params: dict[str, Any] = {"task_pk": task.id}
            params["g_xmin"] = v["t_xmin"]
            params.update(
                v_state=nxt.state,
                v_attempts=attempts,
                v_phone_index=task.phone_index if nxt.phone_index is None else nxt.phone_index,
                v_next_attempt_at=nxt.next_attempt_at,
                v_callback_agent_id=nxt.callback_agent_id,
                v_callback_team_at=nxt.callback_team_at,
                v_last_outcome=oc.code,
                now=now,
                c_uuid=call.uuid,
                c_campaign_id=campaign.id,
                c_business_id=business.id,
                c_agent_id=agent.id,
                c_chamber_id=business.chamber_id,
                c_phone=dialled,
                c_started_at=to_db(call.started_at),
                c_ended_at=to_db(call.ended_at),
                c_reached=oc.reached,
                c_notes=call.notes or None,
                c_callback_at=callback_at,
                questions=list(answers),
                answers=list(answers.values()),
                r_kinds=[r.kind for r in call.referrals],
                r_partners=[r.partner for r in call.referrals],
                r_statuses=[r.status for r in call.referrals],
                r_notes=[r.notes for r in call.referrals],
                detail={
                    "uuid": call.uuid,
                    "task_id": task.id,
                    "outcome": oc.code,
                    "task_state": nxt.state,
                    "next_attempt_at": nxt.next_attempt_at.isoformat()
                    if nxt.next_attempt_at
                    else None,
                    "lease_lost": False,
                    "task_before": task_before,
                    "business_before": {k: getattr(business, k) for k in changes},
                },
                b_change=bool(changes) or opt_out,
                b_status=changes.get("status"),
                b_flag=bool(changes.get("phone_flagged")),
                b_alt_flag=bool(changes.get("phone_alt_flagged")),
                b_audit=bool(changes),  # (a JSON parameter's None is JSON's null, not NULL)
                b_detail={"via": "call", "uuid": call.uuid, **changes} if changes else None,
                opt_out=opt_out,
                reason=recording.OPT_OUT_REASON(),
            )
            written = write.run(conn, params)
            if written:
                call_id = written[0][0]
                return RecordResult(
                    call_id=int(call_id),
                    uuid=call.uuid,
                    replayed=False,
                    lease_lost=False,
                    task_state=nxt.state,
                    next_attempt_at=from_db(nxt.next_attempt_at),
                )
            # the task changed between the read and the write: read it again
    return None
