"""Throwaway databases for tests: real SQLite files and real PostgreSQL databases.

PostgreSQL tests run against OUTREACH_TEST_PG_URL (default: the local server, user postgres).
When it is unreachable they skip with a message, except where CI or OUTREACH_REQUIRE_PG is set:
there an unreachable server is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from outreach.db import migrate
from outreach.db.engine import Database, open_database

PG_ADMIN_URL = os.environ.get(
    "OUTREACH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = bool(os.environ.get("CI") or os.environ.get("OUTREACH_REQUIRE_PG"))


def _admin_conninfo() -> str:
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def pg_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        with psycopg.connect(_admin_conninfo(), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def require_pg() -> None:
    why = pg_available()
    if why is None:
        return
    message = (
        f"PostgreSQL unreachable at {PG_ADMIN_URL} ({why}). Start it with "
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set "
        "OUTREACH_TEST_PG_URL."
    )
    if REQUIRE_PG:
        pytest.fail(message)
    pytest.skip(message)


def _admin(sql: str) -> None:
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(sql)


def create_pg_database(template: str | None = None) -> str:
    """A new database (a copy of `template` if given); returns its SQLAlchemy URL."""
    name = f"outreach_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Templates:
    """Migrated databases made once per test session and copied per test (fast)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._sqlite: Path | None = None
        self._pg: str | None = None

    def sqlite(self) -> Path:
        if self._sqlite is None:
            path = self.root / "template.sqlite3"
            db = open_database(f"sqlite:///{path}")
            migrate.upgrade(db)
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.dispose()
            self._sqlite = path
        return self._sqlite

    def pg(self) -> str:
        if self._pg is None:
            url = create_pg_database()
            db = open_database(url)
            migrate.upgrade(db)
            db.dispose()
            self._pg = make_url(url).database
        assert self._pg is not None, url
        return self._pg

    def close(self) -> None:
        if self._pg is not None:
            _admin(f'DROP DATABASE IF EXISTS "{self._pg}" WITH (FORCE)')


def fresh_database(backend: str, templates: Templates, tmp_path: Path) -> tuple[Database, str]:
    """A migrated database of `backend`, empty but for reference data; and its URL."""
    if backend == "sqlite":
        path = tmp_path / "outreach.sqlite3"
        shutil.copyfile(templates.sqlite(), path)
        url = f"sqlite:///{path}"
    else:
        require_pg()
        url = create_pg_database(template=templates.pg())
    return open_database(url), url


def empty_database(backend: str, tmp_path: Path) -> tuple[Database, str]:
    """A database with no schema at all."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        require_pg()
        url = create_pg_database()
    return open_database(url), url


def dispose(db: Database, url: str) -> None:
    db.dispose()
    if db.is_postgresql:
        drop_pg_database(url)
