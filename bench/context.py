"""The benchmark's context: the databases it makes (`Target`), the run (`Bench`), the
plain-driver connection the references use, child processes measured, and small helpers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench.report import Row, fmt
from outreach.db.engine import Database
from outreach.db.models import Campaign

ROOT = Path(__file__).resolve().parent.parent


PG_ADMIN = os.environ.get(
    "OUTREACH_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


LIVE_CAMPAIGN = "Accompagnement numérique des artisans (en cours)"


SUPERVISOR = "cmaf.superviseur"  # national supervisor (seeded)


AGENT = "idf.agent1"  # IDF agent (seeded), works the live campaign


OUTCOME_KEY_NO_ANSWER = "2"


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1), nearest rank."""
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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
                    os.unlink(f"{make_url(url).database}{suffix}")
            return
        name = make_url(url).database
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.made:
            self.made.remove(name)

    @staticmethod
    def _admin(sql: str) -> None:
        conninfo = make_url(PG_ADMIN).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql)


def raw_connect(url: str) -> Any:
    """A plain driver connection (sqlite3 / psycopg) to `url`."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        conn = sqlite3.connect(u.database or "", isolation_level=None)
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
    stderr = proc.stderr
    assert stderr is not None  # stderr=PIPE
    reader = threading.Thread(target=lambda: err_chunks.append(stderr.read()))
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
            f"{row.name}: project {fmt(row.project, row.unit)}, reference "
            f"{fmt(row.reference, row.unit)}, {row.target}: "
            f"{ {True: 'pass', False: 'FAIL', None: 'n/a'}[row.passed] }"
        )


def warm_cache(bench: Bench) -> float:
    """SQLite: the database's files read once into the OS page cache before a latency measure;
    the seconds it took (0 on PostgreSQL, whose server keeps its own cache).

    An app's working database stays cached. Here the measures before (the seed measure's bare
    twin, a second database of the same size; the import; the export) leave it partly evicted,
    and one name search (20 businesses and their tasks, scattered pages) then waits on tens of
    disk reads: the name search's p99 went from 4.3 to 51 ms between two whole runs on one
    code. The latency measures time the queries, not the disk."""
    if not bench.sqlite or bench.db.url.database is None:
        return 0.0
    started = time.perf_counter()
    main = Path(bench.db.url.database)
    files = [str(p) for p in (main, main.with_name(main.name + "-wal")) if p.exists()]
    # read by another process: closing a descriptor of the file in this one would drop the
    # POSIX locks this process's SQLite connections hold on it (sqlite.org/howtocorrupt.html,
    # 2.2), which corrupted the database in a whole run
    subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started
