"""Time statistics per adviser and day: `outreach rollup --by agent --times`.

Seconds logged in, ready, on a call, in wrap-up and paused (and paused per reason) come from
`agent_state_events`: a state lasts from its `at` to its end (`agent_states.effective_end`: the
next state, else its lease's expiry, else now), cut at the selection's bounds and at midnight
UTC (the day of `rollup --by day`). Calls, reached calls and referrals come from `calls` and
`referrals` (the adviser's calls whatever the business's chamber). The scope is the advisers'
chamber. `wrap_up_over_s` is the wrap-up time past the campaign's maximum wrap-up time
(`campaigns.max_wrap_up_seconds`, the campaign kept on the wrap-up's row): a wrap-up of 150 s on a
campaign allowing 120 s counts 30 s there (and its 150 s in `wrap_up_s`).

`recount` gets the same figures another way (a plain scan of the events in order, each state
ending at the next one's `at`; calls counted one by one) and `verify` compares the two.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import (
    Agent,
    AgentStateEvent,
    Call,
    Campaign,
    PauseReasonRow,
    Referral,
)
from outreach.domain.agent_states import LOGGED_OUT, WORKING, WRAP_UP
from outreach.services.agent_states import effective_end
from outreach.services.clock import to_db, utcnow
from outreach.services.selection import PARIS, Selection

if TYPE_CHECKING:
    from outreach.services.rollup import RollupMismatch

TIME_MEASURES = ("logged_in_s", "ready_s", "on_call_s", "wrap_up_s", "wrap_up_over_s", "paused_s")
COUNT_MEASURES = ("calls", "reached", "referrals")


@dataclass(frozen=True, slots=True)
class TimesReport:
    columns: tuple[str, ...]  # agent, day, the measures, one paused_<reason>_s per reason
    rows: tuple[dict[str, Any], ...]

    def as_json(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "rows": [dict(r) for r in self.rows]}


def _reasons(s: Session) -> list[str]:
    return list(s.scalars(select(PauseReasonRow.code).order_by(PauseReasonRow.key)))


def _wrap_up_limits(s: Session) -> dict[int, timedelta]:
    """campaign id -> its maximum wrap-up time."""
    return {
        cid: timedelta(seconds=limit)
        for cid, limit in s.execute(select(Campaign.id, Campaign.max_wrap_up_seconds))
    }


def _logins(s: Session, accs: dict[tuple[int, date], _Acc]) -> dict[int, str]:
    """The logins of the advisers with a row (not every adviser of the network)."""
    ids = sorted({agent_id for agent_id, _day in accs})
    rows = s.execute(select(Agent.id, Agent.login).where(Agent.id.in_(ids)))
    return {agent_id: login for agent_id, login in rows}


def _over_from(
    state: str, start: datetime, campaign_id: int | None, limits: dict[int, timedelta]
) -> datetime | None:
    """When a wrap-up passes its campaign's limit (None: not a wrap-up, or no campaign)."""
    if state != WRAP_UP or campaign_id is None or campaign_id not in limits:
        return None
    return start + limits[campaign_id]


def columns(reasons: list[str]) -> tuple[str, ...]:
    return (
        "agent",
        "day",
        *TIME_MEASURES,
        *(f"paused_{r}_s" for r in reasons),
        *COUNT_MEASURES,
        "calls_per_hour",
    )


class _Acc:
    def __init__(self) -> None:
        self.times: dict[str, timedelta] = defaultdict(timedelta)
        self.counts: dict[str, int] = defaultdict(int)


def _add(
    accs: dict[tuple[int, date], _Acc],
    agent_id: int,
    state: str,
    reason: str | None,
    start: datetime,
    end: datetime,
    sel: Selection,
    over_from: datetime | None = None,
) -> None:
    """Add one state's time, cut at the selection's bounds and split at each UTC midnight (the
    part after `over_from` also as wrap-up over its limit)."""
    if state == LOGGED_OUT:
        return
    if sel.since is not None:
        start = max(start, sel.since)
    if sel.until is not None:
        end = min(end, sel.until)
    while start < end:
        midnight = datetime.combine(start.date() + timedelta(days=1), time(0))
        piece_end = min(end, midnight)
        piece = piece_end - start
        acc = accs.setdefault((agent_id, start.date()), _Acc())
        acc.times["logged_in_s"] += piece
        acc.times[f"{state}_s"] += piece
        if reason is not None:
            acc.times[f"paused_{reason}_s"] += piece
        if over_from is not None and over_from < piece_end:
            acc.times["wrap_up_over_s"] += piece_end - max(start, over_from)
        start = piece_end


