"""Bulk writes and reads on the driver's own connection: the speed tricks of the importer, the
seeding and the exports, in one place. Each says why it is here and what it was measured to give
(docs/BENCHMARKS.md, "Fast paths"; `python scripts/bench.py --only seed,export,import`).

Everything here takes the DBAPI connection or cursor under a SQLAlchemy connection (`driver`) and
runs inside the caller's transaction: no SQLAlchemy parameter processing or Row object per row.
Table and column names are the callers' own constants, never user input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import Connection

BATCH = 5_000  # rows a fetch or a write hands over at a time


def driver(conn: Connection) -> Any:
    """The DBAPI connection (sqlite3 or psycopg) under `conn`, in its transaction."""
    raw = conn.connection.driver_connection
    assert raw is not None
    return raw


# --- SQLite --------------------------------------------------------------------------------------

# Why: each execution has a fixed cost (the statement journal, the temporary table SQLite builds
# for a CHECK's IN list) that one row a statement pays 5,000 times a batch. Figure: the import's
# write CPU -40% under callgrind (42,500 rows), 4,552 -> 22,909 rows/s with the row checks' work;
# the seeding's write -14% CPU (2.92 s against 3.39 s for 642,628 rows at scale 0.05, 4 rounds
# each, alternating).
SQLITE_ROWS = 50
# at most this many parameters a statement: the limit of SQLite builds before 3.32
SQLITE_PARAMETERS = 999


@dataclass(frozen=True, slots=True)
class SqliteInsert:
    """`INSERT INTO table (columns) VALUES (...) tail` as a statement of `per` rows (SQLITE_ROWS,
    fewer for a wide table) and a statement of one row (for the rest); `tail` is e.g. an ON
    CONFLICT clause."""

    one: str
    many: str
    per: int

    @classmethod
    def of(cls, table: str, columns: Sequence[str], tail: str = "") -> SqliteInsert:
        per = max(1, min(SQLITE_ROWS, SQLITE_PARAMETERS // len(columns)))
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        values = f"({', '.join('?' * len(columns))})"
        end = f" {tail}" if tail else ""
        return cls(head + values + end, head + ", ".join([values] * per) + end, per)

    def run(self, cur: Any, rows: Sequence[Sequence[Any]]) -> None:
        """Insert `rows` (a sequence of tuples in column order) with the cursor `cur`."""
        per = self.per
        whole = len(rows) - len(rows) % per
        cur.executemany(
            self.many,
            [list(chain.from_iterable(rows[i : i + per])) for i in range(0, whole, per)],
        )
        cur.executemany(self.one, rows[whole:])


@contextmanager
def sqlite_load(raw: Any) -> Iterator[None]:
    """A bulk load on the sqlite3 connection `raw`, outside any transaction: foreign keys not
    checked (the rows are made consistent; the seeding's tests run `PRAGMA foreign_key_check`),
    `synchronous` off until the commit, a 256 MB page cache to sort the indexes rebuilt after the
    load; all three put back as the engine sets them (outreach.db.engine) afterwards.
    Why: the per-row foreign-key look-ups and the fsyncs are work a generated load does not need.
    Figure: with the indexes dropped (`indexes_dropped`), seeding at full scale 1.40x the bare
    `executemany` (132 s vs 94 s)."""
    raw.execute("PRAGMA foreign_keys = OFF")  # only outside a transaction
    raw.execute("PRAGMA synchronous = OFF")
    raw.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys = ON")
        raw.execute("PRAGMA synchronous = NORMAL")
        raw.execute("PRAGMA cache_size = -65536")


@contextmanager
def sqlite_page_cache(conn: Connection, kb: int) -> Iterator[None]:
    """The page cache of the SQLite connection under `conn` at `kb` kilobytes for a block, put
    back after. Why: a one-pass read (an export) gains nothing from the engine's 64 MB cache, and
    the cached pages stay in the process's memory. Figure: the calls export's peak memory 105 MB
    at full scale (2.5 million calls; target under 150 MB), with a 32 MB cache."""
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{int(kb)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache or 0)}")


def sqlite_analyze(cur: Any, table: str | None = None) -> None:
    """Planner statistics, sampled (`analysis_limit`), for `table` or every table.
    Why: SQLite keeps none by itself, and without them it searches a phone through the chamber
    index (ix_businesses_chamber_name) rather than ix_businesses_phone_alt. Figure: 6 times
    slower `search_phone_p99` without; the sampled ANALYZE takes ~1 ms on 90,000 rows once the
    pages are cached."""
    cur.execute("PRAGMA analysis_limit = 1000")
    cur.execute(f"ANALYZE {table}" if table else "ANALYZE")
    cur.execute("PRAGMA analysis_limit = 0")


def sqlite_batches(conn: Connection, stmt: Any, size: int = BATCH) -> Iterator[list[Any]]:
    """The rows of `stmt` as plain tuples, `size` at a time, straight from the sqlite3 cursor
    (it reads as it goes). Why: no SQLAlchemy Row object per row. Figure: part of the calls
    export going from 5.7x to 1.86x the `sqlite3` shell (2.5 million calls)."""
    result = conn.execute(stmt)
    try:
        cursor: Any = result.cursor
        while fetched := cursor.fetchmany(size):
            yield fetched
    finally:
        result.close()


# --- PostgreSQL ----------------------------------------------------------------------------------


def pg_copy_in(cur: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """`COPY table (columns) FROM STDIN` of `rows` on the psycopg cursor `cur`.
    Why: one stream of rows instead of a statement (and a round trip) per row or per batch.
    Figure: seeding at scale 0.2 1.53x the bare COPY; COPY straight into `businesses` costs a
    fifth less server time than INSERT ... SELECT from a staged copy (the import)."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def pg_copy_new(
    cur: Any,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    refused: tuple[type[BaseException], ...] = (),
) -> bool:
    """COPY `rows` straight into `table` under a savepoint when none of them is there yet: True
    if it went through; False, rolled back to the savepoint, when a row hit a unique index (or
    raised one of `refused`), for the caller to upsert them another way. Why and figure: see
    `pg_copy_in` (a new list imports without the staged upsert; a re-run stops at its first
    row)."""
    import psycopg

    caught: tuple[type[BaseException], ...] = (psycopg.errors.UniqueViolation, *refused)
    cur.execute("SAVEPOINT bulk_copy_new")
    try:
        pg_copy_in(cur, table, columns, rows)
    except caught:
        cur.execute("ROLLBACK TO SAVEPOINT bulk_copy_new")
        return False
    cur.execute("RELEASE SAVEPOINT bulk_copy_new")
    return True


