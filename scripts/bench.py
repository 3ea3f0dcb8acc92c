#!/usr/bin/env python
"""Benchmarks at national scale (issue 6): every hot path next to its bare floor, in one run.

    python scripts/bench.py [--scale F] [--db sqlite|postgresql] [--only NAME[,NAME]]
                            [--json PATH] [--keep] [--agents N,M] [--seconds S]

Seeds the national profile at --scale (default 1.0) into a fresh database (a SQLite file in a
temporary directory, or a throwaway PostgreSQL database on 127.0.0.1 dropped at the end), then
runs each measure next to its bare reference in the same process/session, so the ratio holds on
a noisy machine. The project's side always goes through the project's own services or CLI; the
reference is the plain driver (or tool) doing the same work. Prints a table (measure, project,
reference, ratio, target, pass/fail) and writes the JSON with --json.

Measures (names for --only): seed, claim_record, claim_latency, rollup, dashboard, board,
export, import, search, tui_keys, tui_start (which also gives tui_memory), simulate (claims
after --days simulated working days, last; it adds calls).
`--scale 0.002` is the CI smoke test (tests/test_bench_smoke.py): it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import platform
import pty
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the `bench` package beside `outreach` (not this script's folder)

import phonenumbers
import psycopg
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from outreach.db import migrate
from outreach.db.engine import Database, open_database
from outreach.db.models import Business, Campaign
from outreach.domain.siret import luhn_complete
from outreach.services import agent_states
from outreach.services import rollup as rollups
from outreach.services.agents import get_agent
from outreach.services.board import BoardFeed
from outreach.services.dashboard import DashboardFeed
from outreach.services.queue import claim_next, record_call, search_businesses
from outreach.services.seeding import COLUMNS, load_reference, national_batches
from outreach.services.seeding.writer import BIG_TABLES
from outreach.services.selection import CallFilter, resolve
from outreach.services.types import CallInput

PG_ADMIN = os.environ.get(
    "OUTREACH_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
GROUPS = (
    "seed",
    "claim_record",
    "claim_latency",
    "rollup",
    "dashboard",
    "board",
    "export",
    "import",
    "search",
    "tui_keys",
    "tui_paste",
    "tui_start",
    "simulate",
)
LIVE_CAMPAIGN = "Accompagnement numérique des artisans (en cours)"
SUPERVISOR = "cmaf.superviseur"  # national supervisor (seeded)
AGENT = "idf.agent1"  # IDF agent (seeded), works the live campaign
OUTCOME_KEY_NO_ANSWER = "2"


# --- results --------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    unit: str
    project: float | None
    reference: float | None = None
    target: str = ""
    # "max_ratio" (project/reference <= limit), "min_ratio" (>=), "max" (project <= limit),
    # "min" (project >= limit), "info" (no target here)
    rule: str = "max"
    limit: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.project is None or not self.reference:
            return None
        return self.project / self.reference

    @property
    def passed(self) -> bool | None:
        if self.project is None:
            return None
        if self.rule == "max_ratio":
            return self.ratio is not None and self.ratio <= self.limit
        if self.rule == "min_ratio":
            return self.ratio is not None and self.ratio >= self.limit
        if self.rule == "max":
            return self.project <= self.limit
        if self.rule == "info":  # a figure with no target on this backend
            return None
        return self.project >= self.limit

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        out["passed"] = self.passed
        return out


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        text_ = f"{value:,.0f}".replace(",", " ")
    elif abs(value) >= 10:
        text_ = f"{value:.1f}"
    else:
        text_ = f"{value:.2f}"
    return f"{text_} {unit}"


def print_table(rows: list[Row]) -> None:
    head = ("measure", "project", "reference", "ratio", "target", "result")
    lines = [
        (
            r.name,
            _fmt(r.project, r.unit),
            _fmt(r.reference, r.unit),
            "-" if r.ratio is None else f"{r.ratio:.2f}x",
            r.target,
            {True: "pass", False: "FAIL", None: "n/a"}[r.passed],
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines, strict=True)]
    for line in (head, *lines):
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1), nearest rank."""
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- databases ------------------------------------------------------------------------------------


class Target:
    """A fresh database for the run: a SQLite file, or a throwaway PostgreSQL database."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self.made: list[str] = []

    def new(self, label: str) -> str:
        if self.backend == "sqlite":
            path = self.workdir / f"{label}.sqlite3"
            return f"sqlite:///{path}"
        name = f"outreach_bench_{label}_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self.made:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()

    def drop(self, url: str) -> None:
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(make_url(url).database + suffix)
            return
        name = make_url(url).database
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.made:
            self.made.remove(name)

    @staticmethod
    def _admin(sql: str) -> None:
        conninfo = make_url(PG_ADMIN).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]


def raw_connect(url: str) -> Any:
    """A plain driver connection (sqlite3 / psycopg) to `url`."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        conn = sqlite3.connect(u.database, isolation_level=None)
        # the connection settings of outreach.db.engine: a floor with a 2 MB page cache would
        # flatter the project
        for pragma in (
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "temp_store = MEMORY",
            "cache_size = -65536",
        ):
            conn.execute(f"PRAGMA {pragma}")
        return conn
    return psycopg.connect(u.set(drivername="postgresql").render_as_string(hide_password=False))


