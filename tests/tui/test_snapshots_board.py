"""Snapshot of the supervisors' dashboard with the live agent board (fixed data, fixed clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from textual.app import App
from textual.pilot import Pilot

from outreach.db.engine import Database
from outreach.services import agent_states as states
from outreach.services.backend import Backend
from outreach.tui.screens.dashboard import DashboardScreen
from outreach.tui.widgets.day_bar import DayBar
from tests.supervision.builders import add_call, build_world
from tests.tui.conftest import SnapCompare, settle
from tests.waiting import wait_for

NOW = datetime(2021, 4, 6, 14, 0, tzinfo=UTC)


class Host(App[None]):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    def on_mount(self) -> None:
        self.push_screen(
            DashboardScreen(Backend(self.db), "sup_nat", clock=lambda: NOW, interval=3600)
        )


@pytest.fixture
def board_db(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    import outreach.services.dashboard as dashboard

    monkeypatch.setattr(dashboard.time, "perf_counter", lambda: 0.0)  # "0 ms" in the title
    w = build_world(sqlite_db)

    def ago(minutes: float) -> datetime:
        return NOW - timedelta(minutes=minutes)

    db = sqlite_db
    states.set_state(db, w.agent["agent_bre"], "ready", now=ago(5))
    states.set_state(db, w.agent["agent_bre"], "on_call", business_id=w.business["b2"], now=ago(2))
    idf = w.agent["agent_idf"]
    states.set_state(db, idf, "ready", now=ago(70))
    for m in range(64, -1, -2):
        states.set_state(db, idf, "paused", reason="lunch", now=ago(m))
    states.set_state(db, w.agent["sup_bre"], "ready", now=ago(1))
    add_call(db, w, 60, "c2", "b2", "agent_bre", "reached", datetime(2021, 4, 6, 12, 5))
    return db


def test_dashboard_board(snap_compare: SnapCompare, board_db: Database) -> None:
    async def loaded(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, DashboardScreen)
        for _round in range(2):  # the second refresh redraws the tables once laid out
            await settle(pilot)  # the load at mount has ended
            screen.last = None
            screen.action_refresh_now()
            await wait_for(
                pilot,
                lambda: screen.last is not None and not screen.busy,
                "the dashboard refreshed",
            )
        await settle(pilot)

    assert snap_compare(Host(board_db), terminal_size=(160, 40), run_before=loaded)


def test_call_screen_with_callback_alert(snap_compare: SnapCompare, sqlite_db: Database) -> None:
    """Claire on a call when her callback on another business falls due: the red banner."""
    from tests.tui.conftest import FIXED_NOW, app_for
    from tests.tui.conftest import build_world as tui_world
    from tests.tui.test_agent_day import callback_in_20_minutes

    world = tui_world(sqlite_db)
    callback_in_20_minutes(world, FIXED_NOW)
    moments = [FIXED_NOW]
    app = app_for(
        sqlite_db, agent_login="claire", clock=lambda: moments[-1], callback_check_seconds=0.2
    )

    async def due(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        moments.append(FIXED_NOW + timedelta(minutes=22))
        alert = pilot.app.screen.query_one("#day-alert")
        await wait_for(pilot, lambda: alert.display, "the callback alert shown")
        pilot.app.screen.query_one("#day-bar", DayBar).tick()
        await settle(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=due)
