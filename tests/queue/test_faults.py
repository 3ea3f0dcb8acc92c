"""Faults: a PostgreSQL connection lost mid-record rolls back and the same call replays."""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, func, select

from outreach.db.engine import Database
from outreach.db.models import AuditLog, Call, CallTask
from outreach.errors import DatabaseUnavailable
from outreach.services.queue import claim_next, record_call
from outreach.services.types import CallInput
from tests.dbutil import _admin_conninfo
from tests.factories import make_agent, make_business, make_campaign, make_task

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.postgresql
def test_connection_lost_mid_record_rolls_back_and_replays(pg_db: Database) -> None:
    agent = make_agent(pg_db)
    camp = make_campaign(pg_db)
    tid = make_task(pg_db, camp, make_business(pg_db))
    task = claim_next(pg_db, agent, camp, now=NOW)
    assert task is not None
    call = CallInput(
        uuid=str(uuidlib.uuid4()),
        agent_id=agent,
        campaign_id=camp,
        business_id=task.business.id,
        task_id=tid,
        outcome="no_answer",
        started_at=NOW,
        ended_at=NOW + timedelta(minutes=1),
    )

    def kill_on_call_insert(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        # the statement that writes the call (on PostgreSQL, a CTE that writes the task too)
        if "INSERT INTO calls" in statement:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    event.listen(pg_db.engine, "before_cursor_execute", kill_on_call_insert)
    try:
        with pytest.raises(DatabaseUnavailable):
            record_call(pg_db, call, now=NOW)
    finally:
        event.remove(pg_db.engine, "before_cursor_execute", kill_on_call_insert)
    with pg_db.reading() as s:
        assert s.execute(select(func.count()).select_from(Call)).scalar_one() == 0
        t = s.execute(select(CallTask).where(CallTask.id == tid)).scalar_one()
        assert (t.attempts, t.claimed_by) == (0, agent)  # the task update rolled back too
    first = record_call(pg_db, call, now=NOW)
    assert not first.replayed and first.task_state == "waiting"
    again = record_call(pg_db, call, now=NOW)
    assert again.replayed and again.call_id == first.call_id
    with pg_db.reading() as s:
        assert s.execute(select(func.count()).select_from(Call)).scalar_one() == 1
        audits = s.execute(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "call.record")
        ).scalar_one()
    assert audits == 1


def test_sqlite_busy_is_retried_not_shown(sqlite_db: Database) -> None:
    """Another connection holds the write lock briefly: the record waits, never 'locked'."""
    import sqlite3
    import threading

    agent = make_agent(sqlite_db)
    camp = make_campaign(sqlite_db)
    tid = make_task(sqlite_db, camp, make_business(sqlite_db))
    task = claim_next(sqlite_db, agent, camp, now=NOW)
    assert task is not None
    blocker = sqlite3.connect(
        sqlite_db.url.database or "", isolation_level=None, check_same_thread=False
    )
    blocker.execute("BEGIN IMMEDIATE")
    committed = threading.Event()

    def commit() -> None:
        blocker.execute("COMMIT")
        committed.set()

    threading.Timer(0.5, commit).start()
    res = record_call(
        sqlite_db,
        CallInput(
            uuid=str(uuidlib.uuid4()),
            agent_id=agent,
            campaign_id=camp,
            business_id=task.business.id,
            task_id=tid,
            outcome="reached",
            started_at=NOW,
            ended_at=NOW,
        ),
        now=NOW,
    )
    # it waited for the other connection's commit, then went through
    assert res.task_state == "done" and committed.is_set()
    blocker.close()
