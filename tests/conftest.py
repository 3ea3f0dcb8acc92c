"""Shared fixtures: every database test runs on a real SQLite file and on real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from outreach.db.engine import Database
from outreach.i18n import set_language
from tests.dbutil import Templates, dispose, empty_database, fresh_database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """French, no database or data dir from the developer's environment."""
    monkeypatch.setenv("OUTREACH_LANG", "fr")
    monkeypatch.setenv("OUTREACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OUTREACH_DATABASE_URL", raising=False)
    set_language("fr")
    yield
    set_language(None)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("templates"))
    yield t
    t.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(backend: str, templates: Templates, tmp_path: Path) -> Iterator[Database]:
    """A migrated database (reference data only), on each backend in turn."""
    database, url = fresh_database(backend, templates, tmp_path)
    yield database
    dispose(database, url)


@pytest.fixture
def db_url(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


@pytest.fixture
def sqlite_db(templates: Templates, tmp_path: Path) -> Iterator[Database]:
    database, url = fresh_database("sqlite", templates, tmp_path)
    yield database
    dispose(database, url)


@pytest.fixture
def pg_db(templates: Templates, tmp_path: Path) -> Iterator[Database]:
    database, url = fresh_database("postgresql", templates, tmp_path)
    yield database
    dispose(database, url)


@pytest.fixture
def empty_db(backend: str, tmp_path: Path) -> Iterator[Database]:
    """A database with no schema, on each backend in turn."""
    database, url = empty_database(backend, tmp_path)
    yield database
    dispose(database, url)
