"""Textual's own strings in the user's language: the palette's placeholder and commands, the
help's key names; today's counts with plurals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.command import CommandPalette
from textual.widgets import Input

from outreach.i18n import set_language
from tests.tui.conftest import World, app_for, settle
from tests.tui.test_call_sizes import screen_text

LOGIN = ("c", "l", "a", "i", "r", "e", "enter", "enter")


@pytest.fixture
def english() -> Iterator[None]:
    set_language("en")
    yield
    set_language("fr")


async def test_palette_and_commands_in_french(world: World) -> None:
    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*LOGIN)
        await settle(pilot)
        assert "Aujourd'hui : 0 appel, 0 joint" in screen_text(app)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        assert app.screen.query_one(Input).placeholder == "Rechercher une commande…"
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert titles == ["Thème", "Touches", "Quitter"]


async def test_help_key_names_in_english(world: World, english: None) -> None:
    app = app_for(world.db)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press(*LOGIN)
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(app)
        assert "Esc" in text and "Échap" not in text and "Entrée" not in text


def test_key_labels_do_not_depend_on_the_language_at_import() -> None:
    """Binding descriptions are French message ids, translated by the footer and the help when
    shown: screens first imported while English was on (another test, `--lang en` before the
    import) still show French later in a French session."""
    import subprocess
    import sys

    code = (
        "from outreach.i18n import set_language\n"
        "set_language('en')\n"
        "from outreach.tui.screens.call import CallScreen\n"
        "from outreach.tui.screens.login import LoginScreen\n"
        "print(sorted(b.description for b in LoginScreen.BINDINGS + CallScreen.BINDINGS"
        " if b.show))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "'Quitter'" in out and "'Sortir du champ'" in out
    assert "'Quit'" not in out
