"""The adviser's states written from the real app (Pilot, fixed clock): on call, wrap-up, ready,
logged out; the service decides, the app only says what the adviser does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from outreach.db.engine import Database
from outreach.db.models import AgentStateEvent
from tests.tui.conftest import World, app_for, settle


def states(db: Database, agent_id: int) -> list[tuple[str, int | None]]:
    with db.reading() as s:
        return [
            (r.state, r.business_id)
            for r in s.execute(
                select(AgentStateEvent)
                .where(AgentStateEvent.agent_id == agent_id)
                .order_by(AgentStateEvent.id)
            ).scalars()
        ]


async def test_states_follow_the_call_loop(world: World, fixed_clock: datetime) -> None:
    app = app_for(world.db, agent_login="claire", clock=lambda: fixed_clock)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the campaign
        await settle(pilot)
        await pilot.press("2")  # no answer: wrap-up, then the next business
        await settle(pilot)
        await pilot.press("6")  # callback: wrap-up while the time is picked, cancelled
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")  # back to the campaigns: ready
        await settle(pilot)
        b = world.business_ids
        assert states(world.db, world.agent_id) == [
            ("ready", None),
            ("on_call", b[0]),
            ("wrap_up", None),
            ("on_call", b[1]),
            ("wrap_up", None),
            ("on_call", b[1]),
            ("ready", None),
        ]
        await pilot.press("ctrl+q")
    assert states(world.db, world.agent_id)[-1] == ("logged_out", None)
