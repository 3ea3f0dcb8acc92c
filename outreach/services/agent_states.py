"""Advisers' states: every change is a row of `agent_state_events`, written here and only here.

The open row of an adviser (ended_at NULL) is the current state. A live app keeps it under a
lease: `expires_at` moves forward at each heartbeat (`set_state` with the same state). When an
app crashes the lease runs out and the state ends at `expires_at`, never left open: readers
(the board, the time roll-up) apply that rule at once (`effective_end`), and the next write for
that adviser, or `close_expired`, stores it as a `logged_out` row at the expiry. `close_expired`
runs by itself: in `outreach serve` (`ExpirySweeper`, every SWEEP_SECONDS) and in every agents'
app (at login, then every SWEEP_SECONDS, in its state writer: `outreach.tui.agent_day`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from outreach.db.engine import Database, retry_busy
from outreach.db.models import AgentStateEvent, Campaign, PauseReasonRow
from outreach.domain.agent_states import (
    DEFAULT_WRAP_UP_SECONDS,
    LOGGED_OUT,
    ON_CALL,
    PAUSED,
    STATES,
    WRAP_UP,
    allowed,
)
from outreach.errors import InvalidInput
from outreach.i18n import _
from outreach.services.clock import from_db, to_db, utcnow

# A state not confirmed for this long is a crashed (or cut off) app's: it ends at its expiry.
# The app confirms it every minute (TuiSettings.heartbeat_seconds).
LEASE = timedelta(minutes=3)
NOTE_MAX = 200
# How often the run-out leases are stored as closed (serve's sweeper, each agents' app)
SWEEP_SECONDS = 60.0
E = AgentStateEvent.__table__


@dataclass(frozen=True, slots=True)
class PauseReasonInfo:
    code: str
    key: str
    label_fr: str
    label_en: str
    max_minutes: int | None
    needs_note: bool

    def label(self, lang: str = "fr") -> str:
        return self.label_en if lang == "en" else self.label_fr


@dataclass(frozen=True, slots=True)
class AgentState:
    """An adviser's state as it stands (aware UTC times)."""

    agent_id: int
    state: str
    since: datetime
    reason: str | None = None
    note: str | None = None
    business_id: int | None = None
    expires_at: datetime | None = None


def effective_end(
    ended_at: datetime | None, expires_at: datetime | None, now: datetime
) -> datetime:
    """When a state ends, as every reader counts it (naive UTC): its closing, else its lease's
    expiry once passed, else now (still running)."""
    if ended_at is not None:
        return ended_at
    if expires_at is not None and expires_at < now:
        return expires_at
    return now


def pause_reasons(db: Database) -> tuple[PauseReasonInfo, ...]:
    """The active pause reasons of the catalogue, in key order."""
    with db.reading() as s:
        rows = s.execute(
            select(
                PauseReasonRow.code,
                PauseReasonRow.key,
                PauseReasonRow.label_fr,
                PauseReasonRow.label_en,
                PauseReasonRow.max_minutes,
                PauseReasonRow.needs_note,
            )
            .where(PauseReasonRow.active)
            .order_by(PauseReasonRow.key, PauseReasonRow.code)
        ).all()
    return tuple(PauseReasonInfo(*r[:5], bool(r[5])) for r in rows)


def _check(
    session: Session, state: str, reason: str | None, note: str | None, business_id: int | None
) -> str | None:
    """The note as stored; InvalidInput naming the field otherwise."""
    if state not in STATES:
        raise InvalidInput(
            _("état inconnu : « {state} » (états : {valid})").format(
                state=state, valid=", ".join(STATES)
            )
        )
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise InvalidInput(_("note de pause : {n} caractères au plus").format(n=NOTE_MAX))
    if state == PAUSED:
        row = session.execute(
            select(PauseReasonRow.needs_note).where(
                PauseReasonRow.code == (reason or ""), PauseReasonRow.active
            )
        ).first()
        if row is None:
            raise InvalidInput(_("motif de pause inconnu : « {reason} »").format(reason=reason))
        if row[0] and note is None:
            raise InvalidInput(_("motif de pause « {reason} » : précisez-le").format(reason=reason))
    elif reason is not None or note is not None:
        raise InvalidInput(_("un motif ne s'indique que pour une pause"))
    if state == ON_CALL and business_id is None:
        raise InvalidInput(_("en appel : l'entreprise manque"))
    return note


def _open_row(session: Session, agent_id: int, pg: bool) -> Row[*tuple[Any, ...]] | None:
    stmt = select(
        E.c.id, E.c.state, E.c.at, E.c.reason, E.c.note, E.c.business_id, E.c.expires_at
    ).where(E.c.agent_id == agent_id, E.c.ended_at.is_(None))
    if pg:
        stmt = stmt.with_for_update()
    return session.execute(stmt.order_by(E.c.id.desc()).limit(1)).first()


def _close_at_expiry(session: Session, agent_id: int, row_id: int, expired: datetime) -> None:
    session.execute(update(E).where(E.c.id == row_id).values(ended_at=expired))
    session.execute(
        insert(E).values(agent_id=agent_id, at=expired, state=LOGGED_OUT, expires_at=None)
    )


