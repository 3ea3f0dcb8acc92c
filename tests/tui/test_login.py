"""The login screen: `--agent` goes straight in unless a PIN is set; PINs are typed, checked,
and wrong ones are refused without telling which logins exist."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from textual.widgets import Input, Static

from outreach.db.engine import open_database
from outreach.db.models import Agent
from outreach.services.auth import set_pin
from outreach.tui.app import OutreachApp
from outreach.tui.screens.campaigns import CampaignsScreen
from outreach.tui.screens.login import LoginScreen
from tests.tui.conftest import World, app_for, settle
from tests.waiting import wait_for


def _error(app: OutreachApp) -> str:
    return str(app.screen.query_one("#login-error", Static).render())


async def test_agent_option_skips_login(world: World) -> None:
    app = app_for(world.db, agent_login="claire")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CampaignsScreen)
        assert app.agent is not None and app.agent.login == "claire"


async def test_agent_option_refused_shows_the_form(world: World) -> None:
    with world.db.writing() as s:
        s.execute(update(Agent).where(Agent.login == "claire").values(active=False))
    app = app_for(world.db, agent_login="claire")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.agent is None
        assert app.screen.query_one("#login", Input).value == "claire"
        assert "identifiant ou code PIN incorrect" in _error(app)
        assert app.screen.focused is app.screen.query_one("#pin", Input)


async def test_agent_option_without_database_shows_the_form(tmp_path: Path) -> None:
    away = open_database(f"sqlite:///{tmp_path / 'away' / 'outreach.sqlite3'}")
    app = app_for(away, agent_login="claire", outbox_dir=tmp_path / "outbox")
    async with app.run_test(size=(100, 30)) as pilot:
        # the login worker fails: `settle` would raise its error
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, LoginScreen) and app.screen.query("#login"),
            "the login form shown again",
        )
        assert isinstance(app.screen, LoginScreen)  # to try again, not a blank screen
        assert app.screen.query_one("#login", Input).value == "claire"
    away.dispose()


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


async def test_wrong_pins_at_the_login_screen_make_it_wait(world: World) -> None:
    """The login screen (terminal, or served with the browser's address) goes through the same
    waits as every login: a clock moved by hand, no sleeping."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from outreach.db.models import AuditLog
    from outreach.services.login_delay import FREE

    set_pin(world.db, "claire", "2468")
    now = [datetime(2026, 12, 4, 9, 0, tzinfo=UTC)]
    app = app_for(
        world.db, agent_login="claire", remote_address="203.0.113.7", clock=lambda: now[0]
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for _ in range(FREE):
            await pilot.press(*"1111", "enter")
            await settle(pilot)
        assert "incorrect ; prochain essai possible dans 15 s (à 09:00:15 UTC)" in _error(app)
        await pilot.press(*"2468", "enter")  # the right PIN, too early: not even checked
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "trop de tentatives erronées pour claire" in _error(app)
        now[0] += timedelta(seconds=15)
        await pilot.press(*"2468", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CampaignsScreen)
    with world.db.reading() as s:
        sources = set(
            s.scalars(select(AuditLog.entity_id).where(AuditLog.entity == "login_source"))
        )
    assert sources == {"addr:203.0.113.7"}
