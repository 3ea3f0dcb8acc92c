"""A lockdown replayed at speed (`outreach simulate`): N campaign days on a simulated clock.

Simulated agents of one chamber work a campaign's queue through the project's own services
(`claim_next`, `record_call`), with `now` taken from a simulated clock instead of the wall
clock: each working day (Monday to Friday) they work 8 hours inside the usual calling hours,
10:00-13:00 and 14:00-19:00 Paris time, one call every `call_minutes`. Outcomes are drawn from
the distribution of the calls already in the database (the seeded history), so retries come due,
callbacks are asked for and businesses reach the 30-day cap as in a real campaign; by day 15
the queue has the shape of week three. Each claim is timed (wall clock); the summary gives claim
p50/p99 per day, the first day's against the last day's, and the tasks waiting each evening.

It writes calls dated in the future of the simulated clock: run it on a copy or a test database.
"""

from __future__ import annotations

import random
import time
import uuid as uuidlib
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from outreach.db.engine import Database
from outreach.db.models import Call, CallTask, Campaign, Chamber
from outreach.domain.outcomes import OUTCOMES_BY_CODE
from outreach.errors import InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.clock import utcnow
from outreach.services.loadtest import OUTCOME_WEIGHTS, _ensure_agents, preparing
from outreach.services.queue import claim_next, record_call
from outreach.services.queue.context import OPEN_STATES
from outreach.services.types import CallInput

AGENT_PREFIX = "simu-"
PARIS = ZoneInfo("Europe/Paris")
SHIFTS = ((10, 13), (14, 19))  # the agents' hours, Paris time: 8 hours a day
TALK_SHARE = 0.75  # of a call's slot, talking; the rest is the wrap-up before the next claim


@dataclass(frozen=True, slots=True)
class Day:
    """One simulated working day."""

    day: int
    date: str
    claims: int
    calls: int
    empty_claims: int
    claim_p50_ms: float
    claim_p99_ms: float
    waiting_at_end: int
    queued_at_end: int


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1), nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def working_days(start: date, count: int) -> list[date]:
    """The first `count` weekdays from `start` on (Saturdays and Sundays skipped)."""
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.isoweekday() <= 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def slots(day: date, call_minutes: float) -> list[datetime]:
    """The start of each call slot of an agent's day (aware UTC)."""
    out = []
    step = timedelta(minutes=call_minutes)
    for first, last in SHIFTS:
        at = datetime(day.year, day.month, day.day, first, tzinfo=PARIS)
        end = datetime(day.year, day.month, day.day, last, tzinfo=PARIS)
        while at + step <= end:
            out.append(at.astimezone(UTC))
            at += step
    return out


def outcome_weights(db: Database) -> dict[str, int]:
    """The outcomes of the calls already stored (the seeded history), else the load test's mix."""
    with db.reading() as s:
        rows = s.execute(select(Call.outcome, func.count()).group_by(Call.outcome)).all()
    found = {code: int(n) for code, n in rows if code in OUTCOMES_BY_CODE}
    return found or dict(OUTCOME_WEIGHTS)


def _campaign(db: Database, name: str | None, chamber_id: int) -> tuple[int, str]:
    with db.reading() as s:
        if name:
            row = s.execute(select(Campaign.id, Campaign.name).where(Campaign.name == name)).first()
            if row is None:
                raise NotFound(_("campagne inconnue : « {name} »").format(name=name))
            return int(row.id), row.name
        # the active campaign with the most open work in the chamber
        row = s.execute(
            select(Campaign.id, Campaign.name)
            .join(CallTask, CallTask.campaign_id == Campaign.id)
            .where(
                Campaign.status == "active",
                CallTask.chamber_id == chamber_id,
                CallTask.state.in_(OPEN_STATES),
            )
            .group_by(Campaign.id, Campaign.name)
            .order_by(func.count().desc())
            .limit(1)
        ).first()
    if row is None:
        raise NotFound(_("aucune campagne active avec des entreprises à appeler dans la chambre"))
    return int(row.id), row.name