def _rows(
    accs: dict[tuple[int, date], _Acc], reasons: list[str], logins: dict[int, str]
) -> tuple[tuple[str, ...], tuple[dict[str, Any], ...]]:
    cols = columns(reasons)
    out: list[dict[str, Any]] = []
    for (agent_id, day), acc in accs.items():
        row: dict[str, Any] = {"agent": logins.get(agent_id, str(agent_id)), "day": day.isoformat()}
        for c in cols[2:]:
            if c.endswith("_s"):
                row[c] = round(acc.times[c].total_seconds())
        for c in COUNT_MEASURES:
            row[c] = acc.counts[c]
        hours = acc.times["logged_in_s"].total_seconds() / 3600
        row["calls_per_hour"] = round(row["calls"] / hours, 1) if hours else 0.0
        out.append(row)
    out.sort(key=lambda r: (r["agent"], r["day"]))
    return cols, tuple(out)


def _agent_scope(sel: Selection) -> list[Any]:
    return [] if sel.chamber_id is None else [Agent.chamber_id == sel.chamber_id]


def _call_bounds(sel: Selection) -> list[Any]:
    out: list[Any] = []
    if sel.since is not None:
        out.append(Call.started_at >= sel.since)
    if sel.until is not None:
        out.append(Call.started_at < sel.until)
    return out


def agent_times(
    db: Database, sel: Selection, now: datetime | None = None, agent_id: int | None = None
) -> TimesReport:
    """Per adviser and UTC day: seconds per state (and per pause reason), calls, reached calls,
    referrals and calls per logged-in hour (of one adviser with `agent_id`)."""
    at = to_db(now) if now is not None else utcnow()
    accs: dict[tuple[int, date], _Acc] = {}
    one = [] if agent_id is None else [Agent.id == agent_id]
    where = [
        *_agent_scope(sel),
        *one,
        AgentStateEvent.state.in_(WORKING),
        AgentStateEvent.at < at,
    ]
    if sel.until is not None:
        where.append(AgentStateEvent.at < sel.until)
    if sel.since is not None:
        # a state that started before the window counts from the window's start
        where.append((AgentStateEvent.ended_at.is_(None)) | (AgentStateEvent.ended_at > sel.since))
    day = func.date(Call.started_at)  # the UTC day, as `rollup --by day`
    # each call's referrals counted through their call_id index: a grouped subquery of every
    # referral would be computed whole (all the network's, for one adviser's day at login)
    refs = select(func.count(Referral.id)).where(Referral.call_id == Call.id).scalar_subquery()
    with db.reading() as s:  # one transaction: the figures of one moment
        reasons = _reasons(s)
        events = s.execute(
            select(
                AgentStateEvent.agent_id,
                AgentStateEvent.state,
                AgentStateEvent.reason,
                AgentStateEvent.at,
                AgentStateEvent.ended_at,
                AgentStateEvent.expires_at,
                AgentStateEvent.campaign_id,
            )
            .join(Agent, Agent.id == AgentStateEvent.agent_id)
            .where(*where)
        ).all()
        calls = s.execute(
            select(
                Call.agent_id,
                day,
                func.count(Call.id),
                func.coalesce(func.sum(case((Call.reached, 1), else_=0)), 0),
                func.coalesce(func.sum(refs), 0),
            )
            .join(Agent, Agent.id == Call.agent_id)
            .where(*_agent_scope(sel), *one, *_call_bounds(sel))
            .group_by(Call.agent_id, day)
        ).all()
        limits = _wrap_up_limits(s)
        for who, state, reason, start, ended, expires, campaign_id in events:
            end = min(effective_end(ended, expires, at), at)
            over = _over_from(state, start, campaign_id, limits)
            _add(accs, who, state, reason, start, end, sel, over)
        for who, d, n, reached, n_refs in calls:
            the_day = d if isinstance(d, date) else date.fromisoformat(str(d)[:10])
            acc = accs.setdefault((who, the_day), _Acc())
            acc.counts.update(calls=int(n), reached=int(reached), referrals=int(n_refs))
        logins = _logins(s, accs)
    cols, rows = _rows(accs, reasons, logins)
    return TimesReport(cols, rows)


@dataclass(frozen=True, slots=True)
class MyDay:
    """An adviser's own day so far (Paris day), for the app's header."""

    calls: int
    reached: int
    referrals: int
    logged_in_s: int
    on_call_s: int
    wrap_up_s: int
    paused_s: int