def set_state(
    db: Database,
    agent_id: int,
    state: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    business_id: int | None = None,
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> AgentState:
    """Record that the adviser is now in `state` (one row per change). The same state again is a
    heartbeat: the lease is extended, no row is added. `campaign_id`: the campaign worked, kept
    for on_call and wrap_up (the time roll-up's wrap-up limit). A lease that ran out first ends at its
    expiry with a `logged_out` row. InvalidInput for an unknown state or reason, a missing note
    or business, or a change the catalogue forbids (say, logged_out to wrap_up)."""
    at = to_db(now) if now is not None else utcnow()
    pg = db.is_postgresql

    def run() -> AgentState:
        with db.writing() as s:
            clean_note = _check(s, state, reason, note, business_id)
            row = _open_row(s, agent_id, pg)
            current = row.state if row is not None else None
            if row is not None and row.expires_at is not None and row.expires_at < at:
                _close_at_expiry(s, agent_id, row.id, row.expires_at)
                row, current = None, LOGGED_OUT
            expires = None if state == LOGGED_OUT else at + LEASE
            same = row is not None and (row.state, row.reason, row.note, row.business_id) == (
                state,
                reason if state == PAUSED else None,
                clean_note,
                business_id if state == ON_CALL else None,
            )
            if same:
                assert row is not None
                s.execute(update(E).where(E.c.id == row.id).values(expires_at=expires))
                return AgentState(
                    agent_id,
                    state,
                    from_db(row.at) or row.at,
                    row.reason,
                    row.note,
                    row.business_id,
                    from_db(expires),
                )
            if current == LOGGED_OUT and state == LOGGED_OUT:
                return AgentState(agent_id, LOGGED_OUT, from_db(at) or at)
            if not allowed(current, state):
                raise InvalidInput(
                    _("changement d'état impossible : {old} vers {new}").format(
                        old=current or "-", new=state
                    )
                )
            start = at
            if row is not None:
                start = max(at, row.at)  # never before the state it ends (clocks of two hosts)
                s.execute(update(E).where(E.c.id == row.id).values(ended_at=start))
            s.execute(
                insert(E).values(
                    agent_id=agent_id,
                    at=start,
                    state=state,
                    reason=reason if state == PAUSED else None,
                    note=clean_note,
                    business_id=business_id if state == ON_CALL else None,
                    campaign_id=campaign_id if state in (ON_CALL, WRAP_UP) else None,
                    expires_at=None if state == LOGGED_OUT else start + LEASE,
                )
            )
            return AgentState(
                agent_id,
                state,
                from_db(start) or start,
                reason if state == PAUSED else None,
                clean_note,
                business_id if state == ON_CALL else None,
                from_db(None if state == LOGGED_OUT else start + LEASE),
            )

    return retry_busy(run)


def log_out(session: Session, agent_id: int, at: datetime) -> str | None:
    """In the caller's transaction: the adviser is logged out now, whatever their state (an
    admin disabling them: no transition rule applies). Their open state ends (at its expiry if
    that came first) and a `logged_out` row follows. The state they were in, or None when they
    were already logged out (or never logged in)."""
    row = _open_row(session, agent_id, session.get_bind().dialect.name == "postgresql")
    if row is None or row.state == LOGGED_OUT:
        return None
    if row.expires_at is not None and row.expires_at < at:
        _close_at_expiry(session, agent_id, row.id, row.expires_at)
        return str(row.state)
    start = max(at, row.at)
    session.execute(update(E).where(E.c.id == row.id).values(ended_at=start))
    session.execute(insert(E).values(agent_id=agent_id, at=start, state=LOGGED_OUT))
    return str(row.state)


def current_state(db: Database, agent_id: int, now: datetime | None = None) -> AgentState | None:
    """The adviser's state now (a run-out lease reads as logged_out since its expiry); None for
    an adviser who never logged in."""
    at = to_db(now) if now is not None else utcnow()
    with db.reading() as s:
        row = _open_row(s, agent_id, False)
    if row is None:
        return None
    if row.expires_at is not None and row.expires_at < at:
        return AgentState(agent_id, LOGGED_OUT, from_db(row.expires_at) or row.expires_at)
    return AgentState(
        agent_id,
        row.state,
        from_db(row.at) or row.at,
        row.reason,
        row.note,
        row.business_id,
        from_db(row.expires_at),
    )


def close_expired(db: Database, now: datetime | None = None) -> int:
    """Store every run-out lease as what readers already count: the state ended at its expiry,
    then logged_out. The number of states closed."""
    at = to_db(now) if now is not None else utcnow()

    def run() -> int:
        with db.writing() as s:
            stmt = select(E.c.id, E.c.agent_id, E.c.expires_at).where(
                E.c.ended_at.is_(None), E.c.expires_at.is_not(None), E.c.expires_at < at
            )
            if db.is_postgresql:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = s.execute(stmt).all()
            for row_id, agent_id, expired in rows:
                _close_at_expiry(s, agent_id, row_id, expired)
            return len(rows)

    return retry_busy(run)


class ExpirySweeper(threading.Thread):
    """`close_expired` at once, then every `every` seconds until stopped (`outreach serve`):
    a crashed app's state is stored as closed even when no app writes for that adviser."""

    def __init__(self, db: Database, every: float = SWEEP_SECONDS) -> None:
        super().__init__(name="outreach-agent-states", daemon=True)
        self.db, self.every = db, every
        self.stopping = threading.Event()
        self.closed = 0  # states closed so far
        self.last_error: str | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.closed += close_expired(self.db)
                self.last_error = None
            except Exception as exc:  # the database away: try again at the next round
                self.last_error = str(exc)
            self.stopping.wait(self.every)

    def stop(self) -> None:
        self.stopping.set()


def wrap_up_limit(db: Database, campaign_id: int) -> int:
    """The campaign's maximum wrap-up time in seconds (the call screen's timer)."""
    with db.reading() as s:
        limit = s.scalar(select(Campaign.max_wrap_up_seconds).where(Campaign.id == campaign_id))
    return int(limit) if limit is not None else DEFAULT_WRAP_UP_SECONDS