def _queue_shape(db: Database, campaign_id: int, chamber_id: int) -> tuple[int, int]:
    with db.reading() as s:
        counts = dict(
            s.execute(
                select(CallTask.state, func.count())
                .where(
                    CallTask.campaign_id == campaign_id,
                    CallTask.chamber_id == chamber_id,
                    CallTask.state.in_(("queued", "waiting")),
                )
                .group_by(CallTask.state)
            ).all()
        )
    return int(counts.get("waiting", 0)), int(counts.get("queued", 0))


def simulate(
    db: Database,
    days: int,
    agents: int,
    *,
    chamber: str = "IDF",
    campaign: str | None = None,
    call_minutes: float = 4.0,
    start: date | None = None,
    seed: int = 2020,
    progress: Any = None,
) -> dict[str, Any]:
    """Replay `days` working days of `agents` agents of `chamber` on `campaign` (default: the
    active campaign with the most open work there); the JSON-ready summary (module docstring)."""
    if days < 1 or agents < 1:
        raise InvalidInput(_("il faut au moins un jour et un agent"))
    if not 1 <= call_minutes <= 60:
        raise InvalidInput(_("--call-minutes : entre 1 et 60"))
    with db.reading() as s:
        chamber_id = s.execute(select(Chamber.id).where(Chamber.code == chamber)).scalar()
    if chamber_id is None:
        raise NotFound(_("chambre inconnue : « {code} »").format(code=chamber))
    with preparing():
        campaign_id, campaign_name = _campaign(db, campaign, int(chamber_id))
        agent_ids = _ensure_agents(db, agents, chamber, prefix=AGENT_PREFIX)
        weights = outcome_weights(db)
    rng = random.Random(seed)
    codes, cum = list(weights), list(weights.values())
    first = start or (utcnow().date() + timedelta(days=1))
    calendar = working_days(first, days)
    out: list[Day] = []
    began = time.monotonic()
    for number, day in enumerate(calendar, start=1):
        times: list[float] = []
        calls = empties = 0
        step = timedelta(minutes=call_minutes)
        for slot in slots(day, call_minutes):
            for k, agent in enumerate(agent_ids):
                # agents start their calls spread over the slot, not all at the same second
                at = slot + step * (k / len(agent_ids))
                t0 = time.perf_counter()
                task = claim_next(db, agent, campaign_id, now=at)
                times.append((time.perf_counter() - t0) * 1000)
                if task is None:
                    empties += 1
                    continue
                code = rng.choices(codes, cum)[0]
                ended = at + step * TALK_SHARE
                record_call(
                    db,
                    CallInput(
                        uuid=str(uuidlib.UUID(int=rng.getrandbits(128), version=4)),
                        agent_id=agent,
                        campaign_id=campaign_id,
                        business_id=task.business.id,
                        task_id=task.task_id,
                        outcome=code,
                        started_at=at,
                        ended_at=ended,
                        callback_at=ended + timedelta(days=1)
                        if OUTCOMES_BY_CODE[code].needs_callback_time
                        else None,
                        callback_personal=rng.random() < 0.5,
                    ),
                    now=ended,
                )
                calls += 1
        waiting, queued = _queue_shape(db, campaign_id, int(chamber_id))
        figures = Day(
            number,
            day.isoformat(),
            len(times),
            calls,
            empties,
            round(pct(times, 0.5), 3),
            round(pct(times, 0.99), 3),
            waiting,
            queued,
        )
        out.append(figures)
        if progress is not None:
            progress(figures)
    first_day, last_day = out[0], out[-1]
    return {
        "backend": db.url.get_backend_name(),
        "campaign": campaign_name,
        "chamber": chamber,
        "agents": agents,
        "days": days,
        "call_minutes": call_minutes,
        "outcome_mix": weights,
        "calls": sum(d.calls for d in out),
        "seconds": round(time.monotonic() - began, 1),
        "first_day": asdict(first_day),
        "last_day": asdict(last_day),
        "p50_ratio_last_to_first": round(last_day.claim_p50_ms / first_day.claim_p50_ms, 2)
        if first_day.claim_p50_ms
        else None,
        "by_day": [asdict(d) for d in out],
    }