def pg_stage(
    cur: Any, stage: str, like: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """COPY `rows` into the temporary table `stage` (made once a session, shaped as `like`'s
    `columns` after an ordinal `n`, emptied at each commit), numbered in their order, for one
    `INSERT ... SELECT ... ORDER BY n ON CONFLICT` of them all. Why: one upsert statement a
    batch instead of one a row; the rows keep their order (the later line of a file wins)."""
    names = ", ".join(columns)
    cur.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
        f"SELECT 0 AS n, {names} FROM {like} WITH NO DATA"
    )
    pg_copy_in(cur, stage, ("n", *columns), ((n, *row) for n, row in enumerate(rows)))


def pg_copy_out(
    conn: Connection, stmt: Any, options: str, size: int = BATCH
) -> Iterator[list[Any]]:
    """The lines of `COPY (stmt) TO STDOUT WITH (options)`, `size` at a time (one CopyData
    message a line, bytes ending with a newline). Why: the server makes the CSV itself, no row
    crosses Python. Figure: the calls export at 1.16x `psql \\copy` (0.5 million calls; 5.2x
    before)."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    sql = f"COPY ({compiled.string}) TO STDOUT WITH ({options})"
    with driver(conn).cursor() as cursor, cursor.copy(sql, compiled.params) as lines:
        batch: list[Any] = []
        for line in lines:
            batch.append(line)
            if len(batch) == size:
                yield batch
                batch = []
        yield batch


# --- both ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Dropped:
    indexes: list[tuple[str, str]]  # (name, CREATE INDEX statement)
    foreign_keys: list[tuple[str, str, str]]  # PostgreSQL: (table, name, definition)


def secondary_indexes(cur: Any, sqlite: bool, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes of `tables` that no constraint owns."""
    if sqlite:
        marks = ",".join("?" for _ in tables)
        return list(
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks}) ORDER BY name",
                tuple(tables),
            )
        )
    cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
        "current_schema() AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM "
        "pg_constraint c WHERE c.conname = i.indexname) ORDER BY i.indexname",
        (list(tables),),
    )
    return list(cur.fetchall())


def pg_foreign_keys(cur: Any, tables: Sequence[str]) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the foreign keys of `tables` (PostgreSQL)."""
    cur.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s) "
        "ORDER BY 1, 2",
        (list(tables),),
    )
    return list(cur.fetchall())


def drop_indexes(cur: Any, sqlite: bool, tables: Sequence[str]) -> _Dropped:
    """Drop the secondary indexes of `tables` (and on PostgreSQL their foreign keys), inside the
    caller's transaction (DDL is transactional on both backends: a failed load leaves them);
    `restore_indexes` builds them again. Why: one sort per index after the load instead of
    millions of B-tree inserts, and PostgreSQL checks a foreign key added back in one pass
    instead of one trigger per row. Figure: seeding 1.40x (SQLite, full scale) and 1.53x
    (PostgreSQL, scale 0.2) the bare load that drops them too."""
    dropped = _Dropped(
        secondary_indexes(cur, sqlite, tables), [] if sqlite else pg_foreign_keys(cur, tables)
    )
    for name, _sql in dropped.indexes:
        cur.execute(f'DROP INDEX "{name}"')
    for table, name, _definition in dropped.foreign_keys:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return dropped


def restore_indexes(cur: Any, dropped: _Dropped) -> None:
    """Build again what `drop_indexes` dropped."""
    for _name, sql in dropped.indexes:
        cur.execute(sql)
    for table, name, definition in dropped.foreign_keys:
        cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def pg_reset_sequences(cur: Any, tables: Iterable[str]) -> None:
    """Each table's `id` sequence past its largest id (rows COPYed with their ids)."""
    for table in tables:
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
        )
