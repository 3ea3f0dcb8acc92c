"""Bulk writes of seed batches: executemany on SQLite, COPY on PostgreSQL, in one transaction.

SQLite takes the rows as statements of several rows each (`bulk.SqliteInsert`).
The load runs in a single transaction: it is all there or not at all. Inside it the secondary
indexes of the big tables (and on PostgreSQL their foreign keys) are dropped and rebuilt after the
load (`bulk.drop_indexes`); on SQLite the load runs under `bulk.sqlite_load` (foreign keys not
checked, `synchronous` off, a large page cache), restored on the connection afterwards. The
tricks, their reasons and figures are in outreach/services/bulk.py.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext

from sqlalchemy import Connection

from outreach.db.engine import Database
from outreach.services import bulk
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


@functools.cache
def _sqlite_insert(table: str, columns: tuple[str, ...]) -> bulk.SqliteInsert:
    return bulk.SqliteInsert.of(table, columns)


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
        raw = bulk.driver(conn)
        sqlite = db.is_sqlite
        with bulk.sqlite_load(raw) if sqlite else nullcontext(), conn.begin():
            started = time.perf_counter()
            cur = raw.cursor()
            dropped = bulk.drop_indexes(cur, sqlite, BIG_TABLES)
            seconds["indexes"] = time.perf_counter() - started
            for batch in batches:
                started = time.perf_counter()
                columns = COLUMNS[batch.table]
                if sqlite:
                    _sqlite_insert(batch.table, tuple(columns)).run(cur, batch.rows)
                else:
                    bulk.pg_copy_in(cur, batch.table, columns, batch.rows)
                seconds[batch.table] += time.perf_counter() - started
                if progress is not None:
                    progress(batch.table, len(batch.rows))
            started = time.perf_counter()
            if progress is not None:
                progress("indexes", 0)
            bulk.restore_indexes(cur, dropped)
            if sqlite:
                bulk.sqlite_analyze(cur)
            else:
                cur.execute("ANALYZE")
                bulk.pg_reset_sequences(cur, COLUMNS)
            seconds["indexes"] += time.perf_counter() - started
            cur.close()
            if finish is not None:
                finish(conn)
    return seconds
