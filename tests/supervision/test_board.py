"""The live agent board on SQLite and PostgreSQL: states, since when, business, today's counts,
the scope, a crashed app, a pause past its limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outreach.db.engine import Database
from outreach.services import agent_states as states
from outreach.services.agents import get_agent
from outreach.services.board import Board, BoardFeed
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
    assert board is not None
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
    assert again is not None
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


def _recount(
    db: Database, at: datetime, today: dict[int, list[int]], chamber: str | None
) -> list[tuple[object, ...]]:
    """The board as a plain recount: every event read, the newest of each adviser is its
    state, the lease rule and the pause limits applied, in the board's order."""
    from sqlalchemy import select

    from outreach.db.models import Agent, AgentStateEvent, Business, Chamber, PauseReasonRow

    naive = at.replace(tzinfo=None)
    with db.reading() as s:
        last = {}
        for e in s.execute(select(AgentStateEvent).order_by(AgentStateEvent.id)).scalars():
            last[e.agent_id] = (e.state, e.at, e.reason, e.expires_at, e.business_id)
        names = dict(s.execute(select(Business.id, Business.name)).all())
        limits = dict(s.execute(select(PauseReasonRow.code, PauseReasonRow.max_minutes)).all())
        people = s.execute(
            select(Agent.id, Agent.login, Chamber.code)
            .join(Chamber, Chamber.id == Agent.chamber_id)
            .where(Agent.active)
        ).all()
    order = {"paused": 0, "wrap_up": 1, "on_call": 2, "ready": 3, "logged_out": 4}
    out: list[tuple[tuple[bool, int, datetime, str], tuple[object, ...]]] = []
    for aid, login, code in people:
        if chamber is not None and code != chamber:
            continue
        c = tuple(today.get(aid, (0, 0, 0)))
        if aid not in last:
            out.append(
                ((True, 4, datetime.max, login), (login, "logged_out", None, None, None, False, c))
            )
            continue
        state, since, reason, expires, business = last[aid]
        if expires is not None and expires < naive:
            state, since, reason, business = "logged_out", expires, None, None
        limit = limits.get(reason) if state == "paused" and reason is not None else None
        over = limit is not None and naive - since > timedelta(minutes=limit)
        name = None
        if state == "on_call":
            assert business is not None
            name = names[business]
        out.append(
            ((not over, order[state], since, login), (login, state, since, reason, name, over, c))
        )
    return [row for _key, row in sorted(out)]


def _seen(board: Board) -> list[tuple[object, ...]]:
    return [
        (
            r.login,
            r.state,
            r.since.replace(tzinfo=None) if r.since else None,
            r.reason,
            r.business,
            r.over_limit,
            (r.calls, r.reached, r.referrals),
        )
        for r in board.rows
    ]


