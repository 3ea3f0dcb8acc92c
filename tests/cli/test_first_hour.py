"""A new user's first commands (issue #16): one default database, options where they are typed,
`--as` asked for in a terminal."""

from __future__ import annotations

import csv
import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from outreach.cli import cli
from outreach.config import data_dir
from outreach.db.engine import Database
from outreach.services.auth import set_pin
from tests.cli.terminal import in_a_terminal
from tests.factories import make_agent, make_business

if TYPE_CHECKING:
    from outreach.tui.settings import TuiSettings


def test_a_read_command_on_no_database_creates_no_file_and_says_what_to_run() -> None:
    result = CliRunner().invoke(cli, ["rollup", "--as", "cmaf.superviseur"])
    assert result.exit_code != 0
    line = result.output.strip()
    assert "Traceback" not in line and len(line.splitlines()) == 1
    default = data_dir() / "outreach.sqlite3"
    assert f"aucune base à {default}" in line
    # the default database needs no --db in the fix
    assert "« outreach demo »" in line and "« outreach db upgrade »" in line
    assert not default.exists()
    current = CliRunner().invoke(cli, ["db", "current"])
    assert current.exit_code == 0 and f"base : aucune ({default} n'existe pas)" in current.output
    assert not default.exists()


def test_another_missing_file_names_it_in_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "ailleurs.sqlite3"
    result = CliRunner().invoke(cli, ["--db", str(missing), "rollup", "--as", "x"])
    assert f"« outreach --db {missing} demo »" in result.output
    assert not missing.exists()


def test_an_empty_file_is_not_initialised_and_gets_the_same_fix(tmp_path: Path) -> None:
    empty = tmp_path / "vide.sqlite3"
    empty.touch()
    result = CliRunner().invoke(cli, ["--db", str(empty), "campaign", "list", "--as", "x"])
    assert "n'est pas initialisée" in result.output and "demo" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["tui", "--agent", "bre.agent2"],
        ["--agent", "bre.agent2", "tui"],
        ["demo", "--agent", "bre.agent2"],
    ],
)
def test_agent_is_accepted_before_and_after_the_command(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import outreach.cli.tui as tui_cli

    opened: list[str | None] = []
    monkeypatch.setattr(tui_cli, "prepare_demo", lambda app: None)
    monkeypatch.setattr(
        tui_cli, "_run_app", lambda app, login, pin_required, bell=False: opened.append(login)
    )
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert opened == ["bre.agent2"]


def test_lang_is_accepted_after_the_command() -> None:
    result = CliRunner().invoke(cli, ["rollup", "--lang", "en", "--as", "x", "--db", "/nope/x.db"])
    assert result.output.startswith("error: no database at /nope/x.db")


def test_supervisor_is_asked_for_in_a_terminal_with_the_pin(sqlite_db: Database) -> None:
    make_agent(sqlite_db, "sup.pin", chamber="CMAF", role="supervisor")
    set_pin(sqlite_db, "sup.pin", "4321")
    url = sqlite_db.url.render_as_string(hide_password=False)
    env = {"OUTREACH_DATABASE_URL": url, "OUTREACH_AS": ""}
    out = in_a_terminal(["campaign", "list"], ["sup.pin", "4321"], env)
    assert "Superviseur qui agit (identifiant):" in out and "Code PIN de sup.pin:" in out
    assert "4321" not in out  # the PIN is not echoed
    assert "aucune campagne" in out, out
    wrong = in_a_terminal(["campaign", "list"], ["sup.pin", "0000"], env)
    assert "identifiant ou code PIN incorrect" in wrong


def test_without_a_terminal_the_supervisor_must_be_given(sqlite_db: Database) -> None:
    url = sqlite_db.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-m", "outreach", "--db", url, "campaign", "list"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "OUTREACH_AS"},
    )
    assert done.returncode != 0 and "--as" in done.stderr and "OUTREACH_AS" in done.stderr


def test_do_not_call_export_by_chamber_says_what_it_keeps(db: Database, tmp_path: Path) -> None:
    make_agent(db, "sup.nat", chamber="CMAF", role="supervisor")
    rennes = make_business(db, "Opposée à Rennes", department="35", do_not_call=True)
    make_business(db, "Opposée à Paris", department="75", do_not_call=True)
    make_business(db, "Appelable à Brest", department="29")
    url = db.url.render_as_string(hide_password=False)
    out = tmp_path / "opposition.csv"
    args = ["--db", url, "export", "do-not-call", "--out", str(out), "--chamber", "BRE"]
    result = CliRunner().invoke(cli, [*args, "--as", "sup.nat", "--comma"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "--chamber BRE : les entreprises des départements de la chambre (22, 29, 35, 56)"
    )
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == ["Opposée à Rennes"] and rennes


@pytest.mark.parametrize(
    ("args", "env", "bell"),
    [
        (["tui"], {}, False),
        (["tui", "--bell"], {}, True),
        (["tui"], {"OUTREACH_BELL": "1"}, True),
        (["demo", "--bell"], {}, True),
    ],
)
def test_bell_is_an_option_off_by_default(
    args: list[str], env: dict[str, str], bell: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--bell` (or OUTREACH_BELL=1) reaches the app's settings; without it the bell is off."""
    import outreach.cli.tui as tui_cli
    import outreach.tui.app as tui_app

    monkeypatch.delenv("OUTREACH_BELL", raising=False)
    seen: list[TuiSettings] = []

    class Stub:
        def run(self) -> None:
            gc.unfreeze()
            gc.enable()  # as the app does once started

    def fake_make_app(db: object, settings: TuiSettings) -> Stub:
        seen.append(settings)
        return Stub()

    monkeypatch.setattr(tui_cli, "prepare_demo", lambda app: None)
    monkeypatch.setattr(tui_app, "make_app", fake_make_app)
    monkeypatch.setattr(tui_cli.AppContext, "database", lambda self, check=True: None)
    result = CliRunner().invoke(cli, [*args, "--agent", "bre.agent2"], env=env)
    assert result.exit_code == 0, result.output
    assert [s.callback_bell for s in seen] == [bell]
