"""The foundation's command line: version, French help, `db upgrade`, and bad input as one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from outreach import __version__
from outreach.config import resolve_database_url
from outreach.db import migrate
from outreach.db.engine import Database, open_database
from outreach.errors import ConfigError


def outreach(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "OUTREACH_LANG": "fr", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "outreach", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def _one_clear_line(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("erreur : ")
    for part in expected:
        assert part in lines[0], lines[0]


def test_version_and_french_help() -> None:
    assert outreach("--version").stdout.strip() == f"outreach {__version__}"
    help_text = outreach("--help").stdout
    assert help_text.startswith("Utilisation : outreach")
    assert "Affiche cette aide et quitte." in help_text and "Commandes" in help_text
    for command in ("db", "seed", "tui", "demo", "serve", "rollup", "export", "import"):
        assert f"  {command} " in help_text


def test_english_help_when_asked() -> None:
    help_text = outreach("db", "--help", env={"OUTREACH_LANG": "en"}).stdout
    assert help_text.startswith("Usage: outreach db")
    assert "Show this message and exit." in help_text


def test_db_upgrade_then_up_to_date(empty_db: Database) -> None:
    url = empty_db.url.render_as_string(hide_password=False)
    first = outreach("--db", url, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert f"-> {migrate.head_revision()}" in first.stdout
    again = outreach("db", "upgrade", "--db", url)  # --db after the command works too
    assert again.returncode == 0 and "déjà à jour" in again.stdout
    assert migrate.current_revision(empty_db) == migrate.head_revision()


def test_database_behind_says_how_to_fix(empty_db: Database) -> None:
    migrate.upgrade(empty_db, "0001")
    url = empty_db.url.render_as_string(hide_password=False)
    done = outreach("--db", url, "rollup", "--as", "cmaf.admin")
    _one_clear_line(done, "en retard", "db upgrade")


def test_database_never_upgraded(tmp_path: Path) -> None:
    done = outreach("--db", str(tmp_path / "new.sqlite3"), "rollup", "--as", "cmaf.admin")
    _one_clear_line(done, "aucune base à", "db upgrade", "demo")
    assert not (tmp_path / "new.sqlite3").exists()


def test_database_from_a_newer_version(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    url = db.url.render_as_string(hide_password=False)
    done = outreach("--db", url, "seed", "--profile", "demo")
    _one_clear_line(done, "plus récente", "mettez outreach à jour")


def test_bad_url_and_unreachable_database() -> None:
    _one_clear_line(outreach("--db", "mysql://x@y/z", "db", "current"), "non prise en charge")
    _one_clear_line(outreach("--db", "postgresql://u@/", "db", "current"))
    _one_clear_line(
        outreach("--db", "postgresql://postgres@127.0.0.1:1/none", "db", "upgrade"),
        "injoignable",
        "127.0.0.1:1",
    )


def test_url_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert str(resolve_database_url("postgresql://a@h/d").drivername) == "postgresql+psycopg"
    assert str(resolve_database_url("postgres://a@h/d").drivername) == "postgresql+psycopg"
    path_url = resolve_database_url(str(tmp_path / "x.sqlite3"))
    assert path_url.get_backend_name() == "sqlite" and path_url.database == str(
        tmp_path / "x.sqlite3"
    )
    monkeypatch.setenv("OUTREACH_DATABASE_URL", "sqlite:////tmp/from-env.sqlite3")
    assert resolve_database_url(None).database == "/tmp/from-env.sqlite3"
    assert resolve_database_url("sqlite:////tmp/cli.sqlite3").database == "/tmp/cli.sqlite3"
    monkeypatch.delenv("OUTREACH_DATABASE_URL")
    default = resolve_database_url(None)
    assert default.database == str(tmp_path / "data" / "outreach.sqlite3")  # OUTREACH_DATA_DIR
    with pytest.raises(ConfigError):
        resolve_database_url("sqlite://")


def test_sqlite_pragmas(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    with db.reading() as s:
        assert s.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(sa.text("PRAGMA busy_timeout")).scalar_one() >= 10_000
    db.dispose()
