"""Hostile text: terminal control characters shown, never run; lengths and dates bounded; a
huge search refused at once (service, CLI and the TUI under Pilot); a file that is no list
named as such, its bytes never echoed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update
from textual import events
from textual.widgets import Input

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import Campaign
from outreach.domain.text import has_control, terminal_safe
from outreach.errors import InvalidInput
from outreach.services.queue import search_businesses
from outreach.tui.screens.search import SearchScreen
from tests.supervision.builders import World, build_world
from tests.tui.conftest import app_for, settle
from tests.tui.conftest import build_world as build_tui_world

HOSTILE = "Evil\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eenilno"


def run(db: Database, *args: str) -> tuple[int, str]:
    url = db.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(cli, ["--db", url, *args], obj=AppContext())
    assert "Traceback" not in r.output
    return r.exit_code, r.output


@given(st.text())
def test_terminal_safe_escapes_every_control_and_keeps_json_json(text: str) -> None:
    shown = terminal_safe(text)
    assert not has_control(shown)
    assert shown == text or has_control(text)
    # JSON printed to a terminal still reads back as the same value
    assert json.loads(terminal_safe(json.dumps(text, ensure_ascii=False))) == text


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


def test_stored_control_characters_are_shown_not_run(db: Database, world: World) -> None:
    with db.writing() as s:  # a name written before the checks, or by another program
        s.execute(update(Campaign).where(Campaign.name == "c1").values(name=HOSTILE))
    for args in (["campaign", "list"], ["rollup", "--by", "campaign"]):
        code, out = run(db, *args, "--as", "sup_nat")
        assert code == 0, out
        assert not has_control(out.replace("\t", "")), args
        assert "Evil\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\u202eenilno" in out


def test_campaign_texts_are_bounded_and_plain(db: Database, world: World) -> None:
    code, out = run(db, "campaign", "create", "x" * 100_000, "--as", "sup_nat")
    assert code == 1 and out == "erreur : nom de campagne : 100000 caractères, 120 au plus\n"
    code, out = run(db, "campaign", "create", "Sonnerie\x07", "--as", "sup_nat")
    assert code == 1 and "caractère de contrôle interdit" in out and "\x07" not in out
    code, out = run(db, "campaign", "create", "x" * 120, "--as", "sup_nat")
    assert code == 0, out


@pytest.mark.parametrize("since", ["0001-01-01", "9999-12-31", "1899-12-31T23:00:00"])
def test_dates_out_of_bounds_are_a_message(db: Database, world: World, since: str) -> None:
    code, out = run(db, "rollup", "--since", since, "--as", "sup_nat")
    assert code == 1 and "date hors limites" in out and "(années 2000 à 2100)" in out


def test_a_50_kb_search_is_refused_at_once(db: Database) -> None:
    tui = build_tui_world(db, tasks=1)
    with pytest.raises(InvalidInput, match="recherche trop longue : 51200 caractères, 200 au plus"):
        search_businesses(db, tui.agent_id, "a" * 51_200)
    assert search_businesses(db, tui.agent_id, "Boulangerie du")  # an ordinary one still works


async def test_tui_search_answers_a_25000_character_paste(sqlite_db: Database) -> None:
    build_tui_world(sqlite_db, tasks=2)
    app = app_for(sqlite_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"claire", "enter", "enter")
        await settle(pilot)
        await pilot.press("enter")  # the campaign
        await settle(pilot)
        await pilot.press("escape", "s")  # out of the first answer, then search
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        field = app.screen.query_one("#query", Input)
        field.post_message(events.Paste("Boulangerie " * 2_100))  # 25,200 characters
        await settle(pilot)
        assert len(field.value) <= 200  # refused as a whole: nothing to search
        status = str(app.screen.query_one("#search-status").render())
        assert status == "collage refusé : 25 200 caractères, 200 au plus pour une recherche"
        field.post_message(events.Paste("Boulangerie du\nsecond line"))  # a short one goes in
        await settle(pilot)
        assert field.value == "Boulangerie du"
        field.value = ""
        await pilot.press(*"Boulangerie", "enter")
        await settle(pilot)
        assert [h.business.name for h in app.screen.hits] == ["Boulangerie du Marché"]


def test_a_file_that_is_no_list_is_named_and_not_echoed(
    db: Database, world: World, tmp_path: Path
) -> None:
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    code, out = run(db, "import", "businesses", str(binary), "--as", "sup_nat")
    assert code == 1
    assert out == f"erreur : {binary} : ni une liste CSV ni un classeur XLSX (contenu binaire)\n"
    header = tmp_path / "entete.csv"
    header.write_text("SIRET\x1b[31m;Nom;" + "Ville;" * 200 + "\nA;B;C\n", encoding="utf-8")
    code, out = run(db, "import", "businesses", str(header), "--as", "sup_nat")
    assert code == 1 and "colonne SIRET introuvable" in out
    assert "SIRET\\u001b[31m" in out and "\x1b" not in out and len(out) < 400