def cli_env(url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["OUTREACH_DATABASE_URL"] = url
    env.setdefault("OUTREACH_LANG", "fr")
    env.update(extra)
    return env


def outreach_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "outreach", *args]


def _vm_hwm_kb(pid: int) -> int:
    """The peak resident set of process `pid` since its exec (VmHWM), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_child(
    cmd: list[str], env: dict[str, str] | None = None, stdout: Any = None
) -> tuple[float, int, str]:
    """Run `cmd`; (wall seconds, peak RSS of the child in KB, stderr tail). Fails loudly.

    The peak is VmHWM read from /proc every 5 ms until the child exits (its own memory since
    exec: wait4's ru_maxrss would include this process's size at fork time on Linux)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=stdout or subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT
    )
    err_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()))  # type: ignore[union-attr]
    reader.start()
    peak = 0
    while True:
        pid, status = os.waitpid(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, _vm_hwm_kb(proc.pid))
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = b"".join(err_chunks).decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])}... exited {proc.returncode}: {err[-2000:]}")
    return seconds, peak, err[-500:]


# --- context --------------------------------------------------------------------------------------


@dataclass
class Bench:
    args: argparse.Namespace
    target: Target
    url: str
    db: Database
    workdir: Path
    rows: list[Row] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def sqlite(self) -> bool:
        return self.target.backend == "sqlite"

    @property
    def scale(self) -> float:
        return float(self.args.scale)

    def live_campaign_id(self) -> int:
        with self.db.reading() as s:
            return int(
                s.execute(select(Campaign.id).where(Campaign.name == LIVE_CAMPAIGN)).scalar_one()
            )

    def add(self, row: Row) -> None:
        self.rows.append(row)
        log(
            f"{row.name}: project {_fmt(row.project, row.unit)}, reference "
            f"{_fmt(row.reference, row.unit)}, {row.target}: "
            f"{ {True: 'pass', False: 'FAIL', None: 'n/a'}[row.passed] }"
        )


# --- seed -----------------------------------------------------------------------------------------


def seed_project(bench: Bench) -> float:
    """`outreach db upgrade` then `outreach seed --profile national --scale F` (timed)."""
    env = cli_env(bench.url)
    run_child(outreach_cmd("db", "upgrade"), env)
    seconds, _rss, _err = run_child(
        outreach_cmd("seed", "--profile", "national", "--scale", repr(bench.scale)), env
    )
    return seconds


def seed_bare(bench: Bench) -> tuple[float, int]:
    """The same rows (the seeding package's generator, untimed) written by the plain driver into
    a fresh migrated database: executemany (SQLite) or COPY (PostgreSQL), secondary indexes
    dropped before and built after, one transaction. Only the driver's work is timed."""
    url = bench.target.new("bare_seed")
    try:
        db = open_database(url)
        migrate.upgrade(db)
        with db.reading() as s:
            ref = load_reference(s)
        db.dispose()
        conn = raw_connect(url)
        spent = 0.0
        rows = 0
        t0 = time.perf_counter()
        if bench.sqlite:
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("PRAGMA cache_size = -262144")  # as the seeding writer: 256 MB to sort
            conn.execute("BEGIN IMMEDIATE")
            marks = ",".join("?" for _ in BIG_TABLES)
            indexes = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks})",
                BIG_TABLES,
            ).fetchall()
            for name, _sql in indexes:
                conn.execute(f'DROP INDEX "{name}"')
        else:
            cur = conn.cursor()
            cur.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
                "current_schema() AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM "
                "pg_constraint c WHERE c.conname = i.indexname)",
                (list(BIG_TABLES),),
            )
            indexes = cur.fetchall()
            cur.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM "
                "pg_constraint c WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)",
                (list(BIG_TABLES),),
            )
            fks = cur.fetchall()
            for name, _sql in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            for table, name, _d in fks:
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        spent += time.perf_counter() - t0
        for batch in national_batches(ref, bench.scale):
            cols = COLUMNS[batch.table]
            t0 = time.perf_counter()
            if bench.sqlite:
                conn.executemany(
                    f"INSERT INTO {batch.table} ({','.join(cols)}) "
                    f"VALUES ({','.join('?' * len(cols))})",
                    batch.rows,
                )
            else:
                with cur.copy(f"COPY {batch.table} ({','.join(cols)}) FROM STDIN") as copy:
                    for row in batch.rows:
                        copy.write_row(row)
            spent += time.perf_counter() - t0
            rows += len(batch.rows)
        t0 = time.perf_counter()
        if bench.sqlite:
            for _name, sql in indexes:
                conn.execute(sql)
            conn.execute("COMMIT")
        else:
            for _name, sql in indexes:
                cur.execute(sql)
            for table, name, definition in fks:
                cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            conn.commit()
        spent += time.perf_counter() - t0
        conn.close()
        return spent, rows
    finally:
        bench.target.drop(url)


def measure_seed(bench: Bench, project_seconds: float) -> None:
    bare, rows = seed_bare(bench)
    bench.add(
        Row(
            "seed",
            "s",
            project_seconds,
            bare,
            "<= 2x bare",
            "max_ratio",
            2.0,
            {"rows": rows, "reference": "driver time only (rows generated untimed)"},
        )
    )


# --- claim + record -------------------------------------------------------------------------------


