"""`outreach db backup`: a consistent copy of a live SQLite database; PostgreSQL refused."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from outreach.cli import cli
from outreach.db import migrate
from outreach.db.engine import Database
from outreach.errors import InvalidInput
from outreach.services.backup import backup_sqlite
from tests.waiting import wait_until


def _fill(path: str, rows: int) -> None:
    con = sqlite3.connect(path)
    con.executemany(
        "INSERT INTO audit_log (at, action, entity, detail) VALUES ('2026-01-01', 'fill', 'x', ?)",
        [('"' + "x" * 400 + '"',) for _ in range(rows)],
    )
    con.commit()
    con.close()


def _pairs(path: Path) -> tuple[int, int, str]:
    con = sqlite3.connect(path)
    try:
        a = con.execute("SELECT count(*) FROM audit_log WHERE action = 'pair.a'").fetchone()[0]
        b = con.execute("SELECT count(*) FROM audit_log WHERE action = 'pair.b'").fetchone()[0]
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        return int(a), int(b), str(ok)
    finally:
        con.close()


def test_copy_while_another_connection_writes(sqlite_db: Database, tmp_path: Path) -> None:
    source = str(sqlite_db.url.database)
    _fill(source, 60_000)
    stop = threading.Event()
    commits: list[float] = []

    def writer() -> None:
        con = sqlite3.connect(source, timeout=30, isolation_level=None)
        con.execute("PRAGMA journal_mode = WAL")
        while not stop.is_set():
            # two rows per transaction: a consistent copy always holds both or neither
            con.execute("BEGIN IMMEDIATE")
            for action in ("pair.a", "pair.b"):
                con.execute(
                    "INSERT INTO audit_log (at, action, entity) VALUES ('2026-01-01', ?, 'x')",
                    (action,),
                )
            con.execute("COMMIT")
            commits.append(time.monotonic())
        con.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_until(lambda: len(commits) >= 50, lambda: f"50 commits ({len(commits)})", timeout=60)
        copies = []
        for n in range(3):
            started = time.monotonic()
            done = backup_sqlite(sqlite_db, tmp_path / f"copy{n}.sqlite3")
            copies.append((done, started, time.monotonic()))
    finally:
        stop.set()
        thread.join()
    for done, _started, _ended in copies:
        assert done.integrity == "ok"
        a, b, ok = _pairs(done.path)
        assert ok == "ok" and a == b and a >= 50
        assert not done.path.with_name(done.path.name + ".partial").exists()
    # the writer really ran during the copies
    assert any(started <= t <= ended for _d, started, ended in copies for t in commits)
    assert len(commits) > max(_pairs(d.path)[0] for d, _s, _e in copies)
    # the copy is a working outreach database
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", str(copies[0][0].path), "db", "current"])
    assert out.exit_code == 0, out.output
    head = migrate.head_revision()
    assert f"base : {head} ; programme : {head}" in out.output


def test_cli_backup_and_refusals(db: Database, db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "backup.sqlite3"
    out = runner.invoke(cli, ["--db", db_url, "db", "backup", str(target)])
    if db.is_postgresql:
        assert out.exit_code == 1 and "pg_dump" in out.output
        assert "Traceback" not in out.output and not target.exists()
        return
    assert out.exit_code == 0, out.output
    assert "intégrité : ok" in out.output and target.exists()
    again = runner.invoke(cli, ["--db", db_url, "db", "backup", str(target)])
    assert again.exit_code == 1 and "--force" in again.output
    forced = runner.invoke(cli, ["--db", db_url, "db", "backup", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    with pytest.raises(InvalidInput):
        backup_sqlite(db, str(db.url.database))
    with pytest.raises(InvalidInput):
        backup_sqlite(db, tmp_path / "no" / "such" / "dir.sqlite3")
