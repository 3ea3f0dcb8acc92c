"""One live session per agent: each run of the agents' app (terminal or browser) opens a row
of `agent_sessions`, confirms it by a heartbeat, and ends it on leaving.

A new session of the same agent ends the live ones (the newest wins): the older app learns it
at its next heartbeat and stops working, so the same business is never worked from two
windows; the new one is told where the other session was. A session not confirmed for
`EXPIRY` (a crashed app) is ended at its last heartbeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from outreach.db.engine import Database, retry_busy, rowcount
from outreach.db.models import AgentSession
from outreach.services.audit import record_audit
from outreach.services.clock import from_db, to_db, utcnow

EXPIRY = timedelta(minutes=2)
S = AgentSession.__table__


@dataclass(frozen=True, slots=True)
class OtherSession:
    kind: str
    host: str | None
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class OpenedSession:
    id: int
    ended_others: tuple[OtherSession, ...]  # live sessions of the agent this one replaced


def open_session(
    db: Database, agent_id: int, kind: str, host: str | None, now: datetime | None = None
) -> OpenedSession:
    """Start a session of `agent_id`, ending the agent's other live ones (audited)."""
    at = to_db(now) if now is not None else utcnow()

    def run() -> OpenedSession:
        with db.write_conn() as session:
            live = session.execute(
                select(S.c.id, S.c.kind, S.c.host, S.c.last_seen_at).where(
                    S.c.agent_id == agent_id, S.c.ended_at.is_(None)
                )
            ).all()
            others = []
            for row in live:
                stale = row.last_seen_at < at - EXPIRY
                session.execute(
                    update(S)
                    .where(S.c.id == row.id)
                    .values(ended_at=row.last_seen_at if stale else at)
                )
                if not stale:
                    others.append(OtherSession(row.kind, row.host, from_db(row.last_seen_at)))
            new_id = session.execute(
                insert(S)
                .values(agent_id=agent_id, host=host, kind=kind, started_at=at, last_seen_at=at)
                .returning(S.c.id)
            ).scalar_one()
            if others:
                record_audit(
                    session,
                    agent_id=agent_id,
                    action="session.replace",
                    entity="agent_session",
                    entity_id=new_id,
                    detail={"ended": [{"kind": o.kind, "host": o.host} for o in others]},
                    at=at,
                )
            return OpenedSession(int(new_id), tuple(others))

    return retry_busy(run)


def heartbeat(db: Database, session_id: int, now: datetime | None = None) -> bool:
    """Confirm the session is alive; False when it was ended (another session replaced it)."""
    at = to_db(now) if now is not None else utcnow()

    def run() -> bool:
        with db.write_conn() as session:
            done = session.execute(
                update(S)
                .where(S.c.id == session_id, S.c.ended_at.is_(None))
                .values(last_seen_at=at)
            )
            return bool(rowcount(done))

    return retry_busy(run)


def end_session(db: Database, session_id: int, now: datetime | None = None) -> None:
    """The app is left: the session ends now (nothing if it had already ended)."""
    at = to_db(now) if now is not None else utcnow()

    def run() -> None:
        with db.write_conn() as session:
            session.execute(
                update(S).where(S.c.id == session_id, S.c.ended_at.is_(None)).values(ended_at=at)
            )

    retry_busy(run)


def end_all(session: Session, agent_id: int, at: datetime) -> int:
    """In the caller's transaction: every live session of `agent_id` ends now (an admin
    disabling them); their apps learn it at their next heartbeat and stop. How many ended."""
    done = session.execute(
        update(S).where(S.c.agent_id == agent_id, S.c.ended_at.is_(None)).values(ended_at=at)
    )
    return rowcount(done)
