"""Advisers' states on SQLite and PostgreSQL: transitions, pauses, crash recovery, time roll-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from outreach.db.engine import Database
from outreach.db.models import AgentStateEvent, PauseReasonRow
from outreach.errors import InvalidInput
from outreach.services import agent_states as states
from outreach.services import agent_times
from outreach.services.agents import get_agent
from outreach.services.selection import CallFilter, resolve
from tests.supervision.builders import World, build_world
from tests.waiting import wait_until

T0 = datetime(2020, 11, 2, 8, 0, tzinfo=UTC)  # 9:00 in Paris, the day of calls 5 and 6


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def hold(db: Database, agent: int, state: str, start: float, end: float, **kw: Any) -> None:
    """`state` from minute `start` to `end`, with the app's heartbeat every 2 minutes."""
    m = start
    while m < end:
        states.set_state(db, agent, state, now=at(m), **kw)
        m += 2


def rows(db: Database, agent_id: int) -> list[tuple[str, str | None, datetime, datetime | None]]:
    with db.reading() as s:
        return [
            (r.state, r.reason, r.at, r.ended_at)
            for r in s.execute(
                select(AgentStateEvent)
                .where(AgentStateEvent.agent_id == agent_id)
                .order_by(AgentStateEvent.id)
            ).scalars()
        ]


def test_every_transition_is_a_row_and_closes_the_one_before(db: Database) -> None:
    w = build_world(db)
    a, b = w.agent["agent_bre"], w.business["b1"]
    states.set_state(db, a, "ready", now=at(0))
    states.set_state(db, a, "on_call", business_id=b, now=at(1))
    states.set_state(db, a, "on_call", business_id=b, now=at(2))  # heartbeat: no row
    states.set_state(db, a, "wrap_up", now=at(4))
    states.set_state(db, a, "on_call", business_id=w.business["b3"], now=at(5))
    states.set_state(db, a, "ready", now=at(7))
    now = states.set_state(db, a, "logged_out", now=at(9))
    assert now.state == "logged_out" and now.expires_at is None
    got = rows(db, a)
    assert [r[0] for r in got] == ["ready", "on_call", "wrap_up", "on_call", "ready", "logged_out"]
    # each state ends exactly when the next begins; the last is open
    for before, after in zip(got, got[1:], strict=False):
        assert before[3] == after[2]
    assert got[-1][3] is None
    current = states.current_state(db, a, now=at(10))
    assert current is not None and current.state == "logged_out"


def test_forbidden_and_bad_changes_are_refused_with_a_reason(db: Database) -> None:
    w = build_world(db)
    a = w.agent["agent_bre"]
    with pytest.raises(InvalidInput, match="logged_out|-.*wrap_up"):
        states.set_state(db, a, "wrap_up", now=at(0))  # never logged in
    with pytest.raises(InvalidInput, match="état inconnu"):
        states.set_state(db, a, "asleep", now=at(0))
    states.set_state(db, a, "ready", now=at(0))
    with pytest.raises(InvalidInput, match="motif de pause inconnu"):
        states.set_state(db, a, "paused", reason="nap", now=at(1))
    with pytest.raises(InvalidInput, match="précisez"):
        states.set_state(db, a, "paused", reason="other", now=at(1))
    with pytest.raises(InvalidInput, match="entreprise"):
        states.set_state(db, a, "on_call", now=at(1))
    with pytest.raises(InvalidInput, match="motif"):
        states.set_state(db, a, "ready", reason="lunch", now=at(1))
    assert [r[0] for r in rows(db, a)] == ["ready"]


def test_pause_with_reason_and_note(db: Database) -> None:
    w = build_world(db)
    a = w.agent["agent_bre"]
    hold(db, a, "ready", 0, 10)
    hold(db, a, "paused", 10, 70, reason="lunch")
    states.set_state(db, a, "paused", reason="other", note=" dentiste ", now=at(70))
    current = states.current_state(db, a, now=at(71))
    assert current is not None
    assert (current.state, current.reason, current.note) == ("paused", "other", "dentiste")
    assert [r[:2] for r in rows(db, a)] == [
        ("ready", None),
        ("paused", "lunch"),
        ("paused", "other"),
    ]
    assert {r.code for r in states.pause_reasons(db)} >= {"lunch", "training", "other"}


def test_the_catalogue_is_data(db: Database) -> None:
    w = build_world(db)
    with db.writing() as s:
        s.add(PauseReasonRow(code="union", key="7", label_fr="Syndicat", label_en="Union"))
        s.execute(
            update(PauseReasonRow).where(PauseReasonRow.code == "training").values(active=False)
        )
    codes = [r.code for r in states.pause_reasons(db)]
    assert "union" in codes and "training" not in codes
    a = w.agent["agent_bre"]
    states.set_state(db, a, "ready", now=at(0))
    states.set_state(db, a, "paused", reason="union", now=at(1))
    with pytest.raises(InvalidInput):
        states.set_state(db, a, "paused", reason="training", now=at(2))


