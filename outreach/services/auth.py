"""Agent login: PINs hashed with argon2, a progressive delay after wrong PINs per login and per
source (services.login_delay), every attempt audited.

An agent without a PIN logs in with the login alone, unless the caller requires a PIN (the app
served to other hosts does): then only agents with a PIN may log in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outreach.db.engine import Database, retry_busy
from outreach.db.models import Agent
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services import login_delay
from outreach.services.agents import load_agent, works_every_chamber
from outreach.services.audit import record_audit
from outreach.services.clock import to_db, utcnow
from outreach.services.types import AgentInfo

PIN_PATTERN = re.compile(r"^[0-9]{4,12}$")


@lru_cache(maxsize=1)
def _hasher() -> Any:
    """argon2's hasher, loaded when a PIN is first hashed or checked (not at every start)."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@dataclass(frozen=True, slots=True)
class _Outcome:
    agent: AgentInfo | None
    error: str | None


def hash_pin(pin: str) -> str:
    return str(_hasher().hash(pin))


def _pin_matches(pin_hash: str, pin: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return bool(_hasher().verify(pin_hash, pin))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _load(session: Session, login: str, *, lock: bool) -> Agent | None:
    stmt = select(Agent).where(Agent.login == login.strip())
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def login_needs_pin(db: Database, login: str, *, require_pin: bool = False) -> bool:
    """Whether the login screen must ask this login for a PIN (True for unknown logins too,
    so the screen does not tell which logins exist)."""
    if require_pin:
        return True
    with db.reading() as session:
        found = _load(session, login, lock=False)
    return found is None or found.pin_hash is not None


def verify_login(
    db: Database,
    login: str,
    pin: str | None,
    *,
    require_pin: bool = False,
    now: datetime | None = None,
    source: str | None = None,
) -> AgentInfo:
    """The agent `login` if the PIN is right (or none is set and none is required).

    Raises Forbidden with one message for an unknown login or a wrong PIN (the screen does not
    reveal which logins exist), with the wait before the next attempt once wrong PINs make one
    (per login and per `source`, default `login_delay.source_of()`: services.login_delay).
    Every attempt leaves an audit row.
    """
    moment = to_db(now) if now else utcnow()
    source = source or login_delay.source_of()
    wrong = _("identifiant ou code PIN incorrect")

    def attempt() -> _Outcome:
        with db.writing() as session:
            found = _load(session, login, lock=True)
            waiting = login_delay.refusal(session, found, source, moment)
            if waiting is not None:
                return _Outcome(None, waiting)
            if found is None or not found.active:
                if pin:  # a guessed login counts for its source
                    later = login_delay.failed(session, None, login, source, moment)
                    if later:
                        return _Outcome(None, wrong_then(wrong, later))
                record_audit(
                    session,
                    agent_id=None if found is None else found.id,
                    action="login_refused",
                    entity="agent",
                    entity_id=login.strip()[:64],
                    detail={"reason": "unknown" if found is None else "inactive"},
                    at=moment,
                )
                return _Outcome(None, wrong)
            agent = found
            if agent.pin_hash is None:
                if require_pin:
                    record_audit(
                        session,
                        agent_id=agent.id,
                        action="login_refused",
                        entity="agent",
                        entity_id=agent.id,
                        detail={"reason": "no_pin"},
                        at=moment,
                    )
                    return _Outcome(
                        None,
                        _(
                            "un code PIN est obligatoire ici et {login} n'en a pas : "
                            "demandez-en un à votre superviseur"
                        ).format(login=agent.login),
                    )
            elif not pin or not _pin_matches(agent.pin_hash, pin):
                later = login_delay.failed(session, agent, login, source, moment)
                return _Outcome(None, wrong_then(wrong, later))
            login_delay.succeeded(session, agent, source, moment)
            record_audit(
                session,
                agent_id=agent.id,
                action="login",
                entity="agent",
                entity_id=agent.id,
                detail={"pin": agent.pin_hash is not None},
                at=moment,
            )
            return _Outcome(load_agent(session, agent.id), None)

    result = retry_busy(attempt)
    if result.agent is None:
        raise Forbidden(result.error or wrong)
    return result.agent


def wrong_then(wrong: str, later: str | None) -> str:
    """The refusal, with the wait before the next attempt when there is one."""
    return wrong if later is None else _("{wrong} ; {later}").format(wrong=wrong, later=later)


def set_pin(db: Database, login: str, pin: str | None, *, actor_id: int | None = None) -> None:
    """Set (or with None, remove) the PIN of `login`: 4 to 12 digits, stored as an argon2 hash.

    Someone else's PIN: a supervisor of the agent's chamber (or of the whole network). Removing
    a PIN (which also ends the login's wait after wrong PINs) is for a supervisor or an admin
    only, even one's own, and on SQLite one proven by a PIN of their own (`actor_id` comes from
    `access.acting_person`, which checked it); on PostgreSQL the connected role is the proof.
    Audited (set_pin, clear_pin)."""
    if pin is not None and not PIN_PATTERN.match(pin):
        raise InvalidInput(_("code PIN invalide : 4 à 12 chiffres"))
    pin_hash = hash_pin(pin) if pin is not None else None
    with db.writing() as session:
        if pin is None:  # checked first: on PostgreSQL an agent's role may not even read PINs
            actor = load_agent(session, actor_id) if actor_id is not None else None
            if actor is None or not actor.is_supervisor:
                raise Forbidden(
                    _(
                        "retirer un code PIN est réservé à un superviseur ou un administrateur "
                        "(--as, avec son propre code PIN)"
                    )
                )
            if db.is_sqlite and not actor.has_pin:
                raise Forbidden(
                    _(
                        "retirer un code PIN demande un superviseur qui a lui-même un code PIN "
                        "(sa preuve d'identité sur SQLite) : {actor} n'en a pas"
                    ).format(actor=actor.login)
                )
        found = _load(session, login, lock=True)
        if found is None:
            raise NotFound(_("agent inconnu : « {login} »").format(login=login.strip()))
        agent = found
        if actor_id is not None and actor_id != agent.id:
            # someone else's PIN: a supervisor of the agent's chamber (or of the whole network)
            actor = load_agent(session, actor_id)
            if not actor.is_supervisor or (
                not works_every_chamber(actor) and actor.chamber_id != agent.chamber_id
            ):
                raise Forbidden(
                    _("{actor} ne peut pas changer le code PIN de {login}").format(
                        actor=actor.login, login=agent.login
                    )
                )
        session.execute(
            update(Agent)
            .where(Agent.id == agent.id)
            .values(pin_hash=pin_hash, failed_pins=0, locked_until=None)
        )
        record_audit(
            session,
            agent_id=actor_id if actor_id is not None else agent.id,
            action="set_pin" if pin is not None else "clear_pin",
            entity="agent",
            entity_id=agent.id,
        )
