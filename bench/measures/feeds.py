"""`rollup`, `dashboard`, `board`: the supervisors' figures, next to their own SQL replayed
on the plain driver.
"""

from __future__ import annotations

import contextlib
import sqlite3
import statistics
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event

from bench.context import AGENT, SUPERVISOR, Bench, raw_connect
from bench.measures.claim import work_calls
from bench.report import Row
from outreach.db.engine import Database
from outreach.services import agent_states
from outreach.services import rollup as rollups
from outreach.services.agents import get_agent
from outreach.services.board import BoardFeed
from outreach.services.dashboard import DashboardFeed
from outreach.services.selection import CallFilter, resolve


@contextlib.contextmanager
def captured_sql(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every statement `db` sends to the driver meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def replay_bare(url: str, statements: list[tuple[str, Any]]) -> float:
    conn = raw_connect(url)
    try:
        t0 = time.perf_counter()
        if isinstance(conn, sqlite3.Connection):
            for sql, params in statements:
                conn.execute(sql, params or ()).fetchall()
        else:
            with conn.cursor() as cur:
                for sql, params in statements:
                    cur.execute(sql, params or None)
                    if cur.description is not None:
                        cur.fetchall()
            conn.rollback()
        return time.perf_counter() - t0
    finally:
        conn.close()


def measure_rollup(bench: Bench) -> None:
    supervisor = get_agent(bench.db, SUPERVISOR)
    sel = resolve(bench.db, supervisor, CallFilter())
    # one untimed run first (its statements are the reference's, and it warms the caches for
    # both sides), then rounds in alternating order, so neither side always runs first
    with captured_sql(bench.db) as seen:
        result = rollups.rollup(bench.db, sel, ("lockdown",))
    statements = [(s, p) for s, p in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    rounds = 4
    project, bare = [], []

    def run_project() -> None:
        t0 = time.perf_counter()
        rollups.rollup(bench.db, sel, ("lockdown",))
        project.append(time.perf_counter() - t0)

    for i in range(rounds):
        if i % 2:
            bare.append(replay_bare(bench.url, statements))
            run_project()
        else:
            run_project()
            bare.append(replay_bare(bench.url, statements))
    bench.add(
        Row(
            "rollup_lockdowns",
            "ms",
            statistics.median(project) * 1000,
            statistics.median(bare) * 1000,
            "<= 1.2x bare",
            "max_ratio",
            1.2,
            {"contacts": result.total["contacts"], "statements": len(statements)},
        )
    )


def measure_dashboard(bench: Bench) -> None:
    supervisor = get_agent(bench.db, SUPERVISOR)
    agent = get_agent(bench.db, AGENT)
    campaign_id = bench.live_campaign_id()
    feed = DashboardFeed(bench.db, supervisor)
    t0 = time.perf_counter()
    first = feed.refresh()
    full_ms = (time.perf_counter() - t0) * 1000
    times = []
    for _ in range(6):
        work_calls(bench.db, agent.id, campaign_id, 5)  # new calls since the last refresh
        t0 = time.perf_counter()
        feed.refresh()
        times.append((time.perf_counter() - t0) * 1000)
    bench.add(
        Row(
            "dashboard_refresh",
            "ms",
            statistics.median(times),
            None,
            "< 100 ms",
            "max",
            100.0,
            {"full_load_ms": full_ms, "max_ms": max(times), "contacts": first.total.contacts},
        )
    )


def measure_board(bench: Bench) -> None:
    """The live agent board of the national supervisor (every seeded adviser: 11,000 x scale),
    refreshed after a few advisers changed state each time."""
    supervisor = get_agent(bench.db, SUPERVISOR)
    feed = BoardFeed(bench.db, supervisor)
    first = feed.refresh()  # the advisers' names are read once
    movers = [r.agent_id for r in first.rows if r.state in ("on_call", "wrap_up")][:10]
    times = []
    for i in range(10):
        for agent_id in movers:
            if i % 2 == 0:
                agent_states.set_state(bench.db, agent_id, "paused", reason="admin")
            else:
                agent_states.set_state(bench.db, agent_id, "ready")
        t0 = time.perf_counter()
        board = feed.refresh()
        times.append((time.perf_counter() - t0) * 1000)
    bench.add(
        Row(
            "board_refresh",
            "ms",
            statistics.median(times),
            None,
            "< 100 ms",
            "max",
            100.0,
            {"max_ms": max(times), "advisers": len(board.rows), "states": board.counts},
        )
    )
