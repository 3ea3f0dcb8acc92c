"""The live agent board on SQLite and PostgreSQL: states, since when, business, today's counts,
the scope, a crashed app, a pause past its limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outreach.db.engine import Database
from outreach.services import agent_states as states
from outreach.services.agents import get_agent
from outreach.services.board import BoardFeed
from outreach.services.dashboard import DashboardFeed
from tests.supervision.builders import add_call, build_world

NOW = datetime(2021, 4, 6, 14, 0, tzinfo=UTC)  # 16:00 in Paris


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def test_board_rows(db: Database) -> None:
    w = build_world(db)
    bre, idf = w.agent["agent_bre"], w.agent["agent_idf"]
    states.set_state(db, bre, "ready", now=ago(3))
    states.set_state(db, bre, "on_call", business_id=w.business["b2"], now=ago(2))
    states.set_state(db, idf, "ready", now=ago(70))
    states.set_state(db, idf, "paused", reason="lunch", now=ago(62))
    for m in range(60, -1, -2):  # idf's app is alive through the pause
        states.set_state(db, idf, "paused", reason="lunch", now=ago(m))
    states.set_state(db, w.agent["sup_bre"], "ready", now=ago(30))  # crashed since: lease run out
    add_call(db, w, 60, "c2", "b2", "agent_bre", "reached", datetime(2021, 4, 6, 12, 5))
    add_call(db, w, 61, "c2", "b3", "agent_bre", "busy", datetime(2021, 4, 6, 12, 15))

    feed = DashboardFeed(db, get_agent(db, "sup_nat"))
    board = feed.refresh(NOW).board
    by = {r.login: r for r in board.rows}
    assert set(by) == {"sup_nat", "sup_bre", "agent_bre", "agent_idf"}
    b = by["agent_bre"]
    assert (b.state, b.since, b.business) == ("on_call", ago(2), "Entreprise b2")
    assert (b.calls, b.reached, b.referrals) == (2, 1, 0)
    i = by["agent_idf"]
    assert (i.state, i.reason, i.since, i.over_limit) == ("paused", "lunch", ago(62), True)
    assert i.business is None
    s = by["sup_bre"]
    assert (s.state, s.since) == ("logged_out", ago(30) + states.LEASE)
    assert (by["sup_nat"].state, by["sup_nat"].since) == ("logged_out", None)
    assert board.counts == {"paused": 1, "wrap_up": 0, "on_call": 1, "ready": 0, "logged_out": 2}
    # who needs a look first: the pause past its limit, then the calls, the logged out last
    assert [r.login for r in board.rows][:2] == ["agent_idf", "agent_bre"]
    assert board.rows[-1].state == "logged_out"

    # the next refresh sees the change at once
    states.set_state(db, bre, "wrap_up", now=ago(1))
    again = feed.refresh(NOW).board
    assert {r.login: r.state for r in again.rows}["agent_bre"] == "wrap_up"

    # a regional supervisor: their chamber's people only
    regional = BoardFeed(db, get_agent(db, "sup_bre")).refresh(NOW)
    assert {r.login for r in regional.rows} == {"sup_bre", "agent_bre"}


def test_board_follows_heartbeats_and_crashes(db: Database) -> None:
    w = build_world(db)
    bre, idf = w.agent["agent_bre"], w.agent["agent_idf"]
    states.set_state(db, bre, "ready", now=ago(1))
    states.set_state(db, idf, "ready", now=ago(1))
    feed = BoardFeed(db, get_agent(db, "sup_nat"))
    first = {r.login: r.state for r in feed.refresh(NOW).rows}
    assert (first["agent_bre"], first["agent_idf"]) == ("ready", "ready")
    # idf's app lives on (heartbeats), bre's crashed: 10 minutes later
    for m in (1, 3, 5, 7, 9):
        states.set_state(db, idf, "ready", now=NOW + timedelta(minutes=m))
    later = {r.login: r for r in feed.refresh(NOW + timedelta(minutes=10)).rows}
    assert later["agent_idf"].state == "ready"
    assert (later["agent_bre"].state, later["agent_bre"].since) == (
        "logged_out",
        ago(1) + states.LEASE,
    )