def compare_sides(
    calls_by_side: dict[str, int], seconds: float, slice_seconds: float
) -> dict[str, dict[str, Any]]:
    """Calls per second of each side of a load test alternating project and bare in slices
    (the project's first): each side's calls over the time its slices lasted."""
    spent = {"project": 0.0, "bare": 0.0}
    k = 0
    while k * slice_seconds < seconds:
        spent["project" if k % 2 == 0 else "bare"] += min(
            slice_seconds, seconds - k * slice_seconds
        )
        k += 1
    out: dict[str, dict[str, Any]] = {}
    for side, took in spent.items():
        calls = calls_by_side.get(side, 0)
        rate = calls / took if took else 0.0
        out[side] = {"calls": calls, "seconds": took, "calls_per_second": round(rate, 1)}
    return out


def measure_claim_record(bench: Bench) -> None:
    from bench.bare import BareSide
    from outreach.services.loadtest import ProjectSide, run_loadtest

    counts = (
        [int(x) for x in bench.args.agents.split(",")]
        if bench.args.agents
        else ([1, 8] if bench.sqlite else [1, 32])
    )
    limit = 0.5 if bench.sqlite else 0.8
    seconds = bench.args.seconds
    # one "compare" run per agent count: every agent process alternates between the project's
    # services and the bare twin in 1-second slices, so both sides see the same machine load
    # (two separate runs on a shared machine measured the neighbours as much as the code)
    slice_seconds = 1.0 if seconds >= 2 else seconds / 2
    if not bench.sqlite:
        measure_round_trips(bench)
    for n in counts:
        log(f"loadtest {n} agent(s), project and bare alternating, {2 * seconds:g} s")
        summary = run_loadtest(
            bench.url,
            n,
            2 * seconds,
            campaign=LIVE_CAMPAIGN,
            sides=(ProjectSide, BareSide),
            slice_seconds=slice_seconds,
        )
        shutil.rmtree(summary.get("logs", ""), ignore_errors=True)
        sides = compare_sides(summary["calls_by_side"], 2 * seconds, slice_seconds)
        bench.add(
            Row(
                f"claim_record_{n}",
                "calls/s",
                float(sides["project"]["calls_per_second"]),
                float(sides["bare"]["calls_per_second"]),
                f">= {limit}x bare",
                "min_ratio",
                limit,
                {
                    "agents": n,
                    "seconds": 2 * seconds,
                    "slice_seconds": slice_seconds,
                    "ok": summary["ok"],
                    "project_calls": sides["project"]["calls"],
                    "bare_calls": sides["bare"]["calls"],
                    "errors": summary["errors"],
                    "error_samples": summary["error_samples"][:2],
                },
            )
        )


def measure_round_trips(bench: Bench) -> None:
    """PostgreSQL: round trips of a claim and of a record, the project's services against the
    bare floor, counted by a TCP proxy (bench/roundtrips.py; every outcome in turn)."""
    from bench.roundtrips import measure

    got = measure(bench.url, 27)
    for step in ("claim", "record"):
        bench.add(
            Row(
                f"{step}_round_trips",
                "round trips",
                float(got["project"][step][0]),
                float(got["bare"][step][0]),
                "<= bare floor",
                "max_ratio",
                1.0,
                {
                    "project_messages": got["project"][step][1],
                    "bare_messages": got["bare"][step][1],
                    **(
                        {"project_by_outcome": got["project"]["by_outcome"]}
                        if step == "record"
                        else {}
                    ),
                },
            )
        )


def _record_no_answer(db: Database, agent_id: int, task: Any) -> None:
    now = datetime.now(UTC)
    record_call(
        db,
        CallInput(
            uuid=str(uuid.uuid4()),
            agent_id=agent_id,
            campaign_id=task.campaign_id,
            business_id=task.business.id,
            task_id=task.task_id,
            outcome="no_answer",
            started_at=now - timedelta(seconds=30),
            ended_at=now,
        ),
    )


