"""The load test's bare-SQL twin: the same claim and record work written by hand for the raw
driver (sqlite3 / psycopg), to measure what the project's layers cost. `BareSide` is it as a
side of the load test's simulated agent: `run_loadtest(..., sides=(ProjectSide, BareSide))`
alternates the two in slices (the benchmark's `claim_record`).

PostgreSQL (`PgFloor`): the floor, the fewest round trips the same work takes (see the notes
above `PgFloor`): claim = 2 round trips (agent and campaign read with the due waiting tasks woken;
then the claim with the call screen's reads), record = 2 (agent, campaign, uuid, task and
business read; then the task, call, answers, referrals, business changes, opt-out and audit rows
written by one compare-and-set statement).

SQLite: the waiting tasks that are due made queued, then the same one-statement UPDATE ...
RETURNING inside BEGIN IMMEDIATE, then the business row and its history as the call screen reads
them. Record: uuid check, call row, task update (a retry waits: state "waiting"), audit row, in
one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import make_url

from outreach.services.clock import utcnow
from outreach.services.loadtest import Claimed, Plan
from outreach.services.types import CallInput

_CANDIDATE = """
    (SELECT c.id FROM call_tasks c
     WHERE c.campaign_id = :campaign AND (c.lease_expires_at IS NULL OR c.lease_expires_at <= :now)
       AND NOT EXISTS (SELECT 1 FROM businesses b WHERE b.id = c.business_id
                       AND (b.do_not_call = :true OR b.status = 'ceased'))
       {scope} {cond}
     ORDER BY {order} LIMIT 1 {lock})"""

WAKE = (
    "UPDATE call_tasks SET state = 'queued' WHERE id IN (SELECT w.id FROM call_tasks w"
    " WHERE w.campaign_id = :campaign AND w.state = 'waiting' AND w.next_attempt_at <= :now"
    " ORDER BY w.next_attempt_at LIMIT 200 {lock})"
)
RECORD_CHECK = "SELECT id FROM calls WHERE uuid = :uuid"
TASK_FOR_UPDATE = "SELECT attempts, state, claimed_by FROM call_tasks WHERE id = :task {lock}"
INSERT_CALL = (
    "INSERT INTO calls (uuid, task_id, campaign_id, business_id, agent_id, chamber_id, phone,"
    " started_at, ended_at, outcome, reached, notes, lease_lost, recorded_at) VALUES (:uuid,"
    " :task, :campaign, :business, :agent, :chamber, :phone, :started, :ended, :outcome,"
    " :reached, NULL, :false, :now) RETURNING id"
)
UPDATE_TASK = (
    "UPDATE call_tasks SET attempts = :attempts, state = :state, next_attempt_at = :next,"
    " last_outcome = :outcome, last_call_at = :now, claimed_by = NULL, claimed_at = NULL,"
    " lease_expires_at = NULL, updated_at = :now WHERE id = :task"
)
INSERT_AUDIT = (
    "INSERT INTO audit_log (at, agent_id, action, entity, entity_id, detail)"
    " VALUES (:now, :agent, 'call.record', 'call', :entity, :detail)"
)
INSERT_ANSWER = (
    "INSERT INTO call_answers (call_id, question, answer) VALUES (:call, :question, :answer)"
)
INSERT_REFERRAL = (
    "INSERT INTO referrals (call_id, business_id, kind, partner, status, notes, created_at)"
    " VALUES (:call, :business, :kind, NULL, 'proposed', NULL, :now)"
)
BUSINESS = (
    "SELECT b.id, b.siret, b.name, b.phone, b.phone_alt, b.department, b.chamber_id, ch.code"
    " FROM businesses b JOIN chambers ch ON ch.id = b.chamber_id WHERE b.id = :business"
)
HISTORY = (
    "SELECT c.started_at, a.login, a.name, k.name, c.outcome, c.notes FROM calls c"
    " JOIN agents a ON a.id = c.agent_id JOIN campaigns k ON k.id = c.campaign_id"
    " WHERE c.business_id = :business ORDER BY c.started_at DESC, c.id DESC LIMIT 50"
)


def claim_sql(pg: bool, scoped: bool) -> str:
    lock = "FOR UPDATE SKIP LOCKED" if pg else ""
    scope = "AND c.chamber_id = :chamber" if scoped else ""
    own = _CANDIDATE.format(
        scope="",
        cond="AND c.state = 'callback' AND c.callback_agent_id = :agent AND c.next_attempt_at <= :now",
        order="c.next_attempt_at, c.id",
        lock=lock,
    )
    team = _CANDIDATE.format(
        scope=scope,
        cond="AND c.state = 'callback' AND c.callback_team_at <= :now",
        order="c.next_attempt_at, c.id",
        lock=lock,
    )
    queued = _CANDIDATE.format(
        scope=scope,
        cond="AND c.state = 'queued' AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= :now)",
        order="c.priority DESC, c.attempts, c.id",
        lock=lock,
    )
    mine = (
        "(SELECT c.id FROM call_tasks c WHERE c.campaign_id = :campaign AND c.claimed_by = :agent"
        f" AND c.state IN ('queued', 'waiting', 'callback') LIMIT 1 {'FOR UPDATE' if pg else ''})"
    )
    return (
        "UPDATE call_tasks SET claimed_by = :agent, claimed_at = :now, lease_expires_at = :lease,"
        f" updated_at = :now WHERE id = COALESCE({mine}, {own}, {team}, {queued})"
        " RETURNING id, business_id, state"
    )


# --- PostgreSQL: the floor ------------------------------------------------------------------------
# Each transaction is one statement sent on an autocommit connection (its own implicit
# transaction: no BEGIN or COMMIT round trip), prepared once (psycopg `prepare=True`). A claim is
# two round trips and a record two, because each decides in Python on what it has just read:
# the claim's candidates depend on the calling windows open now (the domain's `open_departments`
# over the campaign row), the record's writes on the task's current row (the outcome rules).
# Nothing is carried from one call to the next: as the project's services, the floor re-reads
# the agent and campaign every time.

PG_CONTEXT_WAKE = """
WITH woken AS (
  UPDATE call_tasks SET state = 'queued'
  WHERE id IN (SELECT w.id FROM call_tasks w
               WHERE w.campaign_id = %(campaign)s AND w.state = 'waiting'
                 AND w.next_attempt_at <= %(now)s
               ORDER BY w.next_attempt_at LIMIT 200 FOR UPDATE SKIP LOCKED)
    AND EXISTS (SELECT 1 FROM campaigns k WHERE k.id = %(campaign)s AND k.status = 'active')
  RETURNING 1)