def test_a_crashed_apps_state_ends_at_its_lease(db: Database) -> None:
    w = build_world(db)
    a, b = w.agent["agent_bre"], w.agent["agent_idf"]
    states.set_state(db, a, "ready", now=at(0))
    states.set_state(db, a, "on_call", business_id=w.business["b1"], now=at(1))
    hold(db, b, "ready", 0, 61)  # b's app is alive: heartbeats
    expiry = at(1) + states.LEASE
    # readers count a's call as ended at the lease's expiry, at once
    seen = states.current_state(db, a, now=at(60))
    assert seen is not None and (seen.state, seen.since) == ("logged_out", expiry)
    assert states.close_expired(db, now=at(60)) == 1
    assert states.close_expired(db, now=at(61)) == 0
    assert [(r[0], r[2], r[3]) for r in rows(db, a)][-2:] == [
        ("on_call", at(1).replace(tzinfo=None), expiry.replace(tzinfo=None)),
        ("logged_out", expiry.replace(tzinfo=None), None),
    ]
    assert [r[0] for r in rows(db, b)] == ["ready"]
    # the adviser back later: a fresh day, the crash stored the same way without close_expired
    states.set_state(db, b, "on_call", business_id=w.business["b6"], now=at(200))
    assert [r[0] for r in rows(db, b)] == ["ready", "logged_out", "on_call"]
    assert rows(db, b)[1][2] == (at(60) + states.LEASE).replace(tzinfo=None)


def _day(db: Database, w: World) -> None:
    """agent_bre's 2 November 2020: calls 5 and 6 of the world, a lunch break, a crash."""
    a = w.agent["agent_bre"]
    hold(db, a, "ready", 0, 5)
    hold(db, a, "on_call", 5, 9, business_id=w.business["b1"])
    hold(db, a, "wrap_up", 9, 10)
    hold(db, a, "on_call", 10, 13, business_id=w.business["b3"])
    hold(db, a, "wrap_up", 13, 15)
    hold(db, a, "ready", 15, 20)
    hold(db, a, "paused", 20, 80, reason="lunch")
    hold(db, a, "paused", 80, 90, reason="other", note="panne")
    states.set_state(db, a, "ready", now=at(90))  # then the app crashes: ready until the lease
    i = w.agent["agent_idf"]  # idf works across midnight UTC (15:50 to 16:20 after T0)
    hold(db, i, "ready", 15 * 60 + 50, 16 * 60 + 20)
    states.set_state(db, i, "logged_out", now=at(16 * 60 + 20))


def test_time_rollup_equals_the_recount(db: Database) -> None:
    w = build_world(db)
    _day(db, w)
    sup = get_agent(db, "sup_nat")
    sel = resolve(db, sup, CallFilter())
    later = datetime(2020, 11, 5, tzinfo=UTC)
    report = agent_times.verify(db, sel, later)
    by = {(r["agent"], r["day"]): r for r in report.rows}
    bre = by[("agent_bre", "2020-11-02")]
    lease = int(states.LEASE.total_seconds())
    assert bre["on_call_s"] == 7 * 60
    assert bre["wrap_up_s"] == 3 * 60
    assert bre["paused_s"] == 70 * 60
    assert bre["paused_lunch_s"] == 60 * 60 and bre["paused_other_s"] == 10 * 60
    assert bre["ready_s"] == 10 * 60 + lease
    assert bre["logged_in_s"] == 90 * 60 + lease
    assert (bre["calls"], bre["reached"], bre["referrals"]) == (2, 2, 1)
    assert bre["calls_per_hour"] == round(2 / ((90 * 60 + lease) / 3600), 1)
    assert by[("agent_idf", "2020-11-02")]["ready_s"] == 600
    assert by[("agent_idf", "2020-11-03")]["ready_s"] == 1200
    assert by[("agent_idf", "2020-11-03")]["calls"] == 2
    # a regional supervisor: their chamber's advisers only
    bre_only = agent_times.agent_times(
        db, resolve(db, get_agent(db, "sup_bre"), CallFilter()), later
    )
    assert {r["agent"] for r in bre_only.rows} == {"agent_bre"}
    # bounded to one Paris day
    day = resolve(db, sup, CallFilter(since="2020-11-03", until="2020-11-03"))
    assert {(r["agent"], r["day"]) for r in agent_times.verify(db, day, later).rows} == {
        ("agent_idf", "2020-11-02"),  # 23:00-23:50 UTC is already 3 November in Paris
        ("agent_idf", "2020-11-03"),
    }


