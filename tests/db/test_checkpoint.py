"""SQLite WAL checkpoints run off the units of work (outreach.db.engine._Checkpointer).

SQLite copies its WAL back into the database file at the commit that takes the WAL past
`wal_autocheckpoint` pages, inside that unit of work (a claim, a record). Here a thread of the
writing process does it soon after a commit, and the units' own connections only checkpoint
far past where that thread lets the WAL grow. Real files, real threads.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import text

from outreach.db import engine as engine_module
from outreach.db.engine import Database, open_database
from tests.waiting import wait_until


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "outreach-checkpoint"]


def _open(tmp_path: Path) -> tuple[Database, Path]:
    path = tmp_path / "wal.db"
    db = open_database(f"sqlite:///{path}")
    with db.write_conn() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB)"))
    return db, path


def test_a_small_write_reaches_the_database_file_with_the_connections_open(
    tmp_path: Path,
) -> None:
    db, path = _open(tmp_path)
    try:
        wait_until(lambda: path.stat().st_size > 4096, "the table's creation checkpointed")
        before = path.stat().st_size
        # about 50 pages: far below SQLite's own 1000-page checkpoint, which alone would leave
        # them in the WAL until the last connection closes
        with db.write_conn() as conn:
            for i in range(50):
                conn.execute(text("INSERT INTO notes VALUES (:i, zeroblob(4000))"), {"i": i})
        wait_until(
            lambda: path.stat().st_size >= before + 50 * 4000,
            lambda: f"the rows in the database file ({path.stat().st_size} bytes, was {before})",
        )
        with db.read_conn() as conn:  # the pool's connections stayed open all along
            assert conn.execute(text("SELECT count(*) FROM notes")).scalar() == 50
    finally:
        db.dispose()


_WRITE_AND_END = """
import sys
from sqlalchemy import text
from outreach.db.engine import open_database
db = open_database(sys.argv[1])
with db.write_conn() as conn:
    for i in range(50):
        conn.execute(text("INSERT INTO notes VALUES (:i, zeroblob(4000))"), {"i": i})
"""


def test_a_process_that_commits_and_ends_leaves_its_pages_in_the_file(tmp_path: Path) -> None:
    """A command ends well within CHECKPOINT_AFTER_S of its commit; this process keeps the
    database open meanwhile, so SQLite's own checkpoint at the last close does not happen.
    The command's thread still copies its pages into the file before the process ends."""
    db, path = _open(tmp_path)
    try:
        wait_until(lambda: path.stat().st_size > 4096, "the table's creation checkpointed")
        before = path.stat().st_size
        # open, out of any transaction (a reader's snapshot would hold the pages in the WAL)
        held = sqlite3.connect(path, isolation_level=None)
        try:
            assert held.execute("SELECT count(*) FROM notes").fetchone() == (0,)
            done = subprocess.run(
                [sys.executable, "-c", _WRITE_AND_END, f"sqlite:///{path}"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            assert path.stat().st_size >= before + 50 * 4000
        finally:
            held.close()
    finally:
        db.dispose()


def test_the_units_connections_leave_checkpoints_to_the_thread(tmp_path: Path) -> None:
    db, _path = _open(tmp_path)
    try:
        with db.read_conn() as conn:
            pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert pages == engine_module.WAL_AUTOCHECKPOINT_PAGES > 1000
    finally:
        db.dispose()


def test_the_thread_starts_with_a_commit_and_stops_with_dispose(tmp_path: Path) -> None:
    db, _ = _open(tmp_path)
    db.dispose()
    assert not _checkpoint_threads()

    reader = open_database(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with reader.read_conn() as conn:  # a process that only reads starts no thread
            assert conn.execute(text("SELECT count(*) FROM notes")).scalar() == 0
        assert not _checkpoint_threads()
        with reader.write_conn() as conn:
            conn.execute(text("INSERT INTO notes VALUES (1, x'00')"))
        assert len(_checkpoint_threads()) == 1
    finally:
        reader.dispose()
    assert not _checkpoint_threads()


def test_a_database_used_again_after_dispose_gets_a_thread_again(tmp_path: Path) -> None:
    db, path = _open(tmp_path)
    try:
        db.dispose()
        assert not _checkpoint_threads()
        before = path.stat().st_size
        with db.write_conn() as conn:
            conn.execute(text("INSERT INTO notes VALUES (1, zeroblob(40000))"))
        assert len(_checkpoint_threads()) == 1
        wait_until(lambda: path.stat().st_size > before, "the row checkpointed")
    finally:
        db.dispose()


def test_a_file_gone_is_not_made_again(tmp_path: Path) -> None:
    """The thread opens the file read-write without creating it: a database whose file was
    removed stays removed (as open_database leaves a missing directory missing)."""
    db, path = _open(tmp_path)
    try:
        checkpointer = engine_module._CHECKPOINTERS[db.engine]
        conn = checkpointer.checkpoint(None)
        assert conn is not None
        conn.close()
        db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        assert checkpointer.checkpoint(None) is None
        assert not path.exists()
    finally:
        db.dispose()
