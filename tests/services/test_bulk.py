"""The bulk paths (outreach/services/bulk.py) on their own: every row written once and in order
whatever the batch's length, a COPY that meets an existing key leaving the transaction usable,
indexes and foreign keys dropped and built again as they were."""

from __future__ import annotations

import sqlite3

import pytest

from outreach.db.engine import Database
from outreach.services import bulk
from outreach.services.seeding.writer import BIG_TABLES


@pytest.mark.parametrize("count", [0, 1, bulk.SQLITE_ROWS - 1, bulk.SQLITE_ROWS, 123])
def test_sqlite_insert_writes_every_row_in_order(count: int) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER)")
    conn.execute("INSERT INTO t (a, b) VALUES ('x', 0)")
    insert = bulk.SqliteInsert.of("t", ("a", "b"), "ON CONFLICT (id) DO NOTHING")
    rows = [(f"r{i}", i) for i in range(count)]
    insert.run(conn.cursor(), rows)
    assert conn.execute("SELECT a, b FROM t WHERE id > 1 ORDER BY id").fetchall() == rows
    assert insert.many.count("(?, ?)") == bulk.SQLITE_ROWS and insert.one.count("(?, ?)") == 1


def _indexes(db: Database) -> set[tuple[str, ...]]:
    with db.engine.connect() as conn:
        cur = bulk.driver(conn).cursor()
        found: set[tuple[str, ...]] = {
            ("index", *i) for i in bulk.secondary_indexes(cur, db.is_sqlite, BIG_TABLES)
        }
        if not db.is_sqlite:
            found |= {("fk", *k) for k in bulk.pg_foreign_keys(cur, BIG_TABLES)}
        cur.close()
        conn.rollback()
    return found


def test_indexes_dropped_and_built_again(db: Database) -> None:
    before = _indexes(db)
    assert any(kind == "index" for kind, *_ in before)
    assert db.is_sqlite or any(kind == "fk" for kind, *_ in before)
    with db.engine.connect() as conn, conn.begin():
        cur = bulk.driver(conn).cursor()
        dropped = bulk.drop_indexes(cur, db.is_sqlite, BIG_TABLES)
        assert not bulk.secondary_indexes(cur, db.is_sqlite, BIG_TABLES)
        bulk.restore_indexes(cur, dropped)
        cur.close()
    assert _indexes(db) == before


@pytest.mark.postgresql
def test_pg_copy_new_falls_back_on_an_existing_key(pg_db: Database) -> None:
    with pg_db.engine.connect() as conn, conn.begin():
        with bulk.driver(conn).cursor() as cur:
            cur.execute("CREATE TEMPORARY TABLE t (id int PRIMARY KEY, v text)")
            assert bulk.pg_copy_new(cur, "t", ("id", "v"), [(1, "a"), (2, "=b")])
            # a row already there: nothing of the batch is written, the transaction goes on
            assert not bulk.pg_copy_new(cur, "t", ("id", "v"), [(3, "c"), (1, "again")])
            bulk.pg_stage(cur, "t_stage", "t", ("id", "v"), [(3, "c"), (1, "again")])
            cur.execute("SELECT n, id, v FROM t_stage ORDER BY n")
            assert cur.fetchall() == [(0, 3, "c"), (1, 1, "again")]
            cur.execute("SELECT id, v FROM t ORDER BY id")
            assert cur.fetchall() == [(1, "a"), (2, "=b")]


def test_sqlite_insert_keeps_under_the_parameter_limit() -> None:
    """A wide table takes fewer rows a statement: never more than 999 parameters."""
    columns = [f"c{i}" for i in range(25)]  # as wide as the seeded businesses
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE wide ({', '.join(columns)})")
    insert = bulk.SqliteInsert.of("wide", columns)
    assert insert.per * len(columns) <= bulk.SQLITE_PARAMETERS < bulk.SQLITE_ROWS * len(columns)
    rows = [tuple(range(n, n + 25)) for n in range(100)]
    insert.run(conn.cursor(), rows)
    assert conn.execute("SELECT * FROM wide ORDER BY rowid").fetchall() == rows
