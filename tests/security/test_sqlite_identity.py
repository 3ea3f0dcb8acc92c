"""SQLite, the one-desk case: a private file, and supervisors' commands proven by their PIN."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db import migrate
from outreach.db.engine import Database, open_database
from outreach.db.models import Agent, AuditLog
from outreach.errors import Forbidden
from outreach.services.auth import set_pin, verify_login
from outreach.services.login_delay import FREE
from tests.supervision.builders import World, build_world


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_sqlite_file_is_private(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    path = shared / "new" / "deeper" / "outreach.sqlite3"
    db = open_database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        assert _mode(wal) == 0o600
    assert _mode(shared) == 0o755  # a directory that was already there keeps its mode


def test_backup_copy_is_private(sqlite_db: Database, tmp_path: Path) -> None:
    target = tmp_path / "copie.sqlite3"
    r = CliRunner().invoke(
        cli,
        ["--db", str(sqlite_db.url.database), "db", "backup", str(target)],
        obj=AppContext(),
    )
    assert r.exit_code == 0, r.output
    assert _mode(target) == 0o600


def _export(url: str, out: Path, login: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        cli,
        ["--db", url, "export", "calls", "--out", str(out), "--as", login],
        obj=AppContext(),
        env=env or {},
    )


@pytest.fixture
def world(sqlite_db: Database) -> World:
    return build_world(sqlite_db)


def _failed(db: Database, login: str) -> tuple[int, object]:
    with db.reading() as s:
        row = s.execute(
            select(Agent.failed_pins, Agent.locked_until).where(Agent.login == login)
        ).one()
    return row[0], row[1]


def test_supervisor_with_pin_is_refused_without_it(
    sqlite_db: Database, world: World, tmp_path: Path
) -> None:
    url = str(sqlite_db.url.database)
    set_pin(sqlite_db, "sup_nat", "482913")
    out = tmp_path / "appels.csv"

    r = _export(url, out, "sup_nat", {"OUTREACH_PIN": ""})
    assert r.exit_code != 0 and "a un code PIN" in r.output and "OUTREACH_PIN" in r.output
    assert not out.exists()
    assert _failed(sqlite_db, "sup_nat")[0] == 0  # no PIN given is not a wrong PIN

    r = _export(url, out, "sup_nat", {"OUTREACH_PIN": "000000"})
    assert r.exit_code != 0 and "incorrect" in r.output and not out.exists()
    assert _failed(sqlite_db, "sup_nat")[0] == 1

    r = _export(url, out, "sup_nat", {"OUTREACH_PIN": "482913"})
    assert r.exit_code == 0, r.output
    assert out.exists()
    assert "482913" not in r.output
    with sqlite_db.reading() as s:
        actions = list(
            s.scalars(
                select(AuditLog.action)
                .where(AuditLog.entity != "login_source")
                .order_by(AuditLog.id)
            )
        )
    assert actions == ["set_pin", "login_failed", "login", "export"]

    # a supervisor without a PIN is as before (the file is the boundary on SQLite)
    r = _export(url, tmp_path / "bre.csv", "sup_bre")
    assert r.exit_code == 0, r.output


def test_supervisor_pin_waits_like_the_login_screen(
    sqlite_db: Database, world: World, tmp_path: Path
) -> None:
    """One rule: wrong PINs at the login screen make OUTREACH_PIN wait too (and back)."""
    url = str(sqlite_db.url.database)
    set_pin(sqlite_db, "sup_bre", "1357")
    # wrong PINs typed at a login screen, a little in the future (the wait is then certain to
    # be running when the command below tries, whatever the machine's speed)
    later = datetime.now(UTC) + timedelta(minutes=10)
    for _ in range(FREE):
        with pytest.raises(Forbidden, match="incorrect"):
            verify_login(sqlite_db, "sup_bre", "9999", now=later, source="tty:/dev/pts/9:autre")
    r = _export(url, tmp_path / "x.csv", "sup_bre", {"OUTREACH_PIN": "1357"})
    assert r.exit_code != 0 and "trop de tentatives erronées pour sup_bre" in r.output
    assert "prochain essai possible dans" in r.output
    assert not (tmp_path / "x.csv").exists()
    assert _failed(sqlite_db, "sup_bre")[0] == FREE  # a refused attempt is not counted
    # a wrong OUTREACH_PIN counts for the login screen the same way
    set_pin(sqlite_db, "sup_nat", "2468")
    for _ in range(FREE):
        r = _export(url, tmp_path / "y.csv", "sup_nat", {"OUTREACH_PIN": "0000"})
        assert r.exit_code != 0
    assert "prochain essai possible dans 15 s" in r.output
    with pytest.raises(Forbidden, match="trop de tentatives erronées pour sup_nat"):
        verify_login(sqlite_db, "sup_nat", "2468", source="tty:/dev/pts/3:ailleurs")


def test_gdpr_and_rollup_need_the_pin(sqlite_db: Database, world: World) -> None:
    url = str(sqlite_db.url.database)
    set_pin(sqlite_db, "sup_nat", "2468")
    for args in (["rollup"], ["gdpr", "purge", "--older-than", "3y", "--yes"]):
        r = CliRunner().invoke(
            cli, ["--db", url, *args, "--as", "sup_nat"], obj=AppContext(), env={}
        )
        assert r.exit_code != 0 and "a un code PIN" in r.output, args
        r = CliRunner().invoke(
            cli,
            ["--db", url, *args, "--as", "sup_nat"],
            obj=AppContext(),
            env={"OUTREACH_PIN": "2468"},
        )
        assert r.exit_code == 0, r.output


def test_set_pin_needs_the_old_pin_or_a_proven_supervisor(
    sqlite_db: Database, world: World
) -> None:
    url = str(sqlite_db.url.database)

    def set_pin_cli(*args: str, env: dict[str, str]) -> Result:
        return CliRunner().invoke(cli, ["--db", url, "set-pin", *args], obj=AppContext(), env=env)

    r = set_pin_cli("sup_bre", env={"OUTREACH_NEW_PIN": "1111"})
    assert r.exit_code == 0, r.output  # a first PIN
    # the agent at the same desk cannot replace it (nor clear it) without the PIN
    r = set_pin_cli("sup_bre", env={"OUTREACH_NEW_PIN": "2222"})
    assert r.exit_code != 0 and "a un code PIN" in r.output
    r = set_pin_cli("sup_bre", "--clear", env={"OUTREACH_PIN": "0000"})
    assert r.exit_code != 0 and "incorrect" in r.output
    # nor by naming themselves as the supervisor's supervisor
    r = set_pin_cli("sup_bre", "--as", "agent_bre", env={"OUTREACH_NEW_PIN": "2222"})
    assert r.exit_code != 0 and "ne peut pas changer" in r.output
    r = set_pin_cli("sup_bre", env={"OUTREACH_PIN": "1111", "OUTREACH_NEW_PIN": "2222"})
    assert r.exit_code == 0, r.output
    r = set_pin_cli(
        "agent_bre", "--as", "sup_bre", env={"OUTREACH_PIN": "2222", "OUTREACH_NEW_PIN": "3333"}
    )
    assert r.exit_code == 0, r.output

    # --clear: only a supervisor or an admin, proven by their own PIN, even for one's own PIN
    r = set_pin_cli("agent_bre", "--clear", env={"OUTREACH_PIN": "3333"})
    assert r.exit_code != 0 and "réservé à un superviseur" in r.output
    r = set_pin_cli("agent_bre", "--clear", "--as", "sup_nat", env={})
    assert r.exit_code != 0 and "sup_nat n'en a pas" in r.output  # no PIN: nothing proven
    assert _failed(sqlite_db, "agent_bre") == (0, None)
    with sqlite_db.reading() as s:
        assert s.scalar(select(Agent.has_pin).where(Agent.login == "agent_bre"))
    r = set_pin_cli("agent_bre", "--clear", "--as", "sup_bre", env={"OUTREACH_PIN": "2222"})
    assert r.exit_code == 0 and "code PIN retiré pour agent_bre" in r.output
    with sqlite_db.reading() as s:
        assert not s.scalar(select(Agent.has_pin).where(Agent.login == "agent_bre"))
        audit = s.execute(
            select(AuditLog.agent_id, AuditLog.entity_id)
            .where(AuditLog.action == "clear_pin")
            .order_by(AuditLog.id)
        ).all()
    assert audit == [(world.agent["sup_bre"], str(world.agent["agent_bre"]))]


def test_opposition_lift_needs_the_pin(sqlite_db: Database, world: World) -> None:
    from tests.supervision.builders import make_siret

    url = str(sqlite_db.url.database)
    set_pin(sqlite_db, "sup_bre", "8642")
    siret = make_siret(4)  # b4, a business of BRE
    r = CliRunner().invoke(
        cli,
        ["--db", url, "dnc", "add", "--siret", siret, "--as", "sup_bre", "--reason", "demande"],
        obj=AppContext(),
        env={"OUTREACH_PIN": "8642"},
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        cli,
        ["--db", url, "dnc", "lift", "--siret", siret, "--as", "sup_bre", "--reason", "erreur"],
        obj=AppContext(),
        env={},
    )
    assert r.exit_code != 0 and "a un code PIN" in r.output