def test_the_incremental_board_equals_a_recount_of_the_events(db: Database) -> None:
    """One feed refreshed again and again while advisers change state, send heartbeats,
    crash (leases run out), pause past their limits and make calls: each refresh equals a
    full recount from the events, for the national and a regional supervisor."""
    import random

    from tests.factories import make_agent

    w = build_world(db)
    rng = random.Random(15)
    advisers = [w.agent["agent_bre"], w.agent["agent_idf"]]
    advisers += [make_agent(db, f"bre.{i}", chamber="BRE") for i in range(6)]
    advisers += [make_agent(db, f"idf.{i}", chamber="IDF") for i in range(6)]
    businesses = list(w.business.values())
    national = BoardFeed(db, get_agent(db, "sup_nat"))
    regional = BoardFeed(db, get_agent(db, "sup_bre"))
    alive = set(advisers)
    at = NOW
    today: dict[int, list[int]] = {}
    for step in range(60):
        at += timedelta(seconds=rng.choice((5, 20, 70, 130, 200)))
        for aid in rng.sample(advisers, 4):
            if aid not in alive and rng.random() < 0.7:
                continue  # crashed: silent for a while
            alive.add(aid)
            move = rng.random()
            try:
                if move < 0.2:
                    states.set_state(db, aid, "ready", now=at)
                elif move < 0.45:
                    states.set_state(db, aid, "on_call", business_id=rng.choice(businesses), now=at)
                elif move < 0.55:
                    states.set_state(db, aid, "wrap_up", now=at)
                elif move < 0.7:
                    reason = rng.choice(("technical", "admin", "training"))
                    states.set_state(db, aid, "paused", reason=reason, now=at)
                elif move < 0.8:
                    states.set_state(db, aid, "logged_out", now=at)
                elif move < 0.9:  # a heartbeat: the same state again
                    now_state = states.current_state(db, aid, now=at)
                    if now_state is not None and now_state.state != "logged_out":
                        states.set_state(
                            db,
                            aid,
                            now_state.state,
                            reason=now_state.reason,
                            note=now_state.note,
                            business_id=now_state.business_id,
                            now=at,
                        )
                else:
                    alive.discard(aid)  # its app crashes: no more heartbeats
            except Exception as exc:  # a change the catalogue forbids: nothing written
                assert "impossible" in str(exc)
        if step % 3 == 0:
            counts = today.setdefault(rng.choice(advisers), [0, 0, 0])
            counts[0] += 1
            counts[1] += rng.random() < 0.5
        if step == 40:
            states.close_expired(db, now=at)
        seen = national.refresh(at, today)
        assert _seen(seen) == _recount(db, at, today, None), step
        assert sum(seen.counts.values()) == len(seen.rows)
        assert _seen(regional.refresh(at, today)) == _recount(db, at, today, "BRE"), step
    # a fresh feed (a full read) agrees with the incremental one
    assert _seen(BoardFeed(db, get_agent(db, "sup_nat")).refresh(at, today)) == _seen(
        national.refresh(at, today)
    )


def test_a_pause_passes_its_limit_between_two_refreshes(db: Database) -> None:
    """A live adviser paused for a technical problem (15 minutes at most): the same feed shows
    the pause over its limit once 15 minutes have passed, with no new event in between (the
    heartbeats only move the lease), and its lease kept by those heartbeats."""
    w = build_world(db)
    idf = w.agent["agent_idf"]
    feed = BoardFeed(db, get_agent(db, "sup_nat"))
    paused_at = NOW - timedelta(seconds=10)
    states.set_state(db, idf, "paused", reason="technical", now=paused_at)
    for second in range(0, 20 * 60 + 1, 30):
        at = NOW + timedelta(seconds=second)
        if second % 60 == 0:
            states.set_state(db, idf, "paused", reason="technical", now=at)  # heartbeat
        board = feed.refresh(at)
        row = {r.login: r for r in board.rows}["agent_idf"]
        assert (row.state, row.since) == ("paused", paused_at)
        assert row.over_limit is (second + 10 > 15 * 60), second
        assert _seen(board) == _recount(db, at, {}, None)


def test_a_late_commit_on_postgresql_is_seen(pg_db: Database) -> None:
    """PostgreSQL: a state change whose id is below ids the board already read (its
    transaction committed later) still reaches the same feed."""
    from sqlalchemy import text

    w = build_world(pg_db)
    bre, idf = w.agent["agent_bre"], w.agent["agent_idf"]
    feed = BoardFeed(pg_db, get_agent(pg_db, "sup_nat"))
    states.set_state(pg_db, bre, "ready", now=ago(2))
    states.set_state(pg_db, idf, "ready", now=ago(2))
    feed.refresh(NOW)
    feed.refresh(NOW)
    with pg_db.writing() as s:
        top = s.execute(text("SELECT max(id) FROM agent_state_events")).scalar_one()
        s.execute(text("SELECT setval('agent_state_events_id_seq', :v)"), {"v": top + 100})
    states.set_state(pg_db, bre, "on_call", business_id=w.business["b2"], now=ago(1))
    assert {r.login: r.state for r in feed.refresh(NOW).rows}["agent_bre"] == "on_call"
    with pg_db.writing() as s:  # the late one: ids below the ones just read
        s.execute(text("SELECT setval('agent_state_events_id_seq', :v)"), {"v": top + 50})
    states.set_state(pg_db, idf, "paused", reason="lunch", now=ago(1))
    board = feed.refresh(NOW)
    assert {r.login: r.state for r in board.rows}["agent_idf"] == "paused"
    assert _seen(board) == _recount(pg_db, NOW, {}, None)
