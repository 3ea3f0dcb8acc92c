"""The dashboard screen through Pilot: figures from the service, live refresh, supervisors only."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App
from textual.widgets import DataTable, Sparkline, Static

from outreach.db.engine import Database
from outreach.services.backend import Backend
from outreach.tui.screens.dashboard import DashboardScreen
from tests.supervision.builders import add_call, build_world
from tests.waiting import wait_for

NOW = datetime(2021, 4, 6, 16, 30, tzinfo=UTC)


class Host(App[None]):
    def __init__(self, db: Database, login: str) -> None:
        super().__init__()
        self.db, self.login = db, login

    def on_mount(self) -> None:
        self.push_screen(
            DashboardScreen(Backend(self.db), self.login, clock=lambda: NOW, interval=0.2)
        )


def cell_texts(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_dashboard_shows_and_refreshes(sqlite_db: Database) -> None:
    world = build_world(sqlite_db)
    app = Host(sqlite_db, "sup_nat")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await wait_for(pilot, lambda: screen.last is not None, "the dashboard loaded")
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
        # the screen's timer refreshes it (every 0.2 s here); the tables are filled by the same
        # message that sets `last`
        await wait_for(
            pilot,
            lambda: screen.last is not None and screen.last.total.contacts == 10,
            "the dashboard refreshed with the new call",
        )
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
