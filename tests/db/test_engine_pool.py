"""PostgreSQL pool: a connection idle in the pool is checked before use, a busy one is not.

The server ends the pooled connection's backend (as a restart or an idle timeout would); after
an idle spell the next unit of work gets a fresh connection without an error; without one, the
dead connection fails its statement once and the pool recovers on the next checkout.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
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
