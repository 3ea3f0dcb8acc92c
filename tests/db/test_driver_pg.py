"""Statements run on psycopg's cursor beneath Connection.execute (outreach.db.driver): the same
rows and the same errors as `Connection.execute`, on a real PostgreSQL database."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import (
    JSON,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    event,
    func,
    insert,
    literal,
    literal_column,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from outreach.db.driver import DriverStatement, driver_statement
from outreach.db.engine import Database
from outreach.db.models import Agent
from tests.dbutil import _admin_conninfo
from tests.factories import make_agent

pytestmark = pytest.mark.postgresql


def _stmt() -> Select[Any]:
    a = Agent.__table__
    return (
        select(
            a.c.id,
            a.c.login,
            # a repeated parameter, a value fixed in the statement, a literal percent sign
            (bindparam("n", type_=Integer) + bindparam("n", type_=Integer)).label("twice"),
            literal("fixed").label("fixed"),
            literal_column("'50%'").label("pct"),
            func.json_typeof(cast(bindparam("doc", type_=JSON), JSON)).label("doc_type"),
            a.c.login.label("id_again"),
        )
        .where(a.c.id == bindparam("agent"))
        .where(a.c.login.like(bindparam("pattern", type_=String)))
    )


def test_rows_and_names_are_those_of_execute(pg_db: Database) -> None:
    agent = make_agent(pg_db)
    stmt = _stmt()
    params = {"agent": agent, "n": 21, "doc": {"a": [1, 2]}, "pattern": "%"}
    with pg_db.statement_conn() as conn:
        expected = conn.execute(stmt, params).all()
        run = driver_statement(conn, stmt)
        assert driver_statement(conn, stmt) is run  # compiled once per dialect
        rows = run.run(conn, params)
        assert "%(" not in run.sql and "$1" in run.sql
        assert rows == [tuple(r) for r in expected]
        row = run.named(rows[0])
        assert (row.id, row.twice, row.fixed, row.pct, row.doc_type) == (
            agent,
            42,
            "fixed",
            "50%",
            "object",
        )
        assert row._mapping == dict(expected[0]._mapping)
        assert run.run(conn, params | {"agent": -1}) == []


def test_a_missing_parameter_is_a_key_error(pg_db: Database) -> None:
    with pg_db.statement_conn() as conn:
        run = DriverStatement(_stmt(), conn.dialect)
        with pytest.raises(KeyError):
            run.run(conn, {"agent": 1})


def test_errors_are_sqlalchemys_and_events_see_the_statement(pg_db: Database) -> None:
    agent = make_agent(pg_db)
    a = Agent.__table__
    copy = (
        insert(Agent)
        .from_select(
            ["login", "name", "role", "chamber_id"],
            select(a.c.login, a.c.name, a.c.role, a.c.chamber_id).where(
                a.c.id == bindparam("agent")
            ),
        )
        .returning(a.c.id)
    )
    seen: list[str] = []

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        seen.append(statement)

    event.listen(pg_db.engine, "before_cursor_execute", before)
    try:
        with pg_db.statement_conn() as conn:
            with pytest.raises(IntegrityError):  # the login is unique
                driver_statement(conn, copy).run(conn, {"agent": agent})
    finally:
        event.remove(pg_db.engine, "before_cursor_execute", before)
    assert seen and seen[0].startswith("INSERT INTO agents")


def test_a_lost_connection_is_invalidated_and_the_next_unit_reconnects(pg_db: Database) -> None:
    agent = make_agent(pg_db)
    stmt = select(Agent.__table__.c.id).where(Agent.__table__.c.id == bindparam("agent"))
    with pg_db.statement_conn() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        pid = raw.info.backend_pid
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(DBAPIError) as got:
            driver_statement(conn, stmt).run(conn, {"agent": agent})
    assert got.value.connection_invalidated
    with pg_db.statement_conn() as conn:
        assert driver_statement(conn, stmt).run(conn, {"agent": agent}) == [(agent,)]