def work_calls(db: Database, agent_id: int, campaign_id: int, n: int) -> list[float]:
    """Claim and record `n` calls as the agent; the claim times (ms)."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        task = claim_next(db, agent_id, campaign_id)
        times.append((time.perf_counter() - t0) * 1000)
        if task is None:
            break
        _record_no_answer(db, agent_id, task)
    return times


def measure_claim_latency(bench: Bench) -> None:
    campaign_id = bench.live_campaign_id()
    with bench.db.reading() as s:
        queued = s.execute(
            text("SELECT count(*) FROM call_tasks WHERE campaign_id = :c AND state = 'queued'"),
            {"c": campaign_id},
        ).scalar_one()
    agent = get_agent(bench.db, AGENT)
    n = 300 if bench.scale >= 0.05 else 40
    work_calls(bench.db, agent.id, campaign_id, 5)  # warm caches and connections
    times = work_calls(bench.db, agent.id, campaign_id, n)
    bench.add(
        Row(
            "claim_latency_p99",
            "ms",
            pct(times, 0.99),
            None,
            # the issue sets this target on SQLite; PostgreSQL's figure is shown without one
            "p99 < 5 ms" if bench.sqlite else "(p99 < 5 ms on SQLite)",
            "max" if bench.sqlite else "info",
            5.0,
            {"p50_ms": pct(times, 0.5), "claims": len(times), "tasks_queued": int(queued)},
        )
    )


def measure_simulate(bench: Bench) -> None:
    """`outreach simulate`: IDF agents (20 x scale, at least 2) work the live campaign for
    --days working days on a simulated clock; claim p50/p99 of the last day against the
    first. Runs last: it adds calls to the database."""
    from outreach.services.simulate import simulate

    agents = max(2, round(20 * bench.scale))
    days = int(bench.args.days)
    log(f"simulate {days} day(s), {agents} agents of IDF on the live campaign")
    summary = simulate(
        bench.db,
        days,
        agents,
        chamber="IDF",
        campaign=LIVE_CAMPAIGN,
        progress=lambda d: log(
            f"  day {d.day}: {d.calls} calls, claim p50 {d.claim_p50_ms:.2f} ms, "
            f"p99 {d.claim_p99_ms:.2f} ms, {d.waiting_at_end} waiting"
        ),
    )
    first, last = summary["first_day"], summary["last_day"]
    detail = {
        "agents": agents,
        "days": days,
        "calls": summary["calls"],
        "seconds": summary["seconds"],
        "waiting_after_last_day": last["waiting_at_end"],
        "queued_after_last_day": last["queued_at_end"],
    }
    bench.add(
        Row(
            "simulated_claim_p50",
            "ms",
            float(last["claim_p50_ms"]),
            float(first["claim_p50_ms"]),
            f"day {days} <= 1.5x day 1",
            "max_ratio",
            1.5,
            detail,
        )
    )
    limit = 5.0 if bench.sqlite else 10.0
    bench.add(
        Row(
            "simulated_claim_p99",
            "ms",
            float(last["claim_p99_ms"]),
            float(first["claim_p99_ms"]),
            f"day {days} p99 < {limit:g} ms",
            "max",
            limit,
            {"reference": "day 1"},
        )
    )


# --- roll-up, dashboard ---------------------------------------------------------------------------


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


# --- export ---------------------------------------------------------------------------------------


def bare_calls_query(url: str, keys: list[str], sqlite: bool) -> str:
    """The export's joined query in plain SQL: calls with business, agent, chamber, campaign,
    lockdown, referral kinds and one column per script answer, in call order."""
    agg = "group_concat(r.kind, ',')" if sqlite else "string_agg(r.kind, ',' ORDER BY r.id)"
    answers = "".join(
        f", (SELECT a.answer FROM call_answers a WHERE a.call_id = c.id AND a.question = "
        f"'{k.replace(chr(39), chr(39) * 2)}' LIMIT 1)"
        for k in keys
    )
    return (
        "SELECT c.uuid, c.started_at, c.ended_at, ag.login, ch.code, cp.name, l.name, b.siret, "
        "b.name, b.department, coalesce(c.phone, b.phone), c.outcome, "
        f"(SELECT {agg} FROM referrals r WHERE r.call_id = c.id), c.notes{answers} "
        "FROM calls c JOIN businesses b ON b.id = c.business_id "
        "LEFT JOIN agents ag ON ag.id = c.agent_id LEFT JOIN chambers ch ON ch.id = c.chamber_id "
        "LEFT JOIN campaigns cp ON cp.id = c.campaign_id "
        "LEFT JOIN lockdowns l ON l.id = cp.lockdown_id ORDER BY c.id"
    )


def measure_export(bench: Bench) -> None:
    out = bench.workdir / "calls.csv"
    env = cli_env(bench.url, OUTREACH_AS=SUPERVISOR)
    seconds, rss_kb, _err = run_child(outreach_cmd("export", "calls", "--out", str(out)), env)
    with out.open(encoding="utf-8-sig") as f:
        header = next(csv.reader(f, delimiter=";"))
    keys = [h.removeprefix("answer_") for h in header[14:]]
    size = out.stat().st_size
    out.unlink()
    query = bare_calls_query(bench.url, keys, bench.sqlite)
    bare_out = bench.workdir / "calls-bare.csv"
    if bench.sqlite:
        cmd = ["sqlite3", "-csv", "-header", make_url(bench.url).database, query]
    else:
        u = make_url(bench.url)
        cmd = [
            "psql",
            "-X",
            "-q",
            "-h",
            u.host or "127.0.0.1",
            "-p",
            str(u.port or 5432),
            "-U",
            u.username or "postgres",
            "-d",
            u.database,
            "-c",
            f"\\copy ({query}) TO STDOUT WITH (FORMAT csv, HEADER)",
        ]
    with bare_out.open("wb") as sink:
        bare_seconds, bare_rss, _ = run_child(cmd, None, stdout=sink)
    bare_size = bare_out.stat().st_size
    bare_out.unlink()
    with bench.db.reading() as s:
        calls = s.execute(text("SELECT count(*) FROM calls")).scalar_one()
    bench.add(
        Row(
            "export_calls",
            "s",
            seconds,
            bare_seconds,
            "<= 2x bare",
            "max_ratio",
            2.0,
            {"calls": int(calls), "bytes": size, "reference_bytes": bare_size},
        )
    )
    bench.add(
        Row(
            "export_memory",
            "MB",
            rss_kb / 1024,
            bare_rss / 1024,
            "< 150 MB",
            "max",
            150.0,
            {"measured": "peak RSS (VmHWM) of the `outreach export calls` process"},
        )
    )


# --- import ---------------------------------------------------------------------------------------


def make_import_csv(bench: Bench, path: Path, n: int) -> list[str]:
    """`n` valid rows (new SIRETs; postcodes, cities and phones of seeded businesses, as people
    type them); returns the phones as written."""
    with bench.db.reading() as s:
        samples = s.execute(
            select(Business.postcode, Business.city, Business.phone, Business.trade_code)
            .where(Business.phone.is_not(None), Business.postcode.is_not(None))
            .limit(5000)
        ).all()
    rng = random.Random(6)
    phones = []
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(
            [
                "SIRET",
                "Raison sociale",
                "Code APE",
                "Adresse",
                "Code postal",
                "Commune",
                "Téléphone",
            ]
        )
        for i in range(n):
            postcode, city, e164, trade = samples[i % len(samples)]
            siren = luhn_complete(f"{90000000 + i:08d}"[-8:])
            siret = luhn_complete(siren + f"{1 + rng.randrange(9):04d}")
            national = phonenumbers.format_number(
                phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL
            )
            phones.append(national)
            w.writerow(
                [
                    siret,
                    f"Atelier Bench {i:07d}",
                    trade or "",
                    f"{1 + i % 90} rue des Artisans",
                    postcode,
                    city,
                    national,
                ]
            )
    return phones


def measure_import(bench: Bench) -> None:
    n = max(500, round(850_000 * bench.scale))
    path = bench.workdir / "import.csv"
    phones = make_import_csv(bench, path, n)
    env = cli_env(bench.url, OUTREACH_AS=SUPERVISOR)
    seconds, _rss, err = run_child(
        outreach_cmd(
            "import", "businesses", str(path), "--rejects", str(bench.workdir / "rej.csv")
        ),
        env,
    )
    t0 = time.perf_counter()
    for p in phones:
        phonenumbers.is_valid_number(phonenumbers.parse(p, "FR"))
    bare = time.perf_counter() - t0
    path.unlink()
    rejected = 0
    rej = bench.workdir / "rej.csv"
    if rej.exists():
        rejected = max(0, sum(1 for _ in rej.open(encoding="utf-8-sig")) - 1)
        rej.unlink()
    bench.add(measure_parse_phone())
    bench.add(
        Row(
            "import_businesses",
            "rows/s",
            n / seconds,
            n / bare,
            ">= 20 000 rows/s",
            "min",
            20_000.0,
            {"rows": n, "seconds": seconds, "rejected": rejected, "cli_stderr": err.strip()[-200:]},
        )
    )


def measure_parse_phone() -> Row:
    """parse_phone per typed phone (was a timed unit test): an 850,000-row import at 20,000
    rows/s with two phones a row leaves 25 µs per phone. Reference: phonenumbers' parse and
    validity check of the same texts. Best of three passes."""
    from outreach.domain.phones import InvalidPhone, parse_phone

    rng = random.Random(1)
    typed = [
        f"0{rng.choice('1234567')} {rng.randrange(100):02d} {rng.randrange(100):02d} "
        f"{rng.randrange(100):02d} {rng.randrange(100):02d}"
        for _ in range(20_000)
    ] + [f"0692 {rng.randrange(1_000_000):06d}" for _ in range(5_000)]

    def ours() -> None:
        for t in typed:
            try:
                parse_phone(t, "974")
            except InvalidPhone:
                pass

    def theirs() -> None:
        for t in typed:
            try:
                phonenumbers.is_valid_number(phonenumbers.parse(t, "RE"))
            except phonenumbers.NumberParseException:
                pass

    def best(fn: Callable[[], None]) -> float:
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - t0) / len(typed) * 1e6)
        return min(runs)

    return Row(
        "parse_phone",
        "µs",
        best(ours),
        best(theirs),
        "< 25 µs per phone",
        "max",
        25.0,
        {"phones": len(typed)},
    )


# --- search ---------------------------------------------------------------------------------------


def measure_search(bench: Bench) -> None:
    agent = get_agent(bench.db, AGENT)
    k = 100 if bench.scale >= 0.05 else 20
    with bench.db.reading() as s:
        picked = s.execute(
            select(Business.siret, Business.phone, Business.name)
            .where(Business.chamber_id == agent.chamber_id, Business.phone.is_not(None))
            .order_by(Business.id)
            .limit(k * 50)
        ).all()
    rng = random.Random(42)
    picked = rng.sample(picked, min(k, len(picked)))
    queries = {
        "siret": [f"{r.siret[:3]} {r.siret[3:6]} {r.siret[6:9]} {r.siret[9:]}" for r in picked],
        "phone": [
            phonenumbers.format_number(
                phonenumbers.parse(r.phone), phonenumbers.PhoneNumberFormat.NATIONAL
            )
            for r in picked
        ],
        "name": [" ".join(r.name.split()[:2])[:12] for r in picked],
    }
    search_businesses(bench.db, agent.id, queries["name"][0])  # warm
    for kind, qs in queries.items():
        times, found = [], 0
        for q in qs:
            t0 = time.perf_counter()
            hits = search_businesses(bench.db, agent.id, q)
            times.append((time.perf_counter() - t0) * 1000)
            found += bool(hits)
        bench.add(
            Row(
                f"search_{kind}_p99",
                "ms",
                pct(times, 0.99),
                None,
                "p99 < 20 ms",
                "max",
                20.0,
                {"p50_ms": pct(times, 0.5), "queries": len(qs), "found": found},
            )
        )


# --- TUI ------------------------------------------------------------------------------------------


def measure_tui_keys(bench: Bench) -> None:
    """Outcome key (2, no answer) to the next business painted, in the real app headless.

    The key goes in as the terminal driver delivers it (`driver.send_message(Key)`), and the
    clock stops at the first frame the screen paints after the next business was set. Not
    `pilot.press`: it adds Textual's idle waits (at least 2 x 20 ms sleeps, longer while any
    thread is busy), which measure the test harness rather than the app (about 110 ms here).
    """
    from textual import events

    from outreach.tui.app import make_app
    from outreach.tui.screens.call import CallScreen
    from outreach.tui.screens.campaigns import CampaignsScreen
    from outreach.tui.settings import TuiSettings

    presses = 30 if bench.scale >= 0.05 else 8

    async def until(test: Callable[[], Any], limit: float = 60.0) -> Any:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            got = test()
            if got:
                return got
            await asyncio.sleep(0.0005)
        raise TimeoutError("TUI benchmark: timed out waiting for the app")

    async def run() -> tuple[list[float], list[float]]:
        app = make_app(
            bench.db, TuiSettings(agent_login=AGENT, outbox_dir=bench.workdir / "outbox")
        )
        painted_ms, shown_ms = [], []
        async with app.run_test(size=(140, 45)) as pilot:
            screen = await until(
                lambda: (
                    isinstance(app.screen, CampaignsScreen) and app.screen.campaigns and app.screen
                )
            )
            live = next(c for c in screen.campaigns if c.name == LIVE_CAMPAIGN)
            app.open_campaign(live)
            call = await until(
                lambda: isinstance(app.screen, CallScreen) and app.screen.current and app.screen
            )
            await pilot.pause()
            frames: list[float] = []
            paint = call._compositor_refresh  # the screen's "draw what changed" step

            def painted() -> None:
                paint()
                frames.append(time.perf_counter())

            call._compositor_refresh = painted  # type: ignore[method-assign]
            driver = app._driver
            assert driver is not None
            for _ in range(presses):
                before = call.current.task_id
                t0 = time.perf_counter()
                driver.send_message(events.Key(OUTCOME_KEY_NO_ANSWER, OUTCOME_KEY_NO_ANSWER))
                await until(lambda b=before: call.current is not None and call.current.task_id != b)
                shown = time.perf_counter()
                await until(lambda s=shown: frames and frames[-1] > s)
                shown_ms.append((shown - t0) * 1000)
                painted_ms.append((frames[-1] - t0) * 1000)
                await pilot.pause()  # settle before the next key (not timed)
        return painted_ms, shown_ms

    times, shown = asyncio.run(run())
    bench.add(
        Row(
            "tui_outcome_to_next",
            "ms",
            statistics.median(times),
            None,
            "median < 30 ms",
            "max",
            30.0,
            {
                "presses": len(times),
                "p90_ms": pct(times, 0.9),
                "max_ms": max(times),
                "next_set_median_ms": statistics.median(shown),
            },
        )
    )


def measure_tui_paste(bench: Bench) -> None:
    """25,200 characters pasted into the TUI's search field (issue 18: a paste once pinned the
    CPU for 60-100 s), in the real app headless: from the paste posted to the field until the
    screen painted its answer (the paste refused, and why, in the status line); then an ordinary
    search typed after it, from Enter to its hits on screen (the app still answers as usual)."""
    from textual import events
    from textual.widgets import Input, Static

    from outreach.tui.app import make_app
    from outreach.tui.screens.call import CallScreen
    from outreach.tui.screens.campaigns import CampaignsScreen
    from outreach.tui.screens.search import SearchScreen
    from outreach.tui.settings import TuiSettings

    rounds = 10
    text = "Boulangerie " * 2_100  # 25,200 characters
    with bench.db.reading() as s:
        agent = get_agent(bench.db, AGENT)
        name = s.scalar(
            select(Business.name)
            .where(Business.chamber_id == agent.chamber_id)
            .order_by(Business.id)
            .limit(1)
        )
    query = " ".join(str(name).split()[:2])[:12]

    async def until(test: Callable[[], Any], what: str = "", limit: float = 60.0) -> Any:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            got = test()
            if got:
                return got
            await asyncio.sleep(0.0005)
        raise TimeoutError(f"TUI paste benchmark: timed out waiting for {what}")

    async def run() -> tuple[list[float], list[float], int]:
        app = make_app(
            bench.db, TuiSettings(agent_login=AGENT, outbox_dir=bench.workdir / "outbox")
        )
        pasted_ms, search_ms, kept = [], [], 0
        async with app.run_test(size=(140, 45)) as pilot:
            screen = await until(
                lambda: (
                    isinstance(app.screen, CampaignsScreen) and app.screen.campaigns and app.screen
                )
            )
            live = next(c for c in screen.campaigns if c.name == LIVE_CAMPAIGN)
            app.open_campaign(live)
            await until(lambda: isinstance(app.screen, CallScreen) and app.screen.current, "call")
            await pilot.press("escape", "s")
            search = await until(
                lambda: isinstance(app.screen, SearchScreen) and app.screen, "search screen"
            )
            await pilot.pause()
            field = search.query_one("#query", Input)
            status = search.query_one("#search-status", Static)
            frames: list[float] = []
            paint = search._compositor_refresh

            def painted() -> None:
                paint()
                frames.append(time.perf_counter())

            search._compositor_refresh = painted  # type: ignore[method-assign]
            driver = app._driver
            assert driver is not None
            for _ in range(rounds):
                field.value = ""
                field.focus()  # a search moves the focus to its hits
                status.update("")
                await pilot.pause()
                t0 = time.perf_counter()
                field.post_message(events.Paste(text))
                await until(lambda: "collage" in str(status.render()), "the refusal said")
                handled = time.perf_counter()
                await until(lambda h=handled: frames and frames[-1] > h, "a frame")
                pasted_ms.append((frames[-1] - t0) * 1000)
                kept = len(field.value)
                field.value = query
                search.hits = []
                await pilot.pause()
                t0 = time.perf_counter()
                driver.send_message(events.Key("enter", "\r"))
                await until(lambda: search.hits, "the search's hits")
                search_ms.append((time.perf_counter() - t0) * 1000)
                await pilot.pause()
        return pasted_ms, search_ms, kept

    pasted, searched, kept = asyncio.run(run())
    bench.add(
        Row(
            "tui_search_paste_25k",
            "ms",
            statistics.median(pasted),
            None,
            "median < 50 ms",
            "max",
            50.0,
            {
                "rounds": len(pasted),
                "characters": len(text),
                "max_ms": max(pasted),
                "field_length_after": kept,
                "search_after_median_ms": statistics.median(searched),
                "search_after_max_ms": max(searched),
                "query": query,
            },
        )
    )


def _in_pty(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run `cmd` on a pseudo-terminal (as a person would), draining its output; (start, rc)."""
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    started = time.time()
    proc = subprocess.Popen(
        cmd, env=env, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, close_fds=True
    )
    os.close(slave)

    def drain() -> None:
        with contextlib.suppress(OSError):
            while os.read(master, 65536):
                pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        rc = proc.wait(timeout=180)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    os.close(master)
    return started, rc


