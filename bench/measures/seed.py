"""`seed`: the national profile seeded through the project, next to the same rows written by
the plain driver.
"""

from __future__ import annotations

import time

from bench.context import Bench, cli_env, outreach_cmd, raw_connect, run_child
from bench.report import Row
from outreach.db import migrate
from outreach.db.engine import open_database
from outreach.services.seeding import COLUMNS, load_reference, national_batches
from outreach.services.seeding.writer import BIG_TABLES


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
