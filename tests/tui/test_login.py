"""The login screen: `--agent` goes straight in unless a PIN is set; PINs are typed, checked,
and wrong ones are refused without telling which logins exist."""

from __future__ import annotations

from textual.widgets import Input, Static

from outreach.services.auth import set_pin
from outreach.tui.screens.campaigns import CampaignsScreen
from outreach.tui.screens.login import LoginScreen
from tests.tui.conftest import World, app_for, settle


def _error(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one("#login-error", Static).render())


async def test_agent_option_skips_login(world: World) -> None:
    app = app_for(world.db, agent_login="claire")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CampaignsScreen)
        assert app.agent is not None and app.agent.login == "claire"


async def test_agent_with_pin_must_type_it(world: World) -> None:
    set_pin(world.db, "claire", "2468")
    app = app_for(world.db, agent_login="claire")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#login", Input).value == "claire"
        assert app.screen.focused is app.screen.query_one("#pin", Input)
        await pilot.press(*"1111", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "identifiant ou code PIN incorrect" in _error(app)
        await pilot.press(*"2468", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CampaignsScreen)


async def test_unknown_login_and_required_pin(world: World) -> None:
    app = app_for(world.db, require_pin=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"personne", "enter", "enter")
        await settle(pilot)
        assert "identifiant ou code PIN incorrect" in _error(app)
        login = app.screen.query_one("#login", Input)
        login.value = "claire"
        login.focus()
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "code PIN est obligatoire" in _error(app)
