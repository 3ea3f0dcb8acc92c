"""The load test's bare-SQL twin: the same claim and record transactions written by hand for the
raw driver (sqlite3 / psycopg), to measure what the project's layers cost.

Claim: the waiting tasks that are due made queued, then the same one-statement UPDATE ...
RETURNING (SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite), then the business row and its
history as the call screen reads them. Record: uuid check, call row, task update (a retry waits:
state "waiting"), audit row, in one transaction.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import make_url

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


def _pg_style(sql: str) -> str:
    return re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)


class BareAgent:
    """One simulated agent speaking SQL straight to the driver."""

    def __init__(self, url: str, agent_id: int, campaign_id: int, chamber_id: int | None) -> None:
        u = make_url(url)
        self.pg = u.get_backend_name() == "postgresql"
        self.agent, self.campaign, self.chamber = agent_id, campaign_id, chamber_id
        if self.pg:
            import psycopg

            conninfo = u.set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn: Any = psycopg.connect(conninfo)
            self.busy: tuple[type[BaseException], ...] = (psycopg.errors.SerializationFailure,)
        else:
            self.conn = sqlite3.connect(u.database or "", timeout=30, isolation_level=None)
            for pragma in ("busy_timeout = 30000", "journal_mode = WAL", "synchronous = NORMAL"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.busy = (sqlite3.OperationalError,)
        self.sql = {
            name: (_pg_style(text) if self.pg else text)
            for name, text in {
                "wake": WAKE.format(lock="FOR UPDATE SKIP LOCKED" if self.pg else ""),
                "claim": claim_sql(self.pg, chamber_id is not None),
                "check": RECORD_CHECK,
                "task": TASK_FOR_UPDATE.format(lock="FOR UPDATE" if self.pg else ""),
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
                if self.pg:
                    with self.conn.transaction():
                        return fn(self.conn)
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
        if self.pg:
            self.conn.commit()
        self.chamber_of = business[6]
        return task_id, business_id

    def record(
        self,
        uuid: str,
        task_id: int,
        business_id: int,
        outcome: str,
        reached: bool,
        started: datetime,
        now: datetime,
        retry: bool,
        answers: dict[str, str] | None = None,
        referral: str | None = None,
    ) -> int:
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
