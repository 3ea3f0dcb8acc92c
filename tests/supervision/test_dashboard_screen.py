"""The dashboard screen through Pilot: figures from the service, live refresh, supervisors only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Sparkline, Static

from outreach.db.engine import Database
from outreach.services.backend import Backend
from outreach.tui.screens.dashboard import DashboardScreen
from tests.supervision.builders import add_call, build_world

NOW = datetime(2021, 4, 6, 16, 30, tzinfo=UTC)


class Host(App[None]):
    def __init__(self, db: Database, login: str) -> None:
        super().__init__()
        self.db, self.login = db, login

    def on_mount(self) -> None:
        self.push_screen(
            DashboardScreen(Backend(self.db), self.login, clock=lambda: NOW, interval=0.2)
        )


async def wait_until(pilot: Pilot[None], check: Callable[[], bool], tries: int = 100) -> None:
    for _ in range(tries):
        await pilot.pause(0.05)
        if check():
            return
    raise AssertionError("condition not reached")


def cell_texts(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_dashboard_shows_and_refreshes(sqlite_db: Database) -> None:
    world = build_world(sqlite_db)
    app = Host(sqlite_db, "sup_nat")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await wait_until(pilot, lambda: screen.last is not None)
        lockdowns = cell_texts(screen.query_one("#dash-lockdowns", DataTable))
        assert lockdowns[0] == ["confinement-1", "4", "3", "2", "3"]
        assert lockdowns[-1][0] == "(hors confinement)"
        assert "Contacts 9" in str(screen.query_one("#dash-kpis", Static).render())
        # a call made now shows up at the next refresh, in today's hours and per agent
        add_call(
            sqlite_db,
            world,
            50,
            "c2",
            "b2",
            "agent_bre",
            "reached",
            datetime(2021, 4, 6, 14, 5),
            ("digital_diagnostic",),
        )
        await wait_until(
            pilot, lambda: screen.last is not None and screen.last.total.contacts == 10
        )
        await pilot.pause(0.1)
        agents = cell_texts(screen.query_one("#dash-agents", DataTable))
        # the live board: every person of the scope, their state, today's counts
        assert ["Agent_Bre", "Déconnecté", "-", "", "1", "1", "1"] in agents
        assert len(agents) == 4
        spark = screen.query_one("#dash-sparkline", Sparkline).data
        assert spark is not None and spark[16] == 1  # 16:05 in Paris
        referrals = dict(cell_texts(screen.query_one("#dash-referrals", DataTable)))
        assert referrals["Diagnostic numérique"] == "3"
        await pilot.press("escape")
        assert not isinstance(app.screen, DashboardScreen)