def _children_cpu() -> float:
    """CPU seconds (user + system) of the children waited for so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure_tui_start(bench: Bench) -> None:
    # the first round measures memory after calls; the others time the start (median). Beside
    # the wall times, the CPU time of each process (the app exits once the first business is
    # drawn): on a machine shared with other work, their ratio moves far less than the wall's.
    rounds = 5 if bench.scale >= 0.05 else 1
    calls = 20 if bench.scale >= 0.05 else 3
    starts, references, rss = [], [], []
    cpu_starts, cpu_references = [], []
    for i in range(rounds):
        marker = bench.workdir / f"tui-start-{i}.json"
        env = cli_env(
            bench.url,
            OUTREACH_BENCH_FIRST_BUSINESS=str(marker),
            OUTREACH_BENCH_CAMPAIGN=LIVE_CAMPAIGN,
            OUTREACH_BENCH_CALLS=str(calls if i == 0 else 0),
            OUTREACH_DATA_DIR=str(bench.workdir / "data"),
            TERM="xterm-256color",
            COLUMNS="140",
            LINES="45",
        )
        cpu0 = _children_cpu()
        started, rc = _in_pty([sys.executable, "-m", "bench.tui_launch", "--agent", AGENT], env)
        app_cpu = _children_cpu() - cpu0
        got = json.loads(marker.read_text()) if marker.exists() else {"error": f"exit {rc}"}
        if "error" in got:
            raise RuntimeError(f"TUI start: {got['error']}")
        if i == 0:
            rss.append(got["rss_kb"] / 1024)
            bench.info["tui_peak_rss_mb"] = got["max_rss_kb"] / 1024
        else:
            starts.append(got["shown_at"] - started)
            cpu_starts.append(app_cpu)
        t0, cpu0 = time.perf_counter(), _children_cpu()
        subprocess.run([sys.executable, "-c", "import textual.app, sqlalchemy.orm"], check=True)
        references.append(time.perf_counter() - t0)
        if i:
            cpu_references.append(_children_cpu() - cpu0)
    if not starts:  # one round only (smoke): the first run also timed its start
        starts.append(got["shown_at"] - started)
    bench.add(
        Row(
            "tui_start_to_first_business",
            "s",
            statistics.median(starts),
            statistics.median(references),
            "<= 1.6x bare imports",
            "max_ratio",
            1.6,
            {
                "rounds": len(starts),
                # CPU seconds to the first business (incl. the exit) and of the bare imports
                "cpu_s": statistics.median(cpu_starts) if cpu_starts else None,
                "cpu_reference_s": statistics.median(cpu_references) if cpu_references else None,
                "cpu_ratio": (
                    statistics.median(cpu_starts) / statistics.median(cpu_references)
                    if cpu_starts and cpu_references
                    else None
                ),
            },
        )
    )
    bench.add(
        Row(
            "tui_memory",
            "MB",
            rss[0],
            None,
            "< 150 MB",
            "max",
            150.0,
            {"after_calls": calls, "peak_mb": bench.info.get("tui_peak_rss_mb")},
        )
    )


# --- machine, main --------------------------------------------------------------------------------


def machine(bench_db: Database | None, backend: str) -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    info = {
        "nproc": os.cpu_count(),
        "memory": mem,
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    if backend == "postgresql" and bench_db is not None:
        with bench_db.reading() as s:
            info["postgresql"] = s.execute(text("SHOW server_version")).scalar_one()
    return info


def markdown(report: dict[str, Any]) -> str:
    """The results of one run as a Markdown section (for docs/BENCHMARKS.md)."""
    m = report["machine"]
    lines = [
        f"### {report['backend']}, scale {report['scale']:g} ({report['started']})",
        "",
        f"Command: `{report['command']}` ({report['seconds']:.0f} s in all)",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, Python {m['python']}, "
        f"SQLite {m['sqlite']}"
        + (f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else "")
        + f"; load average {m['loadavg_start'][0]:.1f} at the start, "
        f"{m['loadavg_end'][0]:.1f} at the end.",
        "",
        "| measure | project | reference | ratio | target | result | detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["measures"].values():
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        result = {True: "pass", False: "**FAIL**", None: "n/a"}[r["passed"]]
        detail = ", ".join(
            f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in r["detail"].items()
            if not isinstance(v, list | dict) and k not in ("reference", "measured", "cli_stderr")
        )
        lines.append(
            f"| {r['name']} | {_fmt(r['project'], r['unit'])} | "
            f"{_fmt(r['reference'], r['unit'])} | {ratio} | {r['target']} | {result} | {detail} |"
        )
    for name, error in report.get("errors", {}).items():
        lines.append(f"\nCould not run `{name}`: {error.splitlines()[0][:300]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--only", help="comma-separated measures: " + ",".join(GROUPS))
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--md", type=Path, help="also write the results as a Markdown section here")
    p.add_argument(
        "--url",
        help="measure this database (seeded with the national profile at --scale) instead of "
        "seeding a fresh one; it is kept, with the calls and businesses the run adds",
    )
    p.add_argument("--keep", action="store_true", help="keep the database (prints where)")
    p.add_argument("--agents", help="loadtest agent counts, e.g. 1,8 (default 1,8 / 1,32 on PG)")
    p.add_argument("--seconds", type=float, help="loadtest seconds per run (default by scale)")
    p.add_argument("--days", type=int, default=20, help="simulated working days (default 20)")
    args = p.parse_args(argv)
    only = set(GROUPS) if not args.only else {x.strip() for x in args.only.split(",")}
    unknown = only - set(GROUPS)
    if unknown:
        p.error(f"unknown measure(s): {', '.join(sorted(unknown))} (known: {', '.join(GROUPS)})")
    if args.seconds is None:
        args.seconds = 1.0 if args.scale < 0.05 else 10.0
    if args.url:
        args.db = "sqlite" if make_url(args.url).get_backend_name() == "sqlite" else "postgresql"
    workdir = Path(tempfile.mkdtemp(prefix="outreach-bench-"))
    target = Target(args.db, workdir)
    if args.url:  # an existing seeded database: no seeding, kept (and changed) afterwards
        url = args.url
        args.keep = True
        only.discard("seed")
    else:
        url = target.new("main")
    started = time.time()
    load_start = os.getloadavg()
    log(f"bench: {args.db}, scale {args.scale:g}, work in {workdir}")
    bench = None
    try:
        project_seed = 0.0
        if not args.url:
            project_seed = seed_project(Bench(args, target, url, None, workdir))  # type: ignore[arg-type]
            log(f"seeded in {project_seed:.1f} s")
        db = open_database(url)
        bench = Bench(args, target, url, db, workdir)
        steps: list[tuple[str, Callable[[], None]]] = [
            ("seed", lambda: measure_seed(bench, project_seed)),
            ("search", lambda: measure_search(bench)),
            ("claim_latency", lambda: measure_claim_latency(bench)),
            ("rollup", lambda: measure_rollup(bench)),
            ("dashboard", lambda: measure_dashboard(bench)),
            ("board", lambda: measure_board(bench)),
            ("export", lambda: measure_export(bench)),
            ("tui_keys", lambda: measure_tui_keys(bench)),
            ("tui_paste", lambda: measure_tui_paste(bench)),
            ("tui_start", lambda: measure_tui_start(bench)),
            ("claim_record", lambda: measure_claim_record(bench)),
            ("import", lambda: measure_import(bench)),
            ("simulate", lambda: measure_simulate(bench)),
        ]
        errors: dict[str, str] = {}
        for name, step in steps:
            if name in only:
                log(f"measure {name}")
                try:
                    step()
                except Exception as exc:  # noqa: BLE001 - one broken measure keeps the others
                    errors[name] = f"{type(exc).__name__}: {exc}"[:2000]
                    log(f"measure {name} FAILED: {errors[name]}")
        print_table(bench.rows)
        if args.json or args.md:
            report = {
                "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
                "backend": args.db,
                "scale": args.scale,
                "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
                "seconds": round(time.time() - started, 1),
                "machine": {
                    **machine(db, args.db),
                    "loadavg_start": load_start,
                    "loadavg_end": os.getloadavg(),
                },
                "measures": {r.name: r.as_json() for r in bench.rows},
                "errors": errors,
            }
            if args.json:
                args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
            if args.md:
                args.md.write_text(markdown(report))
        failed = [r.name for r in bench.rows if r.passed is False]
        log(f"done in {time.time() - started:.0f} s; missed targets: {', '.join(failed) or 'none'}")
        if errors:
            log(f"measures that could not run: {', '.join(errors)}")
        return 1 if errors else 0
    finally:
        if bench is not None:
            bench.db.dispose()
        if args.keep:
            log(f"kept: {url}")
        else:
            target.drop_all()
        if not args.keep or args.url:  # with --url the work directory holds only temporary files
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
