"""The app's route to the dashboard (ctrl+d): supervisors only."""

from __future__ import annotations

from outreach.db.engine import Database
from outreach.services.backend import Backend
from outreach.tui.app import make_app
from outreach.tui.screens.dashboard import DashboardScreen
from outreach.tui.settings import TuiSettings
from tests.supervision.builders import build_world
from tests.supervision.test_dashboard_screen import NOW
from tests.waiting import wait_for


async def test_route_in_the_app_is_for_supervisors(sqlite_db: Database) -> None:
    build_world(sqlite_db)
    sup = make_app(Backend(sqlite_db), TuiSettings(agent_login="sup_nat", clock=lambda: NOW))
    async with sup.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: sup.agent is not None, "the supervisor logged in")
        await pilot.press("ctrl+d")
        await wait_for(
            pilot, lambda: isinstance(sup.screen, DashboardScreen), "the dashboard opened"
        )
    agent = make_app(Backend(sqlite_db), TuiSettings(agent_login="agent_bre", clock=lambda: NOW))
    async with agent.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: agent.agent is not None, "the adviser logged in")
        await pilot.press("ctrl+d")
        # the key was handled: refused, with a word saying why
        await wait_for(
            pilot,
            lambda: any("réservé aux superviseurs" in n.message for n in agent._notifications),
            "the refusal shown",
        )
        assert not isinstance(agent.screen, DashboardScreen)
