"""Do-not-call managed by supervisors by SIRET (`outreach dnc`): add, lift, show, list.

The rule and its audit are those of `queue.dnc` (the same as an opposition recorded in a call):
this module only finds the business in the supervisor's scope and reads the history back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from outreach.db.engine import Database, Executor
from outreach.db.models import Agent, AuditLog, Business, Chamber
from outreach.services.access import business_in_scope, chamber_scope, require_supervisor
from outreach.services.clock import from_db
from outreach.services.queue.dnc import lift_do_not_call, set_do_not_call

ACTIONS = ("business.do_not_call", "business.do_not_call_lifted")


@dataclass(frozen=True, slots=True)
class OppositionEvent:
    at: datetime  # aware UTC
    action: str  # business.do_not_call or business.do_not_call_lifted
    agent_login: str | None  # None: recorded by the system
    reason: str | None


@dataclass(frozen=True, slots=True)
class Opposition:
    siret: str
    name: str
    chamber_code: str
    do_not_call: bool
    since: datetime | None  # aware UTC
    history: tuple[OppositionEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class Change:
    siret: str
    changed: bool  # False: already in that state, nothing written
    tasks_cancelled: int = 0


def _business_id(db: Database, login: str, siret: str) -> tuple[int, int, str]:
    person = require_supervisor(db, login)
    with db.reading() as session:
        biz = business_in_scope(session, person, siret)
        return person.id, biz.id, biz.siret


def add(db: Database, login: str, siret: str, reason: str, now: datetime | None = None) -> Change:
    """Record an opposition received outside a call (cancels the business's unfinished tasks)."""
    sid, bid, clean = _business_id(db, login, siret)
    cancelled = set_do_not_call(db, sid, bid, reason, now=now)
    return Change(clean, cancelled is not None, cancelled or 0)


def lift(db: Database, login: str, siret: str, reason: str, now: datetime | None = None) -> Change:
    """Lift an opposition; tasks cancelled by it stay cancelled."""
    sid, bid, clean = _business_id(db, login, siret)
    return Change(clean, lift_do_not_call(db, sid, bid, reason, now=now))


def _events(session: Executor, business_ids: list[int]) -> dict[int, list[OppositionEvent]]:
    found: dict[int, list[OppositionEvent]] = {}
    ids = [str(i) for i in business_ids]
    for chunk in range(0, len(ids), 500):
        rows = session.execute(
            select(AuditLog.entity_id, AuditLog.at, AuditLog.action, Agent.login, AuditLog.detail)
            .outerjoin(Agent, Agent.id == AuditLog.agent_id)
            .where(
                AuditLog.entity == "business",
                AuditLog.entity_id.in_(ids[chunk : chunk + 500]),
                AuditLog.action.in_(ACTIONS),
            )
            .order_by(AuditLog.at, AuditLog.id)
        )
        for entity_id, at, action, login, detail in rows:
            reason = (detail or {}).get("reason") if isinstance(detail, dict) else None
            found.setdefault(int(entity_id), []).append(
                OppositionEvent(from_db(at), action, login, reason)
            )
    return found


def show(db: Database, login: str, siret: str) -> Opposition:
    """The business's opposition state and every add and lift of it, oldest first."""
    person = require_supervisor(db, login)
    with db.reading() as session:
        biz = business_in_scope(session, person, siret)
        code = session.scalar(select(Chamber.code).where(Chamber.id == biz.chamber_id))
        history = _events(session, [biz.id]).get(biz.id, [])
        return Opposition(
            siret=biz.siret,
            name=biz.name,
            chamber_code=code or "",
            do_not_call=bool(biz.do_not_call),
            since=from_db(biz.do_not_call_at) if biz.do_not_call_at else None,
            history=tuple(history),
        )


def listing(
    db: Database, login: str, chamber: str | None = None, limit: int | None = None
) -> tuple[int, list[Opposition]]:
    """Businesses in opposition in the supervisor's scope (or one chamber of it), newest first:
    (how many in all, the first `limit`), each with the history of its opposition."""
    person = require_supervisor(db, login)
    scope = chamber_scope(db, person, chamber)
    where: list[ColumnElement[bool]] = [Business.do_not_call.is_(True)]
    if scope.chamber_id is not None:
        where.append(Business.chamber_id == scope.chamber_id)
    with db.reading() as session:
        total = session.scalar(select(func.count(Business.id)).where(*where)) or 0
        stmt = (
            select(
                Business.id,
                Business.siret,
                Business.name,
                Chamber.code,
                Business.do_not_call_at,
            )
            .join(Chamber, Chamber.id == Business.chamber_id)
            .where(*where)
            .order_by(Business.do_not_call_at.desc(), Business.siret)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = session.execute(stmt).all()
        history = _events(session, [r.id for r in rows])
        return total, [
            Opposition(
                siret=r.siret,
                name=r.name,
                chamber_code=r.code,
                do_not_call=True,
                since=from_db(r.do_not_call_at) if r.do_not_call_at else None,
                history=tuple(history.get(r.id, [])),
            )
            for r in rows
        ]
