"""The live agent board of the supervisors' dashboard: every adviser of the scope, their state,
since when, the business on screen (name only), today's counts.

The first refresh reads the current states (the open rows of `agent_state_events`, through the
partial index ix_agent_state_events_open: one row per adviser, 11,000 at national scale). Later
ones cost what changed, not the size of the scope:
- the rows added since: `id > watermark` through the primary key (on PostgreSQL, where a lower id
  may commit after a higher one, also the ids still missing below the watermark, for a while);
- the advisers whose known lease has just run out (a heap of expiry times): their open row again
  (a live app has moved it on; a crashed one has not: logged out);
- the pauses that have just passed their reason's limit (a heap of deadlines);
- the advisers whose counts of the day changed (the dashboard feed keeps them incrementally).
Only those advisers' rows are rebuilt; the board's order is kept sorted (bisect), the counts per
state kept up to date. Business names are read once each, the advisers' names once a minute.
EXPLAIN (SQLite and PostgreSQL): the first read uses ix_agent_state_events_open, the later ones
the primary key's range (or the agent's open row through the same partial index); no scan of
the events.
"""

from __future__ import annotations

import heapq
import time
from bisect import bisect_left, insort
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import Agent, AgentStateEvent, Business, Chamber, PauseReasonRow
from outreach.domain.agent_states import LOGGED_OUT, ON_CALL, ORDERED_FOR_BOARD, PAUSED
from outreach.services.access import scope_of
from outreach.services.clock import to_db, utcnow
from outreach.services.types import AgentInfo

# board order: who needs a look first
ORDER = {state: i for i, state in enumerate(ORDERED_FOR_BOARD)}
AGENTS_RELOAD = timedelta(minutes=1)
FAR = datetime.max  # the never-logged-in sort last
LATE_WINDOW = 2_000  # PostgreSQL: ids missing this far below the watermark are looked for again
RECHECK = timedelta(seconds=30)  # a run-out lease read again (a writer's clock a little behind)
E = AgentStateEvent.__table__
# (row id, state, at, reason, note, expires_at, business_id) of an adviser's open row
Open = tuple[int, str, datetime, str | None, str | None, datetime | None, int | None]


@dataclass(frozen=True, slots=True)
class BoardRow:
    agent_id: int
    login: str
    name: str
    chamber: str
    state: str
    since: datetime | None  # aware UTC; None: never logged in
    reason: str | None = None
    note: str | None = None
    business: str | None = None  # the business on screen (on_call)
    over_limit: bool = False  # paused past the reason's max_minutes
    calls: int = 0  # today (Paris day)
    reached: int = 0
    referrals: int = 0


@dataclass(frozen=True, slots=True)
class Board:
    rows: tuple[BoardRow, ...]
    counts: dict[str, int]  # advisers per state
    refresh_ms: float
    reasons: dict[str, tuple[str, str]]  # pause reason code -> (French, English) label


