"""Advisers' state histories: the last working days of every adviser, and today so far.

A seeded day: logged in between 07:00 and 08:30 UTC, a few minutes ready, then businesses one
after another (on a call, wrap-up, sometimes ready), a lunch break, sometimes another pause
(meeting, training, paperwork, a technical problem), logged out in the afternoon. Today starts
four hours before the seed's `now` and stops at `now` with every adviser in some state,
so the board has something to show at once: those states are held under a lease of the working
day (the seeded apps count as alive), not the live apps' few minutes.

Rows follow `services.agent_states`' rules: each state ends exactly when the next begins, one
open row per adviser (the last), a reason only on pauses, a business only on calls.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from outreach.services.seeding.tables import BATCH_ROWS, Batch, iso

if TYPE_CHECKING:
    from outreach.services.seeding.rows import SeedRows

OTHER_PAUSES = ("meeting", "training", "admin", "technical")
SEEDED_LEASE = timedelta(hours=8)
TODAY_SPAN = timedelta(hours=4)


def past_days(now: datetime, count: int) -> list[datetime]:
    """The `count` weekdays before `now`'s day (midnight UTC), oldest first."""
    out: list[datetime] = []
    day = datetime.combine(now.date(), time(0))
    while len(out) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            out.append(day)
    return out[::-1]


class _Day:
    """One adviser's states of one day, as (at, state, reason, business)."""

    def __init__(self, rng: random.Random, first_business: int, businesses: int) -> None:
        self.rng = rng
        self.first = first_business
        self.n = businesses
        self.out: list[tuple[datetime, str, str | None, int | None]] = []

    def go(self, at: datetime, state: str, reason: str | None = None) -> None:
        business = self.first + self.rng.randrange(self.n) if state == "on_call" else None
        self.out.append((at, state, reason, business))

    def work(self, at: datetime, until: datetime) -> datetime:
        rng = self.rng
        while at < until:
            self.go(at, "on_call")
            at += timedelta(seconds=rng.randrange(60, 600))
            self.go(at, "wrap_up")
            at += timedelta(seconds=rng.randrange(15, 150))
            if rng.random() < 0.3:
                self.go(at, "ready")
                at += timedelta(seconds=rng.randrange(20, 300))
        return at

    def run(self, start: datetime, end: datetime) -> None:
        """A whole day from `start`, stopping at `end` (the last state left as it is)."""
        rng = self.rng
        at = start
        self.go(at, "ready")
        at += timedelta(seconds=rng.randrange(60, 600))
        lunch = start.replace(hour=10, minute=45) + timedelta(minutes=rng.randrange(60))
        at = self.work(at, min(lunch, end))
        if at < end:
            self.go(at, "paused", "lunch")
            at += timedelta(minutes=rng.randrange(35, 80))  # some go past the hour
        if at < end and rng.random() < 0.35:
            back = at + timedelta(minutes=rng.randrange(30, 90))
            at = self.work(at, min(back, end))
            if at < end:
                self.go(at, "paused", rng.choice(OTHER_PAUSES))
                at += timedelta(minutes=rng.randrange(10, 45))
        leave = start.replace(hour=15, minute=0) + timedelta(minutes=rng.randrange(120))
        at = self.work(at, min(leave, end))
        if at < end:
            self.go(at, "logged_out")
        self.out = [e for e in self.out if e[0] < end]


def state_batches(rows: SeedRows, days: int) -> Iterator[Batch]:
    """`days` past working days and today so far, for every adviser of role agent."""
    rng = random.Random(rows.seed * 7919 + 15)
    now = rows.now
    agents = [rows.agent_ids[a.login] for a in rows.agents if a.role == "agent"]
    first, n = rows.first_business, rows.plan.businesses
    past = past_days(now, days)
    buffer: list[tuple[object, ...]] = []
    for agent_id in agents:
        events: list[tuple[datetime, str, str | None, int | None]] = []
        for day in past:
            d = _Day(rng, first, n)
            start = day + timedelta(hours=7, minutes=rng.randrange(90))
            d.run(start, day + timedelta(days=1))
            events += d.out
        today = _Day(rng, first, n)
        begin = now - TODAY_SPAN + timedelta(minutes=rng.randrange(60))
        # today's shape whatever the hour: the day's clock shifted so that `begin` is 07:xx
        shift = begin - begin.replace(hour=7)
        today.run(begin - shift, now - shift)
        if rng.random() < 0.12:  # gone home early
            cut = now - shift - timedelta(minutes=rng.randrange(1, 30))
            today.out = [e for e in today.out if e[0] < cut]
            if today.out and today.out[-1][1] != "logged_out":
                today.go(cut, "logged_out")
        events += [(at + shift, s, r, b) for at, s, r, b in today.out]
        for i, (at, state, reason, business) in enumerate(events):
            last = i + 1 == len(events)
            ended = None if last else events[i + 1][0]
            if state == "logged_out":
                expires = None
            else:
                expires = now + SEEDED_LEASE if last else ended
            buffer.append(
                (
                    rows._next("agent_state_events"),
                    agent_id,
                    iso(at),
                    state,
                    reason,
                    None,
                    business,
                    iso(ended) if ended else None,
                    iso(expires) if expires else None,
                )
            )
        if len(buffer) >= BATCH_ROWS:
            rows.counts["agent_state_events"] += len(buffer)
            yield Batch("agent_state_events", buffer)
            buffer = []
    if buffer:
        rows.counts["agent_state_events"] += len(buffer)
        yield Batch("agent_state_events", buffer)
