"""Damaged, read-only and newer databases: one clear line each, never a traceback; a backup of
a damaged file leaves nothing; a read-only SQLite file still answers reading commands (real
files: a truncated copy, a read-only tmpfs mount or a read-only file, a newer revision)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from tests.supervision.builders import build_world

ROOT_USER = os.geteuid() == 0


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, list(args), obj=AppContext())
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r.exit_code, r.output


@pytest.fixture
def seeded(sqlite_db: Database) -> Path:
    """A real SQLite file with the small world, its WAL checkpointed into the file."""
    build_world(sqlite_db)
    sqlite_db.dispose()
    path = Path(str(sqlite_db.url.database))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.mark.parametrize("keep", [4096, 40_000, 30])
def test_truncated_copy_is_one_line_on_every_command(
    seeded: Path, tmp_path: Path, keep: int
) -> None:
    here = tmp_path / "copies"
    here.mkdir()
    broken = here / "copie.sqlite3"
    broken.write_bytes(seeded.read_bytes()[:keep])
    for args in (
        ["campaign", "list", "--as", "sup_nat"],
        ["rollup", "--as", "sup_nat"],
        ["db", "current"],
        ["db", "upgrade"],
    ):
        code, out = run("--db", str(broken), *args)
        assert code != 0 and "Traceback" not in out, (args, out)
        assert out.startswith("erreur : ") and out.count("\n") == 1, (args, out)
        assert "endommagée ou illisible" in out or "n'est pas initialisée" in out, (args, out)
    code, out = run("--db", str(broken), "db", "backup", str(here / "sauvegarde.sqlite3"))
    assert code == 1 and "illisible ou endommagée" in out and "Traceback" not in out
    assert sorted(p.name for p in here.iterdir()) == ["copie.sqlite3"]  # no .partial


def test_newer_schema_is_named_not_a_traceback(seeded: Path) -> None:
    with sqlite3.connect(seeded) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    for args in (["db", "upgrade"], ["campaign", "list", "--as", "sup_nat"]):
        code, out = run("--db", str(seeded), *args)
        assert code == 1 and "Traceback" not in out
        assert (
            "révision 0099, plus récente que ce programme" in out
            and "mettez outreach à jour" in out
        )


def test_downgrade_to_an_unknown_revision_is_a_message(seeded: Path) -> None:
    code, out = run("--db", str(seeded), "db", "downgrade", "0077")
    assert code == 1 and out.startswith("erreur : migration impossible") and "Traceback" not in out


@pytest.fixture
def read_only_copy(seeded: Path, tmp_path: Path) -> Iterator[Path]:
    """The database on a read-only filesystem (root: a tmpfs remounted read-only), or a
    read-only file in a read-only directory (anyone else)."""
    home = tmp_path / "ro"
    home.mkdir()
    if ROOT_USER:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(home)], check=True)
        shutil.copyfile(seeded, home / "outreach.sqlite3")
        subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
        try:
            yield home / "outreach.sqlite3"
        finally:
            subprocess.run(["umount", "--lazy", str(home)], check=False)  # open files too
    else:
        shutil.copyfile(seeded, home / "outreach.sqlite3")
        (home / "outreach.sqlite3").chmod(0o444)
        home.chmod(0o555)
        try:
            yield home / "outreach.sqlite3"
        finally:
            home.chmod(0o755)


def test_read_only_sqlite_still_reads(read_only_copy: Path, tmp_path: Path) -> None:
    db = str(read_only_copy)
    code, out = run("--db", db, "campaign", "list", "--as", "sup_nat")
    assert code == 0, out
    assert "c1" in out
    code, out = run("--db", db, "rollup", "--as", "sup_nat")
    assert code == 0, out
    code, out = run("--db", db, "db", "current")
    assert code == 0 and "base : " in out
    # a command that must write (its audit row first) says why it cannot, and delivers nothing
    target = tmp_path / "appels.csv"
    code, out = run("--db", db, "export", "calls", "--out", str(target), "--as", "sup_nat")
    assert code == 1 and "lecture seule" in out and "injoignable" not in out
    assert not target.exists() and not list(tmp_path.glob("*.partial"))