SELECT a.role, a.chamber_id, ch.code, k.id, k.status, k.chamber_id, kc.code, k.window_days,
       k.window_hours, k.skip_holidays, k.lease_minutes, k.max_attempts_30d,
       (SELECT count(*) FROM woken)
FROM agents a JOIN chambers ch ON ch.id = a.chamber_id
LEFT JOIN campaigns k ON k.id = %(campaign)s LEFT JOIN chambers kc ON kc.id = k.chamber_id
WHERE a.id = %(agent)s"""

_PG_CANDIDATE = """
    (SELECT c.id FROM call_tasks c
     WHERE c.campaign_id = %(campaign)s
       AND (c.lease_expires_at IS NULL OR c.lease_expires_at <= %(now)s)
       AND NOT EXISTS (SELECT 1 FROM businesses b WHERE b.id = c.business_id
                       AND (b.do_not_call = true OR b.status = 'ceased'))
       {window} {scope} {cond}
     ORDER BY {order} LIMIT 1 FOR UPDATE SKIP LOCKED)"""


def pg_claim_sql(scoped: bool, windowed: bool) -> str:
    """Claim and everything the call screen shows (task, business, campaign, the business's
    latest 50 calls with their referrals) in one statement: one row per history line."""
    scope = "AND c.chamber_id = %(chamber)s" if scoped else ""
    window = "AND c.department = ANY(%(departments)s)" if windowed else ""
    own, team, queued = (
        _PG_CANDIDATE.format(window=window, scope=s, cond=cond, order=order)
        for s, cond, order in (
            (
                "",
                "AND c.state = 'callback' AND c.callback_agent_id = %(agent)s"
                " AND c.next_attempt_at <= %(now)s",
                "c.next_attempt_at, c.id",
            ),
            (
                scope,
                "AND c.state = 'callback' AND c.callback_team_at <= %(now)s"
                " AND c.next_attempt_at <= %(now)s",
                "c.next_attempt_at, c.id",
            ),
            (
                scope,
                "AND c.state = 'queued'"
                " AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= %(now)s)",
                "c.priority DESC, c.attempts, c.id",
            ),
        )
    )
    mine = (
        "(SELECT c.id FROM call_tasks c WHERE c.campaign_id = %(campaign)s"
        " AND c.claimed_by = %(agent)s AND c.state IN ('queued', 'waiting', 'callback')"
        " LIMIT 1 FOR UPDATE)"
    )
    return f"""
