"""People on real PostgreSQL: login roles made for a test with unique names, dropped after.

Roles are global to the server (every test database shares them), so every role a test makes
is named `t<random>.<what>` and dropped at the end, even when the test fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from sqlalchemy.engine import make_url

from outreach.db.engine import Database, open_database
from outreach.services import people
from outreach.services.types import AgentInfo
from tests.dbutil import _admin

PASSWORD = "mot-de-passe-de-test"


@dataclass
class Roles:
    """Adds people (row + role) to one PostgreSQL test database and drops their roles after."""

    db: Database
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:8]}")
    made: list[str] = field(default_factory=list)
    opened: list[Database] = field(default_factory=list)

    def login(self, what: str) -> str:
        return f"{self.prefix}.{what}"

    def add(self, what: str, chamber: str, role: str = "agent") -> AgentInfo:
        login = self.login(what)
        self.made.append(login)
        return people.add_person(self.db, None, login, what.title(), chamber, role, PASSWORD)

    def url(self, login: str) -> str:
        url = make_url(self.db.url.render_as_string(hide_password=False))
        return url.set(username=login, password=PASSWORD).render_as_string(hide_password=False)

    def conninfo(self, login: str) -> str:
        return (
            make_url(self.url(login))
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )

    def connect(self, login: str) -> psycopg.Connection:
        """A direct connection as `login` (psycopg, not through the services)."""
        return psycopg.connect(self.conninfo(login), autocommit=True)

    def database(self, login: str) -> Database:
        """The services' `Database`, connected as `login`."""
        opened = open_database(self.url(login))
        self.opened.append(opened)
        return opened

    def drop(self) -> None:
        for opened in self.opened:
            opened.dispose()
        for login in self.made:
            quoted = '"' + login.replace('"', '""') + '"'
            # their open connections first (a role cannot be dropped while connected), waited
            # for until they have ended: a backend still ending holds the temporary objects of
            # its session (the import's staging table), owned by the role, and DROP ROLE then
            # fails with "some objects depend on it"
            _admin(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                f"WHERE usename = '{login}'"
            )
            _admin(f"DROP ROLE IF EXISTS {quoted}")


@pytest.fixture
def roles(pg_db: Database) -> Iterator[Roles]:
    made = Roles(pg_db)
    yield made
    made.drop()