class BoardFeed:
    """One supervisor's board: advisers of the scope read once (again every minute), at every
    refresh only what changed (see the module's note)."""

    def __init__(self, db: Database, supervisor: AgentInfo) -> None:
        self.db = db
        self.scope = scope_of(supervisor)
        self.late = db.is_postgresql  # commits may land below the watermark
        self.loaded_at: float | None = None
        self.agents: dict[int, tuple[str, str, str]] = {}
        self.limits: dict[str, int | None] = {}
        self.reasons: dict[str, tuple[str, str]] = {}
        self.names: dict[int, str] = {}  # business names read so far (only new ones are read)
        self.current: dict[int, Open] = {}  # agent id -> its open row
        self.watermark: int | None = None  # the highest event id read
        self.gaps: set[int] = set()  # PostgreSQL: ids below the watermark not seen yet
        self.rows: dict[int, BoardRow] = {}
        self.keys: dict[int, tuple[object, ...]] = {}
        # every row's key (agent id, unique, then the row itself, never compared), sorted
        self.order: list[tuple[object, ...]] = []
        self.counts: dict[str, int] = dict.fromkeys(ORDER, 0)
        self.today: dict[int, tuple[int, ...]] = {}  # the counts each row was built with
        # (when, agent id, row id): a lease that runs out, a pause that passes its limit
        self.expiring: list[tuple[datetime, int, int]] = []
        self.over_at: list[tuple[datetime, int, int]] = []
        self.last_at: datetime | None = None
        self.dirty: set[int] = set()
        self.out: tuple[BoardRow, ...] | None = None

    def _load_agents(self) -> None:
        stmt = select(Agent.id, Agent.login, Agent.name, Chamber.code).join(
            Chamber, Chamber.id == Agent.chamber_id
        )
        stmt = stmt.where(Agent.active)
        if self.scope.chamber_id is not None:
            stmt = stmt.where(Agent.chamber_id == self.scope.chamber_id)
        with self.db.reading() as s:
            agents = {aid: (login, name, code) for aid, login, name, code in s.execute(stmt)}
            reasons = s.execute(
                select(
                    PauseReasonRow.code,
                    PauseReasonRow.max_minutes,
                    PauseReasonRow.label_fr,
                    PauseReasonRow.label_en,
                )
            ).all()
        limits = {code: limit for code, limit, _fr, _en in reasons}
        self.reasons = {code: (fr, en) for code, _limit, fr, en in reasons}
        if limits != self.limits:  # a limit changed: every pause looked at again
            self.limits = limits
            self.dirty.update(self.agents)
            self.dirty.update(agents)
        else:
            old = self.agents
            self.dirty.update(a for a, v in agents.items() if old.get(a) != v)
            self.dirty.update(a for a in old if a not in agents)
        self.agents = agents
        self.loaded_at = time.monotonic()

    _COLUMNS = (
        E.c.id,
        E.c.agent_id,
        E.c.state,
        E.c.at,
        E.c.reason,
        E.c.note,
        E.c.expires_at,
        E.c.business_id,
    )

    def _keep(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows (of _COLUMNS) by id order: the newest of each adviser is its current state."""
        current, dirty = self.current, self.dirty
        for r in rows:
            rid, aid = r[0], r[1]
            known = current.get(aid)
            if known is None or rid >= known[0]:
                now: Open = (rid, r[2], r[3], r[4], r[5], r[6], r[7])
                if now != known:
                    current[aid] = now
                    dirty.add(aid)

    def _read_open(self, s: Session, agents: list[int] | None) -> None:
        """The open rows: of every adviser (the first refresh) or of these advisers."""
        if agents is None:
            rows = s.execute(select(*self._COLUMNS).where(E.c.ended_at.is_(None))).all()
            top = s.scalar(select(func.max(E.c.id))) or 0
            self._keep(sorted(rows, key=lambda r: r[0]))
            # PostgreSQL: what committed late below the top is found by the first _read_new
            self.watermark = max(0, top - LATE_WINDOW) if self.late else top
            return
        for i in range(0, len(agents), 900):
            rows = s.execute(
                select(*self._COLUMNS).where(
                    E.c.ended_at.is_(None), E.c.agent_id.in_(agents[i : i + 900])
                )
            ).all()
            self._keep(sorted(rows, key=lambda r: r[0]))

    def _read_new(self, s: Session) -> None:
        mark = self.watermark or 0
        rows = s.execute(select(*self._COLUMNS).where(E.c.id > mark).order_by(E.c.id)).all()
        if self.gaps:  # a second statement: each one a range or lookups of the primary key
            late = s.execute(select(*self._COLUMNS).where(E.c.id.in_(sorted(self.gaps)))).all()
            if late:
                rows = sorted([*late, *rows], key=lambda r: r[0])
        self._keep(rows)
        if not rows:
            return
        top = max(mark, rows[-1][0])
        if self.late:
            ids = {r[0] for r in rows}
            self.gaps -= ids
            self.gaps.update(
                i for i in range(max(mark + 1, top - LATE_WINDOW), top) if i not in ids
            )
            if self.gaps:
                self.gaps = {i for i in self.gaps if i > top - LATE_WINDOW}
        self.watermark = top

    def _due(self, heap: list[tuple[datetime, int, int]], at: datetime) -> list[int]:
        """Advisers whose deadline in `heap` has passed (and is still their current row's)."""
        due: dict[int, None] = {}
        while heap and heap[0][0] < at:
            _when, aid, rid = heapq.heappop(heap)
            known = self.current.get(aid)
            if known is not None and known[0] == rid:
                due[aid] = None
        return list(due)

    def _changed_today(self, today: dict[int, list[int]]) -> None:
        seen, dirty = self.today, self.dirty
        for aid, c in today.items():
            t = tuple(c)
            if seen.get(aid) != t:
                seen[aid] = t
                dirty.add(aid)
        if len(seen) > len(today):  # a new day: the counts of yesterday's advisers go
            for aid in [a for a in seen if a not in today]:
                del seen[aid]
                dirty.add(aid)

    def _build(self, aid: int, at: datetime, place: bool = True) -> None:
        """The row of one adviser, its key in the order (unless `place` is False: the caller
        sorts) and the counts per state, again."""
        old_key = self.keys.pop(aid, None)
        if old_key is not None:
            old = self.rows.pop(aid)
            self.counts[old.state] -= 1
            i = bisect_left(self.order, old_key)
            del self.order[i]
        who = self.agents.get(aid)
        if who is None:  # out of the scope now (or retired)
            return
        login, name, chamber = who
        c = self.today.get(aid) or (0, 0, 0)
        r = self.current.get(aid)
        if r is None:
            row = BoardRow(aid, login, name, chamber, LOGGED_OUT, None, None, None, None, False, *c)
            key: tuple[object, ...] = (True, ORDER[LOGGED_OUT], FAR, login, aid, row)
        else:
            rid, state, since, reason, note, expires, business_id = r
            over = False
            if expires is not None and expires < at:
                # a crashed app: logged out at its lease (read again in a while)
                state, since, reason, note, business_id = LOGGED_OUT, expires, None, None, None
                heapq.heappush(self.expiring, (at + RECHECK, aid, rid))
            elif expires is not None:
                heapq.heappush(self.expiring, (expires, aid, rid))
            if state == PAUSED and reason is not None:
                limit = self.limits.get(reason)
                if limit is not None:
                    deadline = since + timedelta(minutes=limit)
                    over = at > deadline
                    if not over:
                        heapq.heappush(self.over_at, (deadline, aid, rid))
            business = None
            if state == ON_CALL and business_id is not None:
                business = self.names.get(business_id)
            row = BoardRow(
                aid,
                login,
                name,
                chamber,
                state,
                since.replace(tzinfo=UTC),
                reason,
                note,
                business,
                over,
                *c,
            )
            key = (not over, ORDER[state], since, login, aid, row)
        self.rows[aid] = row
        self.keys[aid] = key
        self.counts[row.state] += 1
        if place:
            insort(self.order, key)

    def refresh(
        self, now: datetime | None = None, today: dict[int, list[int]] | None = None
    ) -> Board:
        """The board now; `today`: agent id -> [calls, reached, referrals] of the day."""
        started = time.perf_counter()
        at = to_db(now) if now is not None else utcnow()
        if self.loaded_at is None or time.monotonic() - self.loaded_at > AGENTS_RELOAD.seconds:
            self._load_agents()
        if self.last_at is not None and at < self.last_at:  # asked about an earlier moment
            self.expiring, self.over_at = [], []
            self.dirty.update(self.current)
        self.last_at = at
        with self.db.reading() as s:
            if self.watermark is None:
                self._read_open(s, None)
                self.dirty.update(self.agents)
            else:
                self._read_new(s)
                stale = self._due(self.expiring, at)
                if stale:
                    self.dirty.update(stale)
                    self._read_open(s, stale)
            self.dirty.update(self._due(self.over_at, at))
            self._changed_today(today or {})
            dirty = self.dirty
            current = self.current
            wanted = sorted(
                {
                    r[6]
                    for r in (current.get(a) for a in dirty)
                    if r is not None and r[6] is not None and r[6] not in self.names
                }
            )
            if len(self.names) + len(wanted) > 100_000:
                self.names.clear()
                wanted = sorted({r[6] for r in current.values() if r[6] is not None})
            for i in range(0, len(wanted), 900):
                chunk = wanted[i : i + 900]
                for bid, name in s.execute(
                    select(Business.id, Business.name).where(Business.id.in_(chunk))
                ).all():
                    self.names[bid] = name
        if dirty:
            if len(dirty) > len(self.order) // 4:  # most of the board: build it whole
                self.rows, self.keys, self.order = {}, {}, []
                self.counts = dict.fromkeys(ORDER, 0)
                self.expiring, self.over_at = [], []
                for aid in self.agents:
                    self._build(aid, at, place=False)
                self.order = sorted(self.keys.values())
            else:
                for aid in dirty:
                    self._build(aid, at)
            self.dirty = set()
            self.out = None
        if self.out is None:
            self.out = tuple(map(itemgetter(-1), self.order))
        return Board(
            self.out, dict(self.counts), (time.perf_counter() - started) * 1000, self.reasons
        )
