"""The claim's team-callback candidate goes through ix_call_tasks_team_callbacks: a chamber's
own due callbacks in due order, not the due callbacks of every chamber of a national campaign
(which ix_call_tasks_due walks before finding one of the chamber's). SQLite and PostgreSQL, on a
campaign shaped like the national one: many callbacks due in other chambers, few in the agent's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from outreach.db.engine import Database
from outreach.services.queue.claim import _claim_stmt
from tests.factories import chamber_id, claim, make_agent, make_campaign, make_queue

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday


def _plan(conn: Connection, db: Database, params: dict[str, Any]) -> str:
    stmt = _claim_stmt(db.is_postgresql, True, True, False)
    compiled = stmt.compile(dialect=conn.dialect)
    values = compiled.construct_params(params)
    if db.is_postgresql:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a few rows: it would scan
        rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", values).all()
        return "\n".join(r[0] for r in rows)
    positional = tuple(values[k] for k in compiled.positiontup or ())
    rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", positional).all()
    return "\n".join(r[-1] for r in rows)


def test_team_callbacks_are_found_through_their_chamber(db: Database) -> None:
    camp = make_campaign(db)  # national
    due = NOW - timedelta(hours=1)
    fields: dict[str, Any] = {"state": "callback", "next_attempt_at": due, "callback_team_at": due}
    for department in ("13", "69", "33", "59"):
        make_queue(db, camp, 40, department=department, **fields)
    make_queue(db, camp, 3, department="75", **fields)
    make_queue(db, camp, 40, department="75")
    with db.write_conn() as conn:
        conn.exec_driver_sql("ANALYZE")
    agent = make_agent(db, chamber="IDF")
    params = {
        "agent": agent,
        "campaign": camp,
        "now": NOW,
        "lease": NOW + timedelta(minutes=10),
        "chamber": chamber_id(db, "IDF"),
    }
    with db.read_conn() as conn, conn.begin():
        plan = _plan(conn, db, params)
    assert "ix_call_tasks_team_callbacks" in plan, plan
    # and the claim takes the chamber's callbacks first
    first = claim(db, agent, camp, now=NOW)
    assert first.business.department == "75"
    assert first.is_callback
