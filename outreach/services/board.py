"""The live agent board of the supervisors' dashboard: every adviser of the scope, their state,
since when, the business on screen (name only), today's counts.

The first refresh reads the current states (the open rows of `agent_state_events`, through the
partial index ix_agent_state_events_open: one row per adviser, 11,000 at national scale); later
ones read only the rows added since (by id, re-reading a window of recent ids for PostgreSQL's
late commits) and, for the advisers whose known lease has run out, their open row again (a live
app has moved it on; a crashed one has not: logged out). Business names are read once each, the
advisers' names once a minute, and a row of the board is rebuilt only when its adviser changed.
Today's counts come from the dashboard feed, which keeps them up to date incrementally.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter

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
LATE_WINDOW = 2_000  # event ids read again (PostgreSQL: a lower id may commit after a higher)
E = AgentStateEvent.__table__


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
    """One supervisor's board: advisers of the scope read once (again every minute), the states
    at every refresh."""

    def __init__(self, db: Database, supervisor: AgentInfo) -> None:
        self.db = db
        self.scope = scope_of(supervisor)
        self.loaded_at: float | None = None
        self.agents: dict[int, tuple[str, str, str]] = {}
        self.limits: dict[str, int | None] = {}
        self.reasons: dict[str, tuple[str, str]] = {}
        self.names: dict[int, str] = {}  # business names read so far (only new ones are read)
        # agent id -> (row id, state, at, reason, note, expires_at, business_id) of its open row
        self.current: dict[int, tuple[object, ...]] = {}
        self.watermark: int | None = None  # the highest event id read
        self.built: dict[int, tuple[object, tuple[object, ...], BoardRow]] = {}

    def _load_agents(self) -> None:
        stmt = select(Agent.id, Agent.login, Agent.name, Chamber.code).join(
            Chamber, Chamber.id == Agent.chamber_id
        )
        stmt = stmt.where(Agent.active)
        if self.scope.chamber_id is not None:
            stmt = stmt.where(Agent.chamber_id == self.scope.chamber_id)
        with self.db.reading() as s:
            self.agents = {aid: (login, name, code) for aid, login, name, code in s.execute(stmt)}
            reasons = s.execute(
                select(
                    PauseReasonRow.code,
                    PauseReasonRow.max_minutes,
                    PauseReasonRow.label_fr,
                    PauseReasonRow.label_en,
                )
            ).all()
        self.limits = {code: limit for code, limit, _fr, _en in reasons}
        self.reasons = {code: (fr, en) for code, _limit, fr, en in reasons}
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

    def _keep(self, rows: list[tuple[object, ...]]) -> None:
        """Rows by id order: the newest of each adviser is its current state."""
        for r in rows:
            rid, aid = r[0], r[1]
            known = self.current.get(aid)  # type: ignore[call-overload]
            if known is None or rid >= known[0]:  # type: ignore[operator]
                self.current[aid] = (rid, *r[2:])  # type: ignore[index]
            if self.watermark is None or rid > self.watermark:  # type: ignore[operator]
                self.watermark = rid  # type: ignore[assignment]

    def _read_open(self, s: Session, agents: list[int] | None) -> None:
        """The open rows: of every adviser (the first refresh) or of these advisers."""
        if agents is None:
            rows = s.execute(select(*self._COLUMNS).where(E.c.ended_at.is_(None))).all()
            self.watermark = s.scalar(select(func.max(E.c.id))) or 0
            self._keep(sorted(rows, key=itemgetter(0)))
            return
        for i in range(0, len(agents), 900):
            rows = s.execute(
                select(*self._COLUMNS).where(
                    E.c.ended_at.is_(None), E.c.agent_id.in_(agents[i : i + 900])
                )
            ).all()
            for r in rows:  # the same row with its lease moved on, or a newer one
                self.current[r[1]] = (r[0], *r[2:])

    def _read_new(self, s: Session) -> None:
        floor = max(0, (self.watermark or 0) - LATE_WINDOW)
        rows = s.execute(select(*self._COLUMNS).where(E.c.id > floor).order_by(E.c.id)).all()
        self._keep(rows)  # type: ignore[arg-type]

    def refresh(
        self, now: datetime | None = None, today: dict[int, list[int]] | None = None
    ) -> Board:
        """The board now; `today`: agent id -> [calls, reached, referrals] of the day."""
        started = time.perf_counter()
        at = to_db(now) if now is not None else utcnow()
        if self.loaded_at is None or time.monotonic() - self.loaded_at > AGENTS_RELOAD.seconds:
            self._load_agents()
        with self.db.reading() as s:
            if self.watermark is None:
                self._read_open(s, None)
            else:
                self._read_new(s)
                stale = [
                    aid
                    for aid, r in self.current.items()
                    if r[5] is not None and r[5] < at  # type: ignore[operator]
                ]
                if stale:
                    self._read_open(s, stale)
            wanted = sorted(
                {r[6] for r in self.current.values() if r[6] is not None and r[6] not in self.names}
            )
            if len(self.names) + len(wanted) > 100_000:
                self.names.clear()
            for i in range(0, len(wanted), 900):
                chunk = wanted[i : i + 900]
                for bid, name in s.execute(
                    select(Business.id, Business.name).where(Business.id.in_(chunk))
                ).all():
                    self.names[bid] = name
        current = self.current
        today = today or {}
        counts = dict.fromkeys(ORDER, 0)
        keyed: list[tuple[tuple[object, ...], BoardRow]] = []
        far = datetime.max
        built = self.built
        for aid, (login, name, chamber) in self.agents.items():
            c = today.get(aid) or (0, 0, 0)
            r = current.get(aid)
            if r is None:
                counts[LOGGED_OUT] += 1
                row = BoardRow(
                    aid, login, name, chamber, LOGGED_OUT, None, None, None, None, False, *c
                )
                keyed.append(((True, ORDER[LOGGED_OUT], far, login), row))
                continue
            _id, state, since, reason, note, expires, business_id = r
            expired = expires is not None and expires < at  # type: ignore[operator]
            over = False
            if state == PAUSED and reason is not None and not expired:
                limit = self.limits.get(reason)  # type: ignore[call-overload]
                over = limit is not None and at - since > timedelta(minutes=limit)  # type: ignore[operator]
            signature = (_id, expired, over, tuple(c), name)
            cached = built.get(aid)
            if cached is not None and cached[0] == signature:
                counts[cached[2].state] += 1
                keyed.append((cached[1], cached[2]))
                continue
            if expired:  # a crashed app: logged out at its lease
                state, since, reason, note, business_id = LOGGED_OUT, expires, None, None, None
            counts[state] += 1  # type: ignore[index]
            business = self.names.get(business_id) if state == ON_CALL else None  # type: ignore[arg-type]
            row = BoardRow(
                aid,
                login,
                name,
                chamber,
                state,  # type: ignore[arg-type]
                since.replace(tzinfo=UTC),  # type: ignore[union-attr]
                reason,  # type: ignore[arg-type]
                note,  # type: ignore[arg-type]
                business,
                over,
                *c,
            )
            key = (not over, ORDER[state], since, login)  # type: ignore[index]
            built[aid] = (signature, key, row)
            keyed.append((key, row))
        keyed.sort(key=itemgetter(0))
        rows = [row for _key, row in keyed]
        return Board(tuple(rows), counts, (time.perf_counter() - started) * 1000, self.reasons)