WITH claimed AS (
  UPDATE call_tasks SET claimed_by = %(agent)s, claimed_at = %(now)s,
         lease_expires_at = %(lease)s, updated_at = %(now)s
  WHERE id = COALESCE({mine}, {own}, {team}, {queued})
  RETURNING id, campaign_id, business_id, state, attempts, phone_index, next_attempt_at,
            lease_expires_at)
SELECT t.id, t.business_id, t.state, t.attempts, t.phone_index, t.next_attempt_at,
       t.lease_expires_at, k.name, k.script, k.script_intro, k.window_days, k.window_hours,
       k.skip_holidays, b.siret, b.name, b.trade_code, b.trade_label, b.address, b.postcode,
       b.city, b.department, ch.code, b.phone, b.phone_alt, b.phone_flagged,
       b.phone_alt_flagged, b.status, b.sells_online, b.do_not_call, b.employees, b.email,
       h.id, h.started_at, h.login, h.name, h.campaign, h.outcome, h.notes, h.r_at, h.kind,
       h.partner, h.status
FROM claimed t JOIN campaigns k ON k.id = t.campaign_id
JOIN businesses b ON b.id = t.business_id JOIN chambers ch ON ch.id = b.chamber_id
LEFT JOIN LATERAL (
  SELECT cl.id, cl.started_at, a.login, a.name, kk.name AS campaign, cl.outcome, cl.notes,
         r.created_at AS r_at, r.kind, r.partner, r.status, r.id AS rid
  FROM calls cl JOIN agents a ON a.id = cl.agent_id JOIN campaigns kk ON kk.id = cl.campaign_id
  LEFT JOIN referrals r ON r.call_id = cl.id
  WHERE cl.id IN (SELECT id FROM calls WHERE business_id = t.business_id
                  ORDER BY started_at DESC, id DESC LIMIT 50)) h ON true
ORDER BY h.started_at DESC, h.id DESC, h.rid"""


PG_PUSH = """
UPDATE call_tasks SET state = 'waiting', claimed_by = NULL, claimed_at = NULL,
       lease_expires_at = NULL, next_attempt_at = %(until)s
WHERE id = %(task)s AND claimed_by = %(agent)s"""

PG_RECORD_READ = """
SELECT a.role, a.chamber_id, k.status, k.chamber_id, k.max_attempts, k.retry_delays,
       k.callback_grace_minutes, k.script, (SELECT id FROM calls WHERE uuid = %(uuid)s),
       t.id, t.campaign_id, t.business_id, t.state, t.attempts, t.phone_index,
       t.next_attempt_at, t.claimed_by, t.lease_expires_at, t.callback_agent_id,
       t.callback_team_at, t.last_outcome, t.last_call_at, b.chamber_id, b.phone, b.phone_alt,
       b.phone_flagged, b.phone_alt_flagged, b.status, b.do_not_call
