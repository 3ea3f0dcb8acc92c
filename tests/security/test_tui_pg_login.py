"""The agents' app on PostgreSQL: each person logs in with their own database role."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Label, Static

from outreach.db.engine import Database
from outreach.tui.screens.campaigns import CampaignsScreen
from outreach.tui.screens.login import LoginScreen
from tests.security.conftest import PASSWORD, Roles
from tests.tui.conftest import app_for, build_world, settle

pytestmark = pytest.mark.postgresql


async def test_owner_url_asks_for_the_person_and_their_password(
    pg_db: Database, roles: Roles, tmp_path: Path
) -> None:
    build_world(pg_db)
    person = roles.add("idf.agent1", "IDF")
    app = app_for(pg_db, outbox_dir=tmp_path / "outbox")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        labels = [str(label.render()) for label in app.screen.query(Label)]
        assert "Mot de passe" in labels
        app.screen.query_one("#login", Input).value = roles.login("personne")
        app.screen.query_one("#pin", Input).value = PASSWORD
        app.screen.query_one("#pin", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        error = str(app.screen.query_one("#login-error", Static).render())
        assert "identifiant ou mot de passe incorrect" in error
        app.screen.query_one("#login", Input).value = person.login
        app.screen.query_one("#pin", Input).focus()
        app.screen.query_one("#pin", Input).value = PASSWORD
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CampaignsScreen)
        assert app.agent is not None and app.agent.login == person.login
        working = app.backend.call(lambda db: db)  # the database the services now run on
        assert working.url.username == person.login  # the app now works as that role
        working.dispose()


async def test_person_url_goes_straight_in_as_that_person(
    pg_db: Database, roles: Roles, tmp_path: Path
) -> None:
    build_world(pg_db)
    person = roles.add("idf.agent2", "IDF")
    app = app_for(roles.database(person.login), outbox_dir=tmp_path / "outbox")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CampaignsScreen)
        assert app.agent is not None and app.agent.login == person.login
    # `--agent` naming someone else is refused with such a URL
    app = app_for(roles.database(person.login), agent_login="claire", outbox_dir=tmp_path / "o2")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen) and app.agent is None
