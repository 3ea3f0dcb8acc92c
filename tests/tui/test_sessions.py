"""One live session per agent: a second login ends the first (which stops working and is told),
the new one is warned; a crashed session expires; leaving ends the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from outreach.db.engine import Database
from outreach.db.models import AgentSession
from outreach.services.sessions import end_session, heartbeat, open_session
from outreach.tui.screens.modals import SessionTakenModal
from tests.factories import make_agent
from tests.tui.conftest import World, app_for, settle
from tests.tui.test_call_keys import _open

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_newest_session_wins_and_stale_ones_expire(db: Database) -> None:
    agent = make_agent(db)
    first = open_session(db, agent, "terminal", "poste-1", now=NOW)
    assert first.ended_others == ()
    second = open_session(db, agent, "browser", "poste-2", now=NOW + timedelta(seconds=30))
    assert [(o.kind, o.host) for o in second.ended_others] == [("terminal", "poste-1")]
    assert not heartbeat(db, first.id, now=NOW + timedelta(seconds=40))
    assert heartbeat(db, second.id, now=NOW + timedelta(seconds=40))
    # a crashed app (no heartbeat for long): ended at its last heartbeat, nobody warned
    third = open_session(db, agent, "terminal", "poste-3", now=NOW + timedelta(hours=1))
    assert third.ended_others == ()
    end_session(db, third.id, now=NOW + timedelta(hours=2))
    with db.reading() as s:
        rows = {r.id: r for r in s.execute(select(AgentSession)).scalars()}
    assert rows[second.id].ended_at == (NOW + timedelta(seconds=40)).replace(tzinfo=None)
    assert rows[third.id].ended_at == (NOW + timedelta(hours=2)).replace(tzinfo=None)
    assert all(r.ended_at is not None for r in rows.values())


async def test_second_login_stops_the_first_window(world: World) -> None:
    first = app_for(world.db)
    async with first.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        assert screen.current is not None
        # the same adviser logs in elsewhere (the browser, another host)
        other = open_session(world.db, world.agent_id, "browser", "ailleurs")
        assert [o.kind for o in other.ended_others] == ["terminal"]
        first._session_beat()
        await settle(pilot)
        assert isinstance(first.screen, SessionTakenModal)
        assert screen.current is None
        await pilot.press("2")  # no outcome can be recorded from here
        await settle(pilot)
        assert isinstance(first.screen, SessionTakenModal)