FROM agents a LEFT JOIN campaigns k ON k.id = %(campaign)s
LEFT JOIN call_tasks t ON t.id = %(task)s LEFT JOIN businesses b ON b.id = t.business_id
WHERE a.id = %(agent)s"""

# the task as read (compare and set: no other writer came between the read and this write),
# the call, its answers and referrals (each with its first event), the business's new status
# or flags (with their audit row), an opt-out (the business's other unfinished tasks
# cancelled, audited) and the call's audit row: one statement
PG_RECORD_WRITE = """
WITH t AS (
  UPDATE call_tasks SET attempts = attempts + 1, last_outcome = %(outcome)s,
         last_call_at = %(now)s, updated_at = %(now)s, state = %(state)s,
         next_attempt_at = %(next)s, callback_agent_id = %(cb_agent)s,
         callback_team_at = %(cb_team)s, phone_index = %(phone_index)s, claimed_by = NULL,
         claimed_at = NULL, lease_expires_at = NULL
  WHERE id = %(task)s AND state = %(s0)s AND attempts = %(a0)s AND phone_index = %(p0)s
    AND claimed_by IS NOT DISTINCT FROM %(c0)s
    AND lease_expires_at IS NOT DISTINCT FROM %(l0)s
    AND next_attempt_at IS NOT DISTINCT FROM %(n0)s
    AND callback_agent_id IS NOT DISTINCT FROM %(ca0)s
    AND callback_team_at IS NOT DISTINCT FROM %(ct0)s
    AND last_outcome IS NOT DISTINCT FROM %(lo0)s
    AND last_call_at IS NOT DISTINCT FROM %(lc0)s
  RETURNING id),
c AS (
  INSERT INTO calls (uuid, task_id, campaign_id, business_id, agent_id, chamber_id, phone,
                     started_at, ended_at, outcome, reached, notes, callback_at, lease_lost,
                     recorded_at)
  SELECT %(uuid)s, t.id, %(campaign)s, %(business)s, %(agent)s, %(chamber)s, %(phone)s,
         %(started)s, %(ended)s, %(outcome)s, %(reached)s, NULL, %(callback_at)s, false,
         %(now)s FROM t
  RETURNING id),
an AS (
  INSERT INTO call_answers (call_id, question, answer)
  SELECT c.id, x.q, x.a FROM c, unnest(%(questions)s::text[], %(answers)s::text[]) AS x(q, a)),
rf AS (
  INSERT INTO referrals (call_id, business_id, kind, partner, status, notes, created_at,
                         updated_at)
  SELECT c.id, %(business)s, x.k, NULL, 'proposed', NULL, %(now)s, %(now)s
  FROM c, unnest(%(kinds)s::text[]) AS x(k)
  RETURNING id, status),
ev AS (
  INSERT INTO referral_events (referral_id, at, agent_id, from_state, to_state, note, detail)
  SELECT rf.id, %(now)s, %(agent)s, NULL, rf.status, NULL, NULL FROM rf),
bz AS (
  UPDATE businesses SET status = coalesce(%(b_status)s, status),
         phone_flagged = phone_flagged OR %(b_flag)s,
         phone_alt_flagged = phone_alt_flagged OR %(b_alt_flag)s,
         do_not_call = do_not_call OR %(opt_out)s,
         do_not_call_at = CASE WHEN %(opt_out)s THEN %(now)s ELSE do_not_call_at END,
         updated_at = %(now)s
  WHERE id = %(business)s AND %(b_change)s AND EXISTS (SELECT 1 FROM c)),
bza AS (
  INSERT INTO audit_log (at, agent_id, action, entity, entity_id, detail)
  SELECT %(now)s, %(agent)s, 'business.update', 'business', %(business)s::text,
         %(b_detail)s::json FROM c WHERE %(b_detail)s::text IS NOT NULL),
