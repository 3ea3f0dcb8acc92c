"""PostgreSQL pool: a connection idle in the pool is checked before use, a busy one is not.

The server ends the pooled connection's backend (as a restart or an idle timeout would); after
an idle spell the next unit of work gets a fresh connection without an error; without one, the
dead connection fails its statement once and the pool recovers on the next checkout.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import QueuePool, func, text
from sqlalchemy.exc import OperationalError

from outreach.db import engine as engine_module
from outreach.db.engine import Database, open_database


def _kill_pooled_backend(db: Database) -> None:
    with db.reading() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = open_database(db.url)
    try:
        with admin.writing() as session:
            assert session.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        admin.dispose()


def _one(db: Database) -> int:
    with db.reading() as session:
        return int(session.execute(text("SELECT 1")).scalar_one())


@pytest.fixture
def one_connection(pg_db: Database) -> Iterator[Database]:
    """The database through a pool of one connection, whose server backend has been ended."""
    db = open_database(pg_db.url, pool_size=1, max_overflow=0)
    try:
        _one(db)
        _kill_pooled_backend(db)
        yield db
    finally:
        db.dispose()


def test_an_idle_dead_connection_is_replaced_without_an_error(
    one_connection: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)  # every checkout is "idle"
    assert _one(one_connection) == 1


def test_a_busy_connection_is_not_pinged_and_recovers_after_one_failure(
    one_connection: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 3600.0)  # never idle enough
    with pytest.raises(OperationalError):
        _one(one_connection)
    assert _one(one_connection) == 1  # the pool dropped the dead connection


def _statement_pid(db: Database) -> int:
    with db.statement_conn() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _kept_pid(db: Database) -> int:
    """A unit of the queue's hot path that leaves its connection kept (no SQLAlchemy
    transaction begun on it: the statement runs on the driver's cursor)."""
    from sqlalchemy import select

    from outreach.db.driver import driver_statement

    stmt = select(func.pg_backend_pid())
    with db.statement_conn() as conn:
        return int(driver_statement(conn, stmt).run(conn, {})[0][0])


def _checked_out(db: Database) -> int:
    """Connections of the pool lent out now."""
    pool = db.engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def test_units_that_follow_each_other_keep_their_connection_and_dispose_ends_it(
    pg_db: Database,
) -> None:
    db = open_database(pg_db.url, pool_size=2, max_overflow=0)
    try:
        first = _kept_pid(db)
        assert _kept_pid(db) == first
        assert _checked_out(db) == 1
        assert _one(db) == 1  # the rest of the pool still serves other units
    finally:
        db.dispose()
    assert _checked_out(db) == 0


def test_a_pool_of_one_keeps_nothing(pg_db: Database) -> None:
    db = open_database(pg_db.url, pool_size=1, max_overflow=0)
    try:
        _kept_pid(db)
        assert _checked_out(db) == 0
        assert _one(db) == 1
    finally:
        db.dispose()


def _kill(db: Database, pid: int) -> None:
    admin = open_database(db.url)
    try:
        with admin.writing() as session:
            assert session.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        admin.dispose()


def test_a_kept_connection_lost_fails_one_unit_then_the_next_reconnects(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 3600.0)  # never idle enough
    db = open_database(pg_db.url, pool_size=2, max_overflow=0)
    try:
        pid = _kept_pid(db)
        _kill(db, pid)
        with pytest.raises(OperationalError) as got:
            _kept_pid(db)
        assert got.value.connection_invalidated
        assert _kept_pid(db) != pid
        assert _statement_pid(db) > 0
    finally:
        db.dispose()


def test_a_kept_connection_left_idle_goes_back_to_the_pool_and_is_checked(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_database(pg_db.url, pool_size=2, max_overflow=0)
    try:
        pid = _kept_pid(db)
        _kill(db, pid)
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)  # every unit is "idle"
        assert _kept_pid(db) != pid  # no error: the pool pinged it and reconnected
    finally:
        db.dispose()