def test_a_wrong_ended_at_is_caught_by_the_recount(db: Database) -> None:
    w = build_world(db)
    _day(db, w)
    with db.writing() as s:
        first = s.scalar(select(AgentStateEvent.id).order_by(AgentStateEvent.id).limit(1))
        s.execute(
            update(AgentStateEvent)
            .where(AgentStateEvent.id == first)
            .values(ended_at=at(6).replace(tzinfo=None))
        )
    sel = resolve(db, get_agent(db, "sup_nat"), CallFilter())
    with pytest.raises(agent_times.RollupMismatch, match="ready_s"):
        agent_times.verify(db, sel, datetime(2020, 11, 5, tzinfo=UTC))


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OUTREACH_DATABASE_URL": db_url, "OUTREACH_AS": "sup_nat"}
    return subprocess.run(
        [sys.executable, "-m", "outreach", *args], capture_output=True, text=True, env=env
    )


def test_cli_times_json_csv_xlsx(db: Database, db_url: str, tmp_path: Path) -> None:
    w = build_world(db)
    _day(db, w)
    done = _cli(db_url, "rollup", "--by", "agent", "--times", "--format", "json", "--verify")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert "paused_lunch_s" in data["columns"]
    bre = next(r for r in data["rows"] if r["agent"] == "agent_bre" and r["day"] == "2020-11-02")
    assert bre["paused_lunch_s"] == 3600
    csv_out = _cli(db_url, "rollup", "--by", "agent", "--times", "--format", "csv")
    assert csv_out.returncode == 0, csv_out.stderr
    assert csv_out.stdout.splitlines()[0].startswith("agent,day,logged_in_s,ready_s")
    xlsx = tmp_path / "times.xlsx"
    made = _cli(
        db_url, "rollup", "--by", "agent", "--times", "--format", "xlsx", "--out", str(xlsx)
    )
    assert made.returncode == 0, made.stderr
    assert xlsx.read_bytes()[:2] == b"PK"
    bad = _cli(db_url, "rollup", "--by", "campaign", "--times")
    assert bad.returncode != 0 and "--by agent" in bad.stderr and "Traceback" not in bad.stderr
    no_out = _cli(db_url, "rollup", "--times", "--format", "xlsx")
    assert no_out.returncode != 0 and "--out" in no_out.stderr


def test_seeded_histories_follow_the_rules(db: Database) -> None:
    """The demo seed: every adviser's states chain (each ends when the next begins), allowed
    changes only, one open state each, the board full at once, the roll-up equal to its recount."""
    from outreach.domain.agent_states import allowed
    from outreach.services.board import BoardFeed
    from outreach.services.seeding import seed_demo

    now = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    seed_demo(db, now=now)
    with db.reading() as s:
        events = s.execute(
            select(
                AgentStateEvent.agent_id,
                AgentStateEvent.at,
                AgentStateEvent.state,
                AgentStateEvent.reason,
                AgentStateEvent.business_id,
                AgentStateEvent.ended_at,
            ).order_by(AgentStateEvent.agent_id, AgentStateEvent.at, AgentStateEvent.id)
        ).all()
    assert len(events) > 10_000
    by_agent: dict[int, list[Any]] = {}
    for e in events:
        by_agent.setdefault(e.agent_id, []).append(e)
    for chain in by_agent.values():
        previous = None
        for e, nxt in zip(chain, [*chain[1:], None], strict=True):
            assert allowed(previous, e.state), (previous, e.state)
            assert e.ended_at == (nxt.at if nxt is not None else None)
            assert (e.reason is not None) == (e.state == "paused")
            assert (e.business_id is not None) == (e.state == "on_call")
            previous = e.state
    assert {e.reason for e in events} >= {"lunch", "meeting", "technical"}
    sup = get_agent(db, "cmaf.superviseur")
    board = BoardFeed(db, sup).refresh(now + timedelta(minutes=5))
    assert board.counts["on_call"] + board.counts["wrap_up"] > 10
    assert board.counts["paused"] > 0
    sel = resolve(db, sup, CallFilter())
    report = agent_times.verify(db, sel, now + timedelta(minutes=5))
    assert sum(r["paused_lunch_s"] for r in report.rows) > 0


