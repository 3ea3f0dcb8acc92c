"""The app's route to the dashboard (ctrl+d): supervisors only."""

from __future__ import annotations

from outreach.db.engine import Database
from outreach.services.backend import Backend
from outreach.tui.app import make_app
from outreach.tui.screens.dashboard import DashboardScreen
from outreach.tui.settings import TuiSettings
from tests.supervision.builders import build_world
from tests.supervision.test_dashboard_screen import NOW, wait_until


async def test_route_in_the_app_is_for_supervisors(sqlite_db: Database) -> None:
    build_world(sqlite_db)
    sup = make_app(Backend(sqlite_db), TuiSettings(agent_login="sup_nat", clock=lambda: NOW))
    async with sup.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: sup.agent is not None)
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: isinstance(sup.screen, DashboardScreen))
    agent = make_app(Backend(sqlite_db), TuiSettings(agent_login="agent_bre", clock=lambda: NOW))
    async with agent.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: agent.agent is not None)
        await pilot.press("ctrl+d")
        await pilot.pause(0.2)
        assert not isinstance(agent.screen, DashboardScreen)
