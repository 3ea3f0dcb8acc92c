"""The adviser's states written from the real app (Pilot, fixed clock): on call, wrap-up, ready,
logged out; the service decides, the app only says what the adviser does."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from textual.content import Content
from textual.widgets import Static

from outreach.db.engine import Database
from outreach.db.models import AgentStateEvent
from outreach.tui.screens.call import CallScreen
from outreach.tui.widgets.day_bar import DayBar
from tests.tui.conftest import World, app_for, settle
from tests.waiting import wait_for


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
        await pilot.press("escape", "escape")  # out of the answer, back to the campaigns: ready
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


class Clock:
    """A clock the test moves."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


async def test_pause_by_key_and_resume(world: World, fixed_clock: datetime) -> None:
    from outreach.tui.screens.call import CallScreen
    from outreach.tui.screens.pause import PauseModal

    clock = Clock(fixed_clock)
    app = app_for(world.db, agent_login="claire", clock=clock)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen) and screen.current is not None
        await pilot.press("escape", "p")  # out of the answer first
        await settle(pilot)
        assert isinstance(app.screen, PauseModal)
        await pilot.press("6")  # other: a note is required first
        await settle(pilot)
        assert isinstance(app.screen, PauseModal)
        await pilot.press(*"dentiste", "enter")
        await settle(pilot)
        assert app.screen is screen and screen.current is None
        assert "En pause : Autre" in str(screen.query_one("#banner").render())
        # no f5 while paused: the queue is not asked (p or an outcome key resumes)
        assert "retry" not in {b.action for _n, b, _e, _t in screen.active_bindings.values()}
        clock.now += timedelta(minutes=12, seconds=5)
        screen.query_one("#day-bar").tick()
        await pilot.pause()
        assert "En pause (Autre) 12:05" in str(screen.query_one("#day-timer").render())
        screen._retry_if_idle()  # the empty-queue timer claims nothing while paused
        await settle(pilot)
        assert screen.current is None
        await pilot.press("p")  # p again: resume, the next business
        await settle(pilot)
        assert screen.current is not None
        await pilot.press("escape", "p", "1")  # out of the new business's answer; lunch
        await settle(pilot)
        await pilot.press("3")  # an outcome key resumes too
        await settle(pilot)
        assert screen.current is not None
    with world.db.reading() as s:
        rows = s.execute(
            select(AgentStateEvent.state, AgentStateEvent.reason, AgentStateEvent.note)
            .where(AgentStateEvent.agent_id == world.agent_id)
            .order_by(AgentStateEvent.id)
        ).all()
    got = [tuple(r) for r in rows]
    assert ("paused", "other", "dentiste") in got
    assert got[-3:] == [("paused", "lunch", None), ("ready", None, None), ("on_call", None, None)]


async def test_call_timer_moves(world: World, fixed_clock: datetime) -> None:
    clock = Clock(fixed_clock)
    app = app_for(world.db, agent_login="claire", clock=clock)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        bar = app.screen.query_one("#day-bar", DayBar)
        assert "En appel 0:00" in str(bar.query_one("#day-timer").render())
        clock.now += timedelta(minutes=2, seconds=13)
        bar.tick()
        await pilot.pause()
        assert "En appel 2:13" in str(bar.query_one("#day-timer").render())
        await pilot.press("2")
        await settle(pilot)
        bar.tick()
        await pilot.pause()
        assert "dernière clôture 0:00" in str(bar.query_one("#day-timer").render())


async def test_a_wrap_up_shows_once_it_lasts(world: World, fixed_clock: datetime) -> None:
    """An outcome saved at once is a wrap-up of milliseconds: the timer line goes from the
    call to the next one without drawing it. A wrap-up that lasts (the callback's time being
    picked) shows once it has lasted `wrap_up_shown_after`."""
    app = app_for(
        world.db, agent_login="claire", clock=lambda: fixed_clock, wrap_up_shown_after=3600.0
    )
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        bar = app.screen.query_one("#day-bar", DayBar)
        timer = bar.query_one("#day-timer", Static)
        await pilot.press("2")  # no answer: saved at once, the next business
        await settle(pilot)
        assert str(timer.render()).startswith("En appel 0:00")
        await pilot.press("6")  # callback: wrap-up while the time is picked
        await settle(pilot)
        assert app.day.current is not None and app.day.current.state == "wrap_up"
        assert str(timer.render()).startswith("En appel")  # not yet: an hour to go
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+q")

    app = app_for(world.db, agent_login="claire", clock=lambda: fixed_clock)  # 0.2 s
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        timer = app.screen.query_one("#day-timer", Static)
        await pilot.press("6")
        await wait_for(pilot, lambda: str(timer.render()).startswith("Clôture 0:00"), "the wrap-up")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("ctrl+q")


def callback_in_20_minutes(world: World, now: datetime) -> None:
    """Claire's personal callback on the 4th business, due 20 minutes after `now`."""
    from sqlalchemy import update

    from outreach.db.models import CallTask

    with world.db.writing() as s:
        s.execute(
            update(CallTask)
            .where(CallTask.id == world.task_ids[3])
            .values(
                state="callback",
                callback_agent_id=world.agent_id,
                next_attempt_at=(now + timedelta(minutes=20)).replace(tzinfo=None),
                callback_team_at=(now + timedelta(minutes=50)).replace(tzinfo=None),
            )
        )