def test_the_sweeper_closes_a_crashed_apps_state_by_itself(db: Database) -> None:
    """`outreach serve`'s sweeper (real clock): a state whose lease ran out is stored as closed
    without anyone calling close_expired; a live one is left alone."""
    w = build_world(db)
    a, b = w.agent["agent_bre"], w.agent["agent_idf"]
    now = datetime.now(UTC)
    states.set_state(db, a, "on_call", business_id=w.business["b1"], now=now - timedelta(hours=1))
    states.set_state(db, b, "ready", now=now)  # alive
    sweeper = states.ExpirySweeper(db, every=0.05)
    sweeper.start()
    try:
        wait_until(
            lambda: rows(db, a)[-1][0] == "logged_out",
            lambda: f"the crashed state closed by the sweeper ({rows(db, a)})",
            timeout=30,
        )
    finally:
        sweeper.stop()
        sweeper.join(10)
    expiry = (now - timedelta(hours=1) + states.LEASE).replace(tzinfo=None, microsecond=0)
    got = [(r[0], r[2].replace(microsecond=0), r[3]) for r in rows(db, a)]
    assert got[-1] == ("logged_out", expiry, None) and got[-2][2] is not None
    assert sweeper.closed == 1 and sweeper.last_error is None
    assert [(r[0], r[3]) for r in rows(db, b)] == [("ready", None)]


def test_wrap_up_over_the_campaigns_limit_is_counted(db: Database) -> None:
    """Wrap-ups keep their campaign: the time roll-up counts the seconds past that campaign's
    maximum wrap-up time (c1: the default 120 s; c2: 60 s), also across midnight UTC, and the
    recount agrees."""
    from outreach.db.models import Campaign

    w = build_world(db)
    with db.writing() as s:
        s.execute(
            update(Campaign).where(Campaign.id == w.campaign["c2"]).values(max_wrap_up_seconds=60)
        )
        limits = dict(s.execute(select(Campaign.name, Campaign.max_wrap_up_seconds)).all())
    assert (limits["c1"], limits["c2"]) == (120, 60)
    a, c1, c2 = w.agent["agent_bre"], w.campaign["c1"], w.campaign["c2"]
    b1 = w.business["b1"]
    states.set_state(db, a, "on_call", business_id=b1, campaign_id=c1, now=at(0))
    states.set_state(db, a, "wrap_up", campaign_id=c1, now=at(1))  # 150 s: 30 s over
    states.set_state(db, a, "on_call", business_id=b1, campaign_id=c1, now=at(3.5))
    states.set_state(db, a, "wrap_up", campaign_id=c1, now=at(4))  # 100 s: within
    states.set_state(
        db, a, "on_call", business_id=b1, campaign_id=c2, now=at(5) + timedelta(seconds=40)
    )
    states.set_state(db, a, "wrap_up", campaign_id=c2, now=at(6))  # 90 s on c2: 30 s over
    states.set_state(db, a, "ready", now=at(7.5))
    # across midnight UTC: a c2 wrap-up from 23:59:30 to 00:02:00, over from 00:00:30
    night = datetime(2020, 11, 2, 23, 58, tzinfo=UTC)
    states.set_state(db, a, "on_call", business_id=b1, campaign_id=c2, now=night)
    states.set_state(db, a, "wrap_up", campaign_id=c2, now=night + timedelta(seconds=90))
    states.set_state(db, a, "logged_out", now=night + timedelta(minutes=4))
    with db.reading() as s:
        kept = s.execute(
            select(AgentStateEvent.state, AgentStateEvent.campaign_id)
            .where(AgentStateEvent.agent_id == a)
            .order_by(AgentStateEvent.id)
        ).all()
    assert [tuple(k) for k in kept][:3] == [("on_call", c1), ("wrap_up", c1), ("on_call", c1)]
    assert ("ready", None) in [tuple(k) for k in kept]
    sel = resolve(db, get_agent(db, "sup_nat"), CallFilter())
    report = agent_times.verify(db, sel, datetime(2020, 11, 5, tzinfo=UTC))
    assert "wrap_up_over_s" in report.columns
    by = {r["day"]: r for r in report.rows if r["agent"] == "agent_bre"}
    assert by["2020-11-02"]["wrap_up_s"] == 150 + 100 + 90 + 30
    assert by["2020-11-02"]["wrap_up_over_s"] == 30 + 30
    assert by["2020-11-03"]["wrap_up_s"] == 120
    assert by["2020-11-03"]["wrap_up_over_s"] == 90


def test_campaign_create_takes_a_maximum_wrap_up_time(db: Database, db_url: str) -> None:
    from outreach.db.models import Campaign

    build_world(db)
    done = _cli(db_url, "campaign", "create", "Courte", "--max-wrap-up", "45", "--as", "sup_nat")
    assert done.returncode == 0, done.stderr
    done = _cli(db_url, "campaign", "create", "Par défaut", "--as", "sup_nat")
    assert done.returncode == 0, done.stderr
    bad = _cli(db_url, "campaign", "create", "Folle", "--max-wrap-up", "5", "--as", "sup_nat")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "--max-wrap-up : entre 10 et 3600 secondes" in bad.stderr
    with db.reading() as s:
        got = dict(s.execute(select(Campaign.name, Campaign.max_wrap_up_seconds)).all())
    assert (got["Courte"], got["Par défaut"]) == (45, 120) and "Folle" not in got