cancelled AS (
  UPDATE call_tasks SET state = 'cancelled', claimed_by = NULL, claimed_at = NULL,
         lease_expires_at = NULL, updated_at = %(now)s
  WHERE %(opt_out)s AND business_id = %(business)s AND id <> %(task)s
    AND state IN ('queued', 'waiting', 'callback', 'follow_up') AND EXISTS (SELECT 1 FROM c)
  RETURNING id),
dnc AS (
  INSERT INTO audit_log (at, agent_id, action, entity, entity_id, detail)
  SELECT %(now)s, %(agent)s, 'business.do_not_call', 'business', %(business)s::text,
         json_build_object('reason', %(reason)s::text,
                           'tasks_cancelled', (SELECT coalesce(json_agg(id ORDER BY id), '[]')
                                               FROM cancelled))
  FROM c WHERE %(opt_out)s),
au AS (
  INSERT INTO audit_log (at, agent_id, action, entity, entity_id, detail)
  SELECT %(now)s, %(agent)s, 'call.record', 'call', c.id::text, %(detail)s::json FROM c)
SELECT id FROM c"""


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class PgFloor:
    """The PostgreSQL floor of one agent: the claim and the record in the fewest round trips
    the same work takes on psycopg (see above)."""

    def __init__(self, conninfo: str, agent_id: int, campaign_id: int) -> None:
        import psycopg

        self.conn: Any = psycopg.connect(conninfo, autocommit=True)
        self.agent, self.campaign = agent_id, campaign_id
        self.sql = {
            (scoped, windowed): pg_claim_sql(scoped, windowed)
            for scoped in (False, True)
            for windowed in (False, True)
        }

    def _one(self, sql: str, params: dict[str, Any]) -> Any:
        return self.conn.execute(sql, params, prepare=True).fetchone()

    def claim(self, now: datetime) -> tuple[int, int] | None:
        from outreach.domain.geography import DEPARTMENTS
        from outreach.domain.windows import open_departments, parse_window

        for _skip in range(20):
            ctx = self._one(
                PG_CONTEXT_WAKE, {"campaign": self.campaign, "now": now, "agent": self.agent}
            )
            if ctx is None or ctx[3] is None or ctx[4] != "active":
                return None
            role, agent_chamber, agent_code, _k, _status, k_chamber, k_code = ctx[:7]
            window = parse_window(ctx[7], ctx[8], bool(ctx[9]))
            # the agent's scope: the regional campaign's chamber, or the agent's own chamber
            # (CMA France members and admins work every chamber of a national campaign)
            if k_chamber is not None:
                chamber, code = k_chamber, k_code
            elif role == "admin" or agent_code == "CMAF":
                chamber, code = None, None
            else:
                chamber, code = agent_chamber, agent_code
            scope = frozenset(d.code for d in DEPARTMENTS if code is None or d.chamber == code)
            departments = open_departments(window, now) & scope
            if not departments:
                return None
            windowed = departments != scope
            params = {
                "agent": self.agent,
                "campaign": self.campaign,
                "now": now,
                "lease": now + timedelta(minutes=ctx[10]),
                "chamber": chamber,
                "departments": sorted(departments) if windowed else None,
            }
            rows = self.conn.execute(
                self.sql[(chamber is not None, windowed)], params, prepare=True
            ).fetchall()
            if not rows:
                return None
            task_id, business_id, state = rows[0][0], rows[0][1], rows[0][2]
            # the rolling 30-day cap (callbacks exempt): the business's calls of the last
            # 30 days, from the history the claim returned
            cap = ctx[11]
            since = now - timedelta(days=30)
            recent = sorted(
                {(r[31], r[32]) for r in rows if r[31] is not None and r[32] > since},
                reverse=True,
            )
            if state == "callback" or cap <= 0 or len(recent) < cap:
                return task_id, business_id
            until = recent[cap - 1][1] + timedelta(days=30)
            self._one(PG_PUSH, {"until": until, "task": task_id, "agent": self.agent})
        return None

    def record(
        self,
        uuid: str,
        task_id: int,
        business_id: int,
        code: str,
        started: datetime,
        now: datetime,
        answers: dict[str, str] | None = None,
        referral: str | None = None,
    ) -> int:
        from outreach.domain.outcomes import CALLBACK, DONE, NEXT_PHONE, RETRY
        from outreach.domain.outcomes import outcome as catalogue_outcome
        from outreach.domain.referrals import REFERRAL_KINDS_BY_CODE

        oc = catalogue_outcome(code)
        for _race in range(8):
            r = self._one(
                PG_RECORD_READ,
                {"uuid": uuid, "campaign": self.campaign, "task": task_id, "agent": self.agent},
            )
            if r is None or r[2] is None or r[9] is None:
                raise LookupError("unknown agent, campaign or task")
            role, agent_chamber, _status, k_chamber, max_attempts, delays, grace, script = r[:8]
            if r[8] is not None:  # a replay: the call is already stored
                return int(r[8])
            (
                _t,
                t_campaign,
                t_business,
                state,
                attempts,
                phone_index,
                next_at,
                holder,
                lease,
                cb_agent,
                cb_team,
                last_outcome,
                last_call_at,
            ) = r[9:22]
            (b_chamber, phone, phone_alt, phone_flagged, phone_alt_flagged, b_status, dnc) = r[
                22:29
            ]
            if t_campaign != self.campaign or t_business != business_id:
                raise ValueError("task of another campaign or business")
            if k_chamber is not None and b_chamber != k_chamber:
                raise PermissionError("business outside the campaign's chamber")
            questions = {q["key"]: q for q in script or []}
            for key, answer in (answers or {}).items():
                choices = questions[key].get("choices") or []
                if choices and answer not in choices:
                    raise ValueError(f"answer {answer!r} to {key!r}")
            holds = holder == self.agent
            if not holds and holder is not None and lease is not None and lease > now:
                raise PermissionError("held by another agent")  # the project's rare path
            n = attempts + 1
            new = {"state": state, "next": next_at, "cb_agent": None, "cb_team": None}
            pi = phone_index
            callback_at = None
            if oc.effect == DONE:
                follow = referral is not None and REFERRAL_KINDS_BY_CODE[referral].follow_up
                new["state"] = "follow_up" if follow else "done"
            elif oc.effect == RETRY:
                if n >= max_attempts:
                    new["state"] = "exhausted"
                else:
                    steps = delays or [60]
                    delay = steps[min(max(n, 1), len(steps)) - 1]
                    new["state"], new["next"] = "waiting", now + timedelta(minutes=delay)
            elif oc.effect == NEXT_PHONE:
                if phone_index == 0 and phone_alt and not phone_alt_flagged:
                    new["state"], pi = "queued", 1
                else:
                    new["state"] = "exhausted"
            elif oc.effect == CALLBACK:
                callback_at = started + timedelta(days=1)
                new.update(
                    state="callback",
                    next=callback_at,
                    cb_agent=self.agent,  # a personal callback, as the load test asks
                    cb_team=callback_at + timedelta(minutes=grace),
                )
            dialled = phone_alt if phone_index == 1 and phone_alt else phone
            b_values: dict[str, Any] = {}
            if oc.effect == NEXT_PHONE and dialled:
                b_values["phone_flagged" if dialled == phone else "phone_alt_flagged"] = True
            if oc.business_status and b_status != oc.business_status:
                b_values["status"] = oc.business_status
            before = {
                "status": b_status,
                "phone_flagged": phone_flagged,
                "phone_alt_flagged": phone_alt_flagged,
            }
            opt_out = bool(oc.opt_out and not dnc)
            detail = {
                "uuid": uuid,
                "task_id": task_id,
                "outcome": code,
                "task_state": new["state"],
                "next_attempt_at": _iso(new["next"]),
                "lease_lost": not holds,
                "task_before": {
                    "state": state,
                    "attempts": attempts,
                    "phone_index": phone_index,
                    "next_attempt_at": _iso(next_at),
                    "callback_agent_id": cb_agent,
                    "callback_team_at": _iso(cb_team),
                    "last_outcome": last_outcome,
                    "last_call_at": _iso(last_call_at),
                },
                "business_before": {k: before[k] for k in b_values},
            }
            params = {
                "task": task_id,
                "outcome": code,
                "now": now,
                "state": new["state"],
                "next": new["next"],
                "cb_agent": new["cb_agent"],
                "cb_team": new["cb_team"],
                "phone_index": pi,
                "s0": state,
                "a0": attempts,
                "p0": phone_index,
                "c0": holder,
                "l0": lease,
                "n0": next_at,
                "ca0": cb_agent,
                "ct0": cb_team,
                "lo0": last_outcome,
                "lc0": last_call_at,
                "uuid": uuid,
                "campaign": self.campaign,
                "business": business_id,
                "agent": self.agent,
                "chamber": b_chamber,
                "phone": dialled,
                "started": started,
                "ended": now,
                "reached": oc.reached,
                "callback_at": callback_at,
                "questions": list((answers or {}).keys()),
                "answers": list((answers or {}).values()),
                "kinds": [referral] if referral else [],
                "b_status": b_values.get("status"),
                "b_flag": bool(b_values.get("phone_flagged")),
                "b_alt_flag": bool(b_values.get("phone_alt_flagged")),
                "opt_out": opt_out,
                "b_change": bool(b_values) or opt_out,
                "b_detail": json.dumps({"via": "call", "uuid": uuid, **b_values})
                if b_values
                else None,
                "reason": "opposition exprimée lors d'un appel",
                "detail": json.dumps(detail),
            }
            row = self._one(PG_RECORD_WRITE, params)
            if row is not None:
                return int(row[0])
            # the task changed between the read and the write: read it again
        raise RuntimeError("task kept changing")

    def close(self) -> None:
        self.conn.close()


class BareAgent:
    """One simulated agent speaking SQL straight to the driver."""

    def __init__(self, url: str, agent_id: int, campaign_id: int, chamber_id: int | None) -> None:
        u = make_url(url)
        self.agent, self.campaign, self.chamber = agent_id, campaign_id, chamber_id
        self.floor: PgFloor | None = None
        if u.get_backend_name() == "postgresql":
            conninfo = u.set(drivername="postgresql").render_as_string(hide_password=False)
            self.floor = PgFloor(conninfo, agent_id, campaign_id)
            self.conn: Any = self.floor.conn
            return
        self.conn = sqlite3.connect(u.database or "", timeout=30, isolation_level=None)
        for pragma in ("busy_timeout = 30000", "journal_mode = WAL", "synchronous = NORMAL"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.busy = (sqlite3.OperationalError,)
        self.sql = {
            name: text
            for name, text in {
                "wake": WAKE.format(lock=""),
                "claim": claim_sql(False, chamber_id is not None),
                "check": RECORD_CHECK,
                "task": TASK_FOR_UPDATE.format(lock=""),
                "call": INSERT_CALL,
                "update": UPDATE_TASK,
                "audit": INSERT_AUDIT,
                "answer": INSERT_ANSWER,
                "referral": INSERT_REFERRAL,
                "business": BUSINESS,
                "history": HISTORY,
            }.items()
        }

    def _txn(self, fn: Any) -> Any:
        for attempt in range(8):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(self.conn)
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                self.conn.execute("COMMIT")
                return result
            except self.busy:
                if attempt == 7:
                    raise
                time.sleep(0.05 * 2**attempt)
        return None

    def claim(self, now: datetime) -> tuple[int, int] | None:
        if self.floor is not None:
            return self.floor.claim(now)
        params = {
            "agent": self.agent,
            "campaign": self.campaign,
            "chamber": self.chamber,
            "now": now,
            "lease": now + timedelta(minutes=15),
            "true": True,
        }

        def run(c: Any) -> Any:
            c.execute(self.sql["wake"], params)
            return c.execute(self.sql["claim"], params).fetchone()

        row = self._txn(run)
        if row is None:
            return None
        task_id, business_id = row[0], row[1]
        # what the call screen reads (autocommit reads, as the project does after the claim)
        cur = self.conn.execute(self.sql["business"], {"business": business_id})
        business = cur.fetchone()
        self.conn.execute(self.sql["history"], {"business": business_id}).fetchall()
        self.chamber_of = business[6]
        return task_id, business_id

    def record(
        self,
        uuid: str,
        task_id: int,
        business_id: int,
        outcome: str,
        started: datetime,
        now: datetime,
        answers: dict[str, str] | None = None,
        referral: str | None = None,
    ) -> int:
        if self.floor is not None:
            return self.floor.record(
                uuid, task_id, business_id, outcome, started, now, answers, referral
            )
        from outreach.domain.outcomes import OUTCOMES_BY_CODE

        reached = OUTCOMES_BY_CODE[outcome].reached
        retry = OUTCOMES_BY_CODE[outcome].effect == "retry"

        def run(c: Any) -> int:
            existing = c.execute(self.sql["check"], {"uuid": uuid}).fetchone()
            if existing:
                return int(existing[0])
            attempts, _state, _holder = c.execute(self.sql["task"], {"task": task_id}).fetchone()
            call_id = c.execute(
                self.sql["call"],
                {
                    "uuid": uuid,
                    "task": task_id,
                    "campaign": self.campaign,
                    "business": business_id,
                    "agent": self.agent,
                    "chamber": self.chamber_of,
                    "phone": None,
                    "started": started,
                    "ended": now,
                    "outcome": outcome,
                    "reached": reached,
                    "false": False,
                    "now": now,
                },
            ).fetchone()[0]
            c.execute(
                self.sql["update"],
                {
                    "attempts": attempts + 1,
                    "state": "waiting" if retry else "done",
                    "next": now + timedelta(hours=1) if retry else None,
                    "outcome": outcome,
                    "now": now,
                    "task": task_id,
                },
            )
            for question, answer in (answers or {}).items():
                c.execute(
                    self.sql["answer"], {"call": call_id, "question": question, "answer": answer}
                )
            if referral:
                c.execute(
                    self.sql["referral"],
                    {"call": call_id, "business": business_id, "kind": referral, "now": now},
                )
            c.execute(
                self.sql["audit"],
                {
                    "now": now,
                    "agent": self.agent,
                    "entity": str(call_id),
                    "detail": json.dumps({"uuid": uuid, "task_id": task_id, "outcome": outcome}),
                },
            )
            return int(call_id)

        return int(self._txn(run))

    def close(self) -> None:
        self.conn.close()


class BareSide:
    """`BareAgent` as a side of the load test's simulated agent (`outreach.services.loadtest`)."""

    name = "bare"

    def __init__(self, plan: Plan, index: int) -> None:
        self.agent = BareAgent(plan.url, plan.agent_ids[index], plan.campaign_id, plan.chamber_id)

    def claim(self) -> Claimed | None:
        got = self.agent.claim(utcnow())
        return None if got is None else Claimed(*got)

    def record(self, call: CallInput) -> bool:
        assert call.task_id is not None
        self.agent.record(
            call.uuid,
            call.task_id,
            call.business_id,
            call.outcome,
            call.started_at.replace(tzinfo=None),
            call.ended_at.replace(tzinfo=None),
            answers=dict(call.answers),
            referral=call.referrals[0].kind if call.referrals else None,
        )
        return False

    def close(self) -> dict[str, int]:
        self.agent.close()
        return {}
