"""Live totals for a supervisor's dashboard, refreshed every few seconds.

A `DashboardFeed` loads the full roll-up once (per lockdown and per campaign, through
`rollup.rollup`, so the figures are the roll-up's and match `rollup --verify`), then each refresh
reads only the calls recorded since: new rows by primary key, the history of just their businesses
(ix_calls_business_started) to keep the distinct counts exact, their referrals (ix_referrals_call_id)
and today's calls (ix_calls_started). A refresh therefore costs the same with 2 million calls as
with 2,000.

Calls are picked up by id. On PostgreSQL a transaction holding a lower id may commit after a
higher id was read, so each refresh re-reads a window of the last `LATE_WINDOW` ids and counts
any call it had not counted yet (SQLite has one writer: ids commit in order there).
"""

from __future__ import annotations

import time
from bisect import bisect_left, insort
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import func, select

from outreach.db.engine import Database
from outreach.db.models import Agent, AuditLog, Call, Campaign, Lockdown, Referral
from outreach.domain.referrals import REFERRAL_KINDS
from outreach.services import rollup as rollups
from outreach.services.access import scope_of
from outreach.services.board import Board, BoardFeed
from outreach.services.clock import from_db, to_db, utcnow
from outreach.services.goals import GoalProgress, goals_in_scope
from outreach.services.selection import PARIS, CallFilter, Selection, resolve
from outreach.services.types import AgentInfo

LATE_WINDOW = 5_000
GOALS_EVERY = 30.0  # seconds
GROUP_MEASURES = ("contacts", "businesses_contacted", "businesses_reached", "referrals")


@dataclass(frozen=True, slots=True)
class DashGroup:
    key: str | None  # lockdown or campaign name; None: calls outside any lockdown
    contacts: int
    businesses_contacted: int
    businesses_reached: int
    referrals: int


@dataclass(frozen=True, slots=True)
class AgentToday:
    login: str
    name: str
    contacts: int
    reached: int
    referrals: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    as_of: datetime  # aware UTC
    scope: str | None  # chamber code, None: the whole network
    total: DashGroup
    lockdowns: tuple[DashGroup, ...]
    campaigns: tuple[DashGroup, ...]
    agents_today: tuple[AgentToday, ...]
    referrals_by_kind: tuple[tuple[str, int], ...]  # (kind code, count), catalogue order
    diagnostics: int  # digital diagnostics done (the lifecycle's done state)
    diagnostics_target: int  # the scope's own diagnostics goal (0: none set)
    calls_today: int
    calls_per_hour: tuple[int, ...]  # 24 values, hours of today in Paris time
    refresh_ms: float
    full_load: bool  # this refresh loaded everything (the first one)
    board: Board | None = None  # the live agent board (services/board.py)
    goals: tuple[GoalProgress, ...] = ()  # the goals of the viewer's scope, with the pace


class _Acc:
    """One group's counters (the distinct ones kept exact by the feed)."""

    __slots__ = GROUP_MEASURES

    def __init__(self, row: dict[str, Any] | None = None) -> None:
        get = (lambda m: int(row[m])) if row else (lambda m: 0)
        self.contacts: int = get("contacts")
        self.businesses_contacted: int = get("businesses_contacted")
        self.businesses_reached: int = get("businesses_reached")
        self.referrals: int = get("referrals")

    def frozen(self, key: str | None) -> DashGroup:
        return DashGroup(
            key,
            self.contacts,
            self.businesses_contacted,
            self.businesses_reached,
            self.referrals,
        )


