"""The live agent board of the supervisors' dashboard: every adviser of the scope, their state,
since when, the business on screen (name only), today's counts.

Each refresh reads the current states only (the open rows of `agent_state_events`, through the
partial index ix_agent_state_events_open: one row per adviser, 11,000 at national scale), with the
business names of those on a call; the advisers' names are read once. Today's counts come from
the dashboard feed, which keeps them up to date incrementally.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from outreach.db.engine import Database
from outreach.db.models import Agent, AgentStateEvent, Business, Chamber, PauseReasonRow
from outreach.domain.agent_states import LOGGED_OUT, ON_CALL, ORDERED_FOR_BOARD, PAUSED
from outreach.services.access import scope_of
from outreach.services.clock import from_db, to_db, utcnow
from outreach.services.types import AgentInfo

# board order: who needs a look first
ORDER = {state: i for i, state in enumerate(ORDERED_FOR_BOARD)}
AGENTS_RELOAD = timedelta(minutes=1)
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

    def refresh(
        self, now: datetime | None = None, today: dict[int, list[int]] | None = None
    ) -> Board:
        """The board now; `today`: agent id -> [calls, reached, referrals] of the day."""
        started = time.perf_counter()
        at = to_db(now) if now is not None else utcnow()
        if self.loaded_at is None or time.monotonic() - self.loaded_at > AGENTS_RELOAD.seconds:
            self._load_agents()
        stmt = (
            select(
                E.c.agent_id,
                E.c.state,
                E.c.at,
                E.c.reason,
                E.c.note,
                E.c.expires_at,
                Business.name,
            )
            .select_from(E)
            .outerjoin(Business, Business.id == E.c.business_id)
            .where(E.c.ended_at.is_(None))
        )
        if self.scope.chamber_id is not None:
            stmt = stmt.join(Agent, Agent.id == E.c.agent_id).where(
                Agent.chamber_id == self.scope.chamber_id
            )
        with self.db.reading() as s:
            current = {r[0]: r for r in s.execute(stmt)}
        today = today or {}
        counts = dict.fromkeys(ORDER, 0)
        rows: list[BoardRow] = []
        agents = self.agents
        for aid, (login, name, chamber) in agents.items():
            c = today.get(aid) or (0, 0, 0)
            r = current.get(aid)
            if r is None:
                counts[LOGGED_OUT] += 1
                rows.append(
                    BoardRow(
                        aid, login, name, chamber, LOGGED_OUT, None, None, None, None, False, *c
                    )
                )
                continue
            _aid, state, since, reason, note, expires, business = r
            if expires is not None and expires < at:  # a crashed app: logged out at its lease
                state, since, reason, note, business = LOGGED_OUT, expires, None, None, None
            over = False
            if state == PAUSED and reason is not None:
                limit = self.limits.get(reason)
                over = limit is not None and at - since > timedelta(minutes=limit)
            counts[state] += 1
            rows.append(
                BoardRow(
                    aid,
                    login,
                    name,
                    chamber,
                    state,
                    from_db(since),
                    reason,
                    note,
                    business if state == ON_CALL else None,
                    over,
                    *c,
                )
            )
        far = datetime.max
        rows.sort(
            key=lambda b: (
                not b.over_limit,
                ORDER[b.state],
                b.since.replace(tzinfo=None) if b.since else far,
                b.login,
            )
        )
        return Board(tuple(rows), counts, (time.perf_counter() - started) * 1000, self.reasons)