def my_day(db: Database, agent_id: int, now: datetime | None = None) -> MyDay:
    """The adviser's calls, reached calls, referrals and seconds logged in, on a call, in
    wrap-up and paused since midnight in Paris: the same counting as `agent_times`."""
    at = to_db(now) if now is not None else utcnow()
    midnight = datetime.combine(
        at.replace(tzinfo=UTC).astimezone(PARIS).date(), time(0), tzinfo=PARIS
    )
    sel = Selection(None, None, to_db(midnight), at, {})
    rows = agent_times(db, sel, at, agent_id=agent_id).rows

    def total(key: str) -> int:
        return sum(int(r[key]) for r in rows)

    return MyDay(
        *(total(k) for k in ("calls", "reached", "referrals")),
        *(total(k) for k in ("logged_in_s", "on_call_s", "wrap_up_s", "paused_s")),
    )


def recount(db: Database, sel: Selection, now: datetime | None = None) -> TimesReport:
    """The same figures from a plain scan: events in order per adviser, each ending at the next
    one's start (the last at its lease's expiry, else now); calls and referrals one by one."""
    at = to_db(now) if now is not None else utcnow()
    accs: dict[tuple[int, date], _Acc] = {}
    with db.reading() as s:
        reasons = _reasons(s)
        limits = {
            cid: timedelta(seconds=n)
            for cid, n in s.execute(select(Campaign.id, Campaign.max_wrap_up_seconds))
        }
        in_scope = set(s.scalars(select(Agent.id).where(*_agent_scope(sel))))
        events = s.execute(
            select(
                AgentStateEvent.agent_id,
                AgentStateEvent.at,
                AgentStateEvent.state,
                AgentStateEvent.reason,
                AgentStateEvent.expires_at,
                AgentStateEvent.campaign_id,
            ).order_by(AgentStateEvent.agent_id, AgentStateEvent.at, AgentStateEvent.id)
        ).all()
        ref_counts: dict[int, int] = defaultdict(int)
        for (call_id,) in s.execute(select(Referral.call_id)):
            ref_counts[call_id] += 1
        call_rows = s.execute(select(Call.id, Call.agent_id, Call.started_at, Call.reached)).all()
    for i, (agent_id, start, state, reason, expires, campaign_id) in enumerate(events):
        if agent_id not in in_scope or start >= at:
            continue
        nxt = events[i + 1] if i + 1 < len(events) else None
        if nxt is not None and nxt[0] == agent_id and nxt[1] <= at:
            end = nxt[1]
        elif expires is not None and expires < at:
            end = expires
        else:
            end = at
        limit = None
        if state == "wrap_up" and campaign_id is not None:
            limit = limits.get(campaign_id)
        _add(accs, agent_id, state, reason, start, end, sel, start + limit if limit else None)
    for call_id, agent_id, started, reached in call_rows:
        if agent_id not in in_scope:
            continue
        if sel.since is not None and started < sel.since:
            continue
        if sel.until is not None and started >= sel.until:
            continue
        acc = accs.setdefault((agent_id, started.date()), _Acc())
        acc.counts["calls"] += 1
        acc.counts["reached"] += int(bool(reached))
        acc.counts["referrals"] += ref_counts.get(call_id, 0)
    with db.reading() as s:
        logins = _logins(s, accs)
    cols, rows = _rows(accs, reasons, logins)
    return TimesReport(cols, rows)


def differences(a: TimesReport, b: TimesReport) -> list[str]:
    """Lines naming each adviser, day and measure where the two reports differ."""
    ia = {(r["agent"], r["day"]): r for r in a.rows}
    ib = {(r["agent"], r["day"]): r for r in b.rows}
    out: list[str] = []
    for key in sorted(set(ia) | set(ib)):
        ra, rb = ia.get(key), ib.get(key)
        if ra is None or rb is None:
            out.append(f"{key[0]}/{key[1]}: {'absent' if ra is None else 'en trop'}")
            continue
        out += [
            f"{key[0]}/{key[1]} {c}: {ra[c]} != {rb[c]}" for c in a.columns[2:] if ra[c] != rb[c]
        ]
    return out


def verify(db: Database, sel: Selection, now: datetime | None = None) -> TimesReport:
    """The report, checked against the recount; RollupMismatch listing every difference."""
    moment = to_db(now) if now is not None else utcnow()
    from outreach.services.rollup import raise_on

    report = agent_times(db, sel, moment)
    raise_on(differences(report, recount(db, sel, moment)))
    return report


def __getattr__(name: str) -> Any:
    """`RollupMismatch` (what `verify` raises) from the roll-up module, loaded on first use: the
    app reads `my_day` from here at login, and the roll-ups are the supervisors'."""
    if name == "RollupMismatch":
        from outreach.services.rollup import RollupMismatch

        return RollupMismatch
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RollupMismatch", "TimesReport", "agent_times", "columns", "recount", "verify"]