@pytest.mark.parametrize("bell", [False, True], ids=["quiet", "bell"])
async def test_callback_alert_when_due(world: World, fixed_clock: datetime, bell: bool) -> None:
    """The banner always; the terminal bell (App.bell) once, only with `--bell`."""
    clock = Clock(fixed_clock)
    callback_in_20_minutes(world, fixed_clock)
    app = app_for(
        world.db,
        agent_login="claire",
        clock=clock,
        callback_check_seconds=0.2,
        callback_bell=bell,
    )
    rung: list[datetime] = []
    app.bell = lambda: rung.append(clock.now)  # type: ignore[method-assign]  # counted, not rung
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen)
        alert = screen.query_one("#day-alert")
        day_bar = screen.query_one(DayBar)

        async def look() -> None:
            """One more look for due callbacks, as the bar's timer does, seen to its end."""
            day_bar.check()
            await settle(pilot)

        await look()  # the look at mount has ended too (settle)
        assert not alert.display and rung == []  # not due yet: no banner, no bell
        clock.now += timedelta(minutes=21)
        # the bar's own timer (every 0.2 s here) sees it due
        await wait_for(pilot, lambda: alert.display, "the callback alert shown")
        assert "Rappel dû : Fleurs de Bourbon" in str(alert.render())
        await look()
        await look()  # looked at again: still one bell for the same callback
        assert rung == ([fixed_clock + timedelta(minutes=21)] if bell else [])
        await pilot.press("escape", "a")  # out of the answer, one key: the callback on screen
        await settle(pilot)
        assert screen.current is not None and screen.current.task_id == world.task_ids[3]
        await look()  # still due, but on screen: no banner for it
        assert not alert.display


async def test_the_app_closes_crashed_states_at_login_and_then_every_so_often(
    world: World, fixed_clock: datetime
) -> None:
    """Another adviser's app crashed (lease run out): the app stores that state as closed at its
    first write once a sweep period has passed since login (none here), and again later from its
    heartbeat, without anyone calling close_expired."""
    from outreach.services import agent_states
    from tests.factories import make_agent

    marc = make_agent(world.db, "marc", chamber="IDF")
    lea = make_agent(world.db, "lea", chamber="IDF")
    agent_states.set_state(world.db, marc, "ready", now=fixed_clock - timedelta(hours=1))
    clock = Clock(fixed_clock)
    app = app_for(world.db, agent_login="claire", clock=clock, sweep_seconds=0.0)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        assert states(world.db, marc) == [("ready", None), ("logged_out", None)]
        # lea's app starts now and crashes: her state runs out while claire works on
        agent_states.set_state(world.db, lea, "ready", now=clock.now)
        clock.now += agent_states.LEASE + timedelta(minutes=1)
        assert states(world.db, lea) == [("ready", None)]
        app._beat()  # the heartbeat's timer
        await settle(pilot)
        assert states(world.db, lea) == [("ready", None), ("logged_out", None)]
        await pilot.press("ctrl+q")


async def test_wrap_up_timer_turns_red_past_the_campaigns_limit(
    world: World, fixed_clock: datetime
) -> None:
    """The campaign allows 60 s of wrap-up: the timer reads in red with the limit once past it
    (clock injected), and so does the last wrap-up's length; the state rows keep the campaign."""
    from sqlalchemy import update

    from outreach.db.models import Campaign

    with world.db.writing() as s:
        s.execute(
            update(Campaign).where(Campaign.id == world.campaign_id).values(max_wrap_up_seconds=60)
        )
    clock = Clock(fixed_clock)
    app = app_for(world.db, agent_login="claire", clock=clock)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        call = app.screen
        bar = call.query_one("#day-bar", DayBar)
        timer = bar.query_one("#day-timer", Static)

        def spans() -> list[tuple[str, str]]:
            text = timer.render()
            assert isinstance(text, Content)
            plain = str(text)
            return [(plain[s.start : s.end], str(s.style)) for s in text.spans]

        await pilot.press("6")  # callback: wrap-up while the time is picked
        await settle(pilot)
        clock.now += timedelta(seconds=59)
        bar.tick()
        await pilot.pause()
        assert ("Clôture 0:59", "bold") in spans()
        clock.now += timedelta(seconds=2)
        bar.tick()
        await pilot.pause()
        assert ("Clôture 1:01 (max 1:00)", "ansi_red bold") in spans()
        await pilot.press("escape")  # no callback after all: back on the call
        await settle(pilot)
        bar.tick()
        await pilot.pause()
        assert ("dernière clôture 1:01", "ansi_red bold") in spans()
        assert "(max" not in str(timer.render())
        await pilot.press("ctrl+q")
    with world.db.reading() as s:
        rows = s.execute(
            select(AgentStateEvent.state, AgentStateEvent.campaign_id)
            .where(AgentStateEvent.agent_id == world.agent_id)
            .order_by(AgentStateEvent.id)
        ).all()
    assert ("wrap_up", world.campaign_id) in [tuple(r) for r in rows]
    assert ("on_call", world.campaign_id) in [tuple(r) for r in rows]


async def test_the_first_sweep_waits_a_sweep_period_after_login(
    world: World, fixed_clock: datetime
) -> None:
    """At login the app draws its first business: the sweep of run-out states (a write lock and
    a scan of every open state) waits one period, so a crashed adviser's state is still open
    right after login with an hour's period, and closed by the first write once it has passed."""
    from outreach.services import agent_states
    from tests.factories import make_agent

    marc = make_agent(world.db, "marc", chamber="IDF")
    agent_states.set_state(world.db, marc, "ready", now=fixed_clock - timedelta(hours=1))
    app = app_for(world.db, agent_login="claire", clock=Clock(fixed_clock), sweep_seconds=3600.0)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot)
        assert states(world.db, marc) == [("ready", None)]
        app.day._swept_at -= 3600.0  # the period has passed (its monotonic mark moved back)
        app._beat()
        await settle(pilot)
        assert states(world.db, marc) == [("ready", None), ("logged_out", None)]
        await pilot.press("ctrl+q")