class DashboardFeed:
    """The dashboard of one supervisor: the first `refresh` loads all, later ones add the new."""

    def __init__(self, db: Database, supervisor: AgentInfo) -> None:
        self.db = db
        self.supervisor = supervisor
        self.scope = scope_of(supervisor)
        self.sel: Selection = resolve(db, supervisor, CallFilter())
        self.loaded = False
        self.window = LATE_WINDOW
        self.watermark = 0
        self.audit_mark = 0  # the last audit row looked at for undone calls
        self.today: Any = None  # the Paris day the "today" counters are for
        self.per_hour = [0] * 24
        self.agents_today: dict[int, list[int]] = {}
        self.recent: set[int] = set()  # ids seen above watermark - window
        self.total = _Acc()
        self.lockdowns: dict[str | None, _Acc] = {}
        self.campaigns: dict[str | None, _Acc] = {}
        self.kinds: dict[str, int] = {}
        self.board = BoardFeed(db, supervisor)
        self.goal_list: tuple[GoalProgress, ...] = ()
        self.goals_read_at: float | None = None
        # the people of today in their order (most contacts first), kept sorted: only the
        # advisers whose counts changed since the last refresh are placed again
        self.people_order: list[tuple[Any, ...]] = []
        self.people_keys: dict[int, tuple[Any, ...]] = {}
        self.people_dirty: set[int] = set()
        self.people_out: tuple[AgentToday, ...] | None = None
        self._names()

    def _names(self) -> None:
        with self.db.reading() as s:
            lockdowns = dict(s.execute(select(Lockdown.id, Lockdown.name)).all())
            self.lockdown_order = [
                n for (n,) in s.execute(select(Lockdown.name).order_by(Lockdown.starts_on))
            ]
            self.campaign_of: dict[int, tuple[str, str | None]] = {
                cid: (name, lockdowns.get(lid) if lid else None)
                for cid, name, lid in s.execute(
                    select(Campaign.id, Campaign.name, Campaign.lockdown_id)
                )
            }
            self.agents = {
                aid: (login, name)
                for aid, login, name in s.execute(select(Agent.id, Agent.login, Agent.name))
            }
        self.people_order, self.people_keys, self.people_out = [], {}, None  # names may change
        self.people_dirty = set(getattr(self, "agents_today", {}))

    # -- loading ---------------------------------------------------------------------------------

    def _undone_since(self) -> bool:
        """Whether a call was undone (deleted) since the last look: then everything is reloaded,
        as the new calls alone cannot take one away. Reads only the audit rows added since."""
        with self.db.reading() as s:
            top = s.scalar(select(func.max(AuditLog.id))) or 0
            undone = s.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.id > self.audit_mark, AuditLog.action == "call.undo")
            )
        self.audit_mark = top
        return bool(undone)

    def _full_load(self) -> None:
        with self.db.reading() as s:
            top = s.scalar(select(func.max(Call.id))) or 0
            self.audit_mark = s.scalar(select(func.max(AuditLog.id))) or 0
        cut = replace(self.sel, upto_id=top)
        by_lockdown = rollups.rollup(self.db, cut, ("lockdown",))
        by_campaign = rollups.rollup(self.db, cut, ("campaign",), with_total=False)
        self.total = _Acc(by_lockdown.total)
        self.lockdowns = {r["lockdown"]: _Acc(r) for r in by_lockdown.rows}
        self.campaigns = {r["campaign"]: _Acc(r) for r in by_campaign.rows}
        self.kinds = {k: int(by_lockdown.total[k]) for k in rollups.KINDS}
        with self.db.reading() as s:
            self.recent = set(
                s.scalars(
                    select(Call.id).where(Call.id > top - LATE_WINDOW, *self.sel.conditions())
                )
            )
        self.watermark = top
        self.loaded = True

    def _counted(self, call_id: int) -> bool:
        return call_id <= self.watermark - self.window or call_id in self.recent

    def _add_new(self) -> None:
        """Count the calls not counted yet (new ones, and late commits in the window)."""
        floor = max(0, self.watermark - self.window)
        with self.db.reading() as s:
            # ids only (an index-only range scan); the rows are read for the new ones alone
            fresh = [
                i for i in s.scalars(select(Call.id).where(Call.id > floor)) if i not in self.recent
            ]
            if not fresh:
                return
            new: list[Any] = []
            for i in range(0, len(fresh), 900):
                new += s.execute(
                    select(
                        Call.id,
                        Call.business_id,
                        Call.campaign_id,
                        Call.reached,
                        Call.agent_id,
                        Call.started_at,
                    ).where(Call.id.in_(fresh[i : i + 900]), *self.sel.conditions())
                ).all()
            new.sort(key=lambda r: r[0])
            if any(r[2] not in self.campaign_of or r[4] not in self.agents for r in new):
                self._names()  # a campaign or an agent created since the first load
            businesses = sorted({r[1] for r in new})
            history: dict[int, list[tuple[int, int, bool]]] = {}
            for i in range(0, len(businesses), 900):
                for cid, bid, camp, reached in s.execute(
                    select(Call.id, Call.business_id, Call.campaign_id, Call.reached).where(
                        Call.business_id.in_(businesses[i : i + 900]), *self.sel.conditions()
                    )
                ):
                    history.setdefault(bid, []).append((cid, camp, bool(reached)))
            kinds: dict[int, list[str]] = {}
            ids = [r[0] for r in new]
            for i in range(0, len(ids), 900):
                for call_id, kind in s.execute(
                    select(Referral.call_id, Referral.kind).where(
                        Referral.call_id.in_(ids[i : i + 900])
                    )
                ):
                    kinds.setdefault(call_id, []).append(kind)
        done: set[int] = set()  # counted in this refresh, before the current call
        for call_id, bid, camp, reached, agent_id, started in new:
            campaign, lockdown = self.campaign_of.get(camp, (str(camp), None))
            earlier = [h for h in history.get(bid, []) if h[0] in done or self._counted(h[0])]
            refs = kinds.get(call_id, [])
            groups = (
                (self.total, lambda h: True),
                (
                    self.lockdowns.setdefault(lockdown, _Acc()),
                    lambda h, lk=lockdown: self.campaign_of.get(h[1], ("", None))[1] == lk,
                ),
                (self.campaigns.setdefault(campaign, _Acc()), lambda h, c=camp: h[1] == c),
            )
            for acc, same_group in groups:
                acc.contacts += 1
                acc.referrals += len(refs)
                mine = [h for h in earlier if same_group(h)]
                if not mine:
                    acc.businesses_contacted += 1
                if reached and not any(h[2] for h in mine):
                    acc.businesses_reached += 1
            for kind in refs:
                self.kinds[kind] = self.kinds.get(kind, 0) + 1
            self._count_today(agent_id, started, bool(reached), len(refs))
            done.add(call_id)
        # seen: counted above, or outside the scope (never to be read again)
        self.recent.update(fresh)
        self.watermark = max(self.watermark, max(fresh))
        low = self.watermark - self.window
        self.recent = {i for i in self.recent if i > low}

    def _count_today(self, agent_id: int, started: datetime, reached: bool, refs: int) -> None:
        at = started.replace(tzinfo=UTC).astimezone(PARIS)
        if at.date() != self.today:
            return
        self.per_hour[at.hour] += 1
        acc = self.agents_today.setdefault(agent_id, [0, 0, 0])
        self.people_dirty.add(agent_id)
        acc[0] += 1
        acc[1] += int(reached)
        acc[2] += refs

    # -- today -----------------------------------------------------------------------------------

    def _load_today(self, day: Any) -> None:
        """Today's counters from scratch (the first refresh, and after midnight in Paris)."""
        start = to_db(datetime.combine(day, dtime(0), tzinfo=PARIS))
        end = to_db(datetime.combine(day + timedelta(days=1), dtime(0), tzinfo=PARIS))
        where = [Call.started_at >= start, Call.started_at < end, *self.sel.conditions()]
        if self.loaded:
            where.append(Call.id <= self.watermark)
        with self.db.reading() as s:
            rows = s.execute(
                select(Call.id, Call.agent_id, Call.started_at, Call.reached).where(*where)
            ).all()
            refs = dict(
                s.execute(
                    select(Referral.call_id, func.count(Referral.id))
                    .join(Call, Call.id == Referral.call_id)
                    .where(*where)
                    .group_by(Referral.call_id)
                ).all()
            )
        self.today = day
        self.per_hour = [0] * 24
        self.agents_today = {}
        self.people_order, self.people_keys, self.people_out = [], {}, None
        self.people_dirty = set()
        for call_id, agent_id, started, reached in rows:
            self._count_today(agent_id, started, bool(reached), int(refs.get(call_id, 0)))

    def _people(self) -> tuple[AgentToday, ...]:
        """Today's advisers, most contacts first (then by login)."""
        if self.people_dirty or self.people_out is None:
            if len(self.people_dirty) > len(self.people_order) // 4:  # most: sort them whole
                self.people_order, self.people_keys = [], {}
                self.people_dirty = set(self.agents_today)
            order, keys = self.people_order, self.people_keys
            whole = not order
            for aid in self.people_dirty:
                old = keys.pop(aid, None)
                if old is not None:
                    del order[bisect_left(order, old)]
                counts = self.agents_today.get(aid)
                if counts is None:
                    continue
                person = AgentToday(*self.agents.get(aid, (str(aid), str(aid))), *counts)
                key = (-person.contacts, person.login, aid, person)  # aid: unique, never past it
                keys[aid] = key
                if whole:
                    order.append(key)
                else:
                    insort(order, key)
            if whole:
                order.sort()
            self.people_dirty = set()
            self.people_out = tuple(k[-1] for k in order)
        return self.people_out

    def _diagnostics_done(self) -> int:
        with self.db.reading() as s:
            return rollups.diagnostics_done(s, self.sel)

    def _goals(self, moment: datetime) -> tuple[GoalProgress, ...]:
        """The scope's goals, counted again at most every GOALS_EVERY seconds (they move
        slowly and each is a count over the period)."""
        now = time.monotonic()
        if self.goals_read_at is None or now - self.goals_read_at >= GOALS_EVERY:
            self.goal_list = tuple(goals_in_scope(self.db, self.scope, now=moment))
            self.goals_read_at = now
        return self.goal_list

    # -- the refresh -----------------------------------------------------------------------------

    def refresh(self, now: datetime | None = None) -> Dashboard:
        """The dashboard now: full load the first time, the new calls only afterwards."""
        started = time.perf_counter()
        moment = now or datetime.now(UTC)
        day = (from_db(to_db(moment)) or moment).astimezone(PARIS).date()
        full = not self.loaded or self._undone_since()
        if full:
            self._full_load()
            self._load_today(day)
        else:
            if day != self.today:
                self._load_today(day)
            self._add_new()
        order = {n: i for i, n in enumerate(self.lockdown_order)}
        lockdowns = tuple(
            acc.frozen(key)
            for key, acc in sorted(
                self.lockdowns.items(), key=lambda kv: order.get(kv[0], len(order)) if kv[0] else 99
            )
        )
        campaigns = tuple(
            acc.frozen(key)
            for key, acc in sorted(self.campaigns.items(), key=lambda kv: str(kv[0]))
        )
        goals = self._goals(moment)
        diagnostics_goal = next((g for g in goals if g.metric == "diagnostics_done"), None)
        return Dashboard(
            as_of=(from_db(to_db(moment)) or moment),
            scope=self.scope.chamber_code,
            total=self.total.frozen(None),
            lockdowns=lockdowns,
            campaigns=campaigns,
            agents_today=self._people(),
            referrals_by_kind=tuple((k.code, self.kinds.get(k.code, 0)) for k in REFERRAL_KINDS),
            diagnostics=self._diagnostics_done(),
            diagnostics_target=diagnostics_goal.target if diagnostics_goal else 0,
            calls_today=sum(self.per_hour),
            calls_per_hour=tuple(self.per_hour),
            board=self.board.refresh(moment, self.agents_today),
            refresh_ms=(time.perf_counter() - started) * 1000,
            full_load=full,
            goals=goals,
        )


def dashboard(db: Database, supervisor: AgentInfo, now: datetime | None = None) -> Dashboard:
    """A one-off dashboard (a full load); keep a `DashboardFeed` to refresh cheaply."""
    return DashboardFeed(db, supervisor).refresh(now or from_db(utcnow()))
