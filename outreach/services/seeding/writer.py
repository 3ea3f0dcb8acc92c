"""Bulk writes of seed batches: executemany on SQLite, COPY on PostgreSQL, in one transaction.

The load runs in a single transaction: it is all there or not at all. Inside it the secondary
indexes of the big tables are dropped and rebuilt after the load (one sort instead of millions
of B-tree inserts); DDL is transactional on both backends, so a failed seed leaves them intact.
On PostgreSQL the foreign keys of the big tables are dropped and added back after the load, which
checks every row in one pass instead of one trigger per row. On SQLite, foreign-key checks are
off for the load (the rows are generated consistent, and the
tests run `PRAGMA foreign_key_check` on seeded databases) and `synchronous` is relaxed until the
commit; both are restored on the connection afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection

from outreach.db.engine import Database
from outreach.services.seeding.tables import COLUMNS, Batch

BIG_TABLES = (
    "businesses",
    "call_tasks",
    "calls",
    "call_answers",
    "referrals",
    "agent_state_events",
)
Progress = Callable[[str, int], None]


def _sqlite_indexes(raw: Any) -> list[tuple[str, str]]:
    marks = ",".join("?" for _ in BIG_TABLES)
    return list(
        raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) ORDER BY name",
            BIG_TABLES,
        )
    )


def _pg_indexes(raw: Any) -> list[tuple[str, str]]:
    with raw.cursor() as cur:
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
            "current_schema() AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM "
            "pg_constraint c WHERE c.conname = i.indexname) ORDER BY i.indexname",
            (list(BIG_TABLES),),
        )
        return list(cur.fetchall())


def _pg_foreign_keys(raw: Any) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the foreign keys on the big tables."""
    with raw.cursor() as cur:
        cur.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s) "
            "ORDER BY 1, 2",
            (list(BIG_TABLES),),
        )
        return list(cur.fetchall())


def write_batches(
    db: Database,
    batches: Iterable[Batch],
    progress: Progress | None = None,
    finish: Callable[[Connection], None] | None = None,
) -> dict[str, float]:
    """Write every batch in one transaction; `finish(conn)` runs last, inside it.

    Returns the seconds spent writing each table (index rebuilds under "indexes").
    """
    seconds: dict[str, float] = dict.fromkeys(COLUMNS, 0.0)
    engine = db.engine.execution_options(sqlite_begin="IMMEDIATE")
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        sqlite = db.is_sqlite
        if sqlite:
            raw.execute("PRAGMA foreign_keys = OFF")  # only outside a transaction
            raw.execute("PRAGMA synchronous = OFF")
            raw.execute("PRAGMA cache_size = -262144")
        try:
            with conn.begin():
                started = time.perf_counter()
                indexes = _sqlite_indexes(raw) if sqlite else _pg_indexes(raw)
                # PostgreSQL checks foreign keys row by row; added back, they check in one pass
                foreign_keys = [] if sqlite else _pg_foreign_keys(raw)
                cur = raw.cursor()
                for name, _sql in indexes:
                    cur.execute(f'DROP INDEX "{name}"')
                for table, name, _definition in foreign_keys:
                    cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                seconds["indexes"] = time.perf_counter() - started
                for batch in batches:
                    started = time.perf_counter()
                    columns = COLUMNS[batch.table]
                    if sqlite:
                        marks = ",".join("?" * len(columns))
                        cur.executemany(
                            f"INSERT INTO {batch.table} ({','.join(columns)}) VALUES ({marks})",
                            batch.rows,
                        )
                    else:
                        copy_sql = f"COPY {batch.table} ({','.join(columns)}) FROM STDIN"
                        with cur.copy(copy_sql) as copy:
                            for row in batch.rows:
                                copy.write_row(row)
                    seconds[batch.table] += time.perf_counter() - started
                    if progress is not None:
                        progress(batch.table, len(batch.rows))
                started = time.perf_counter()
                if progress is not None:
                    progress("indexes", 0)
                for _name, sql in indexes:
                    cur.execute(sql)
                for table, name, definition in foreign_keys:
                    cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                # Planner statistics for the loaded tables: without them SQLite searches a phone
                # through the chamber index (ix_businesses_chamber_name) rather than
                # ix_businesses_phone_alt, 6 times slower (scripts/bench.py, search_phone_p99).
                if sqlite:
                    cur.execute("PRAGMA analysis_limit = 1000")
                cur.execute("ANALYZE")
                if not sqlite:
                    for table in COLUMNS:
                        cur.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                        )
                seconds["indexes"] += time.perf_counter() - started
                cur.close()
                if finish is not None:
                    finish(conn)
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys = ON")
                raw.execute("PRAGMA synchronous = NORMAL")
                raw.execute("PRAGMA cache_size = -65536")
    return seconds
