"""`outreach demo`: a fresh local database seeded once with the demo profile, then the app
opens as `demo`, who is calling a demo business after one key."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import func, select

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.cli.tui import prepare_demo
from outreach.config import data_dir
from outreach.db.models import Business
from outreach.tui.screens.call import CallScreen
from outreach.tui.screens.campaigns import CampaignsScreen
from tests.tui.conftest import app_for, settle


async def test_demo_prepares_once_and_opens_as_demo() -> None:
    db = prepare_demo(AppContext())
    assert db.url.database == str(data_dir() / "outreach.sqlite3")  # every command's default
    with db.reading() as s:
        businesses = s.execute(select(func.count()).select_from(Business)).scalar_one()
    assert businesses > 0
    # the supervisors' commands see the demo's data without --db
    rollup = CliRunner().invoke(cli, ["rollup", "--as", "cmaf.superviseur", "--format", "json"])
    assert rollup.exit_code == 0, rollup.output
    assert json.loads(rollup.output)["total"]["contacts"] > 0
    again = prepare_demo(AppContext())  # already there: not seeded twice
    with again.reading() as s:
        assert s.execute(select(func.count()).select_from(Business)).scalar_one() == businesses

    app = app_for(db, agent_login="demo")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CampaignsScreen)
        assert app.agent is not None and app.agent.login == "demo"
        live = [c for c in app.screen.campaigns if c.queued > 0]
        assert live, "the demo agent has work queued"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen) and app.screen.current is not None
        first = app.screen.current.business.id
        await pilot.press("2")
        await settle(pilot)
        assert app.screen.current is not None and app.screen.current.business.id != first
    db.dispose()
    again.dispose()
