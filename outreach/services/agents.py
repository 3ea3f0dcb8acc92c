"""Agents: who is calling, as the plain `AgentInfo` the UI and the other services use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import Agent, Chamber
from outreach.errors import NotFound
from outreach.i18n import _
from outreach.services.types import AgentInfo

NATIONAL_CHAMBER = "CMAF"


def _query() -> Select[int, str, str, str, int, str, bool]:
    return select(
        Agent.id,
        Agent.login,
        Agent.name,
        Agent.role,
        Agent.chamber_id,
        Chamber.code,
        Agent.has_pin,
    ).join(Chamber, Chamber.id == Agent.chamber_id)


def _info(row: Sequence[Any]) -> AgentInfo:
    id_, login, name, role, chamber_id, code, has_pin = row
    return AgentInfo(
        id=id_,
        login=login,
        name=name,
        role=role,
        chamber_id=chamber_id,
        chamber_code=code,
        has_pin=bool(has_pin),
    )


def load_agent(session: Session, agent_id: int) -> AgentInfo:
    """The agent `agent_id` inside the caller's transaction, or NotFound."""
    row = session.execute(_query().where(Agent.id == agent_id)).first()
    if row is None:
        raise NotFound(_("agent inconnu : n° {id}").format(id=agent_id))
    return _info(row)


def get_agent(db: Database, login: str) -> AgentInfo:
    """The agent whose login is `login` (spaces trimmed), or NotFound with a French message."""
    with db.reading() as session:
        row = session.execute(_query().where(Agent.login == login.strip())).first()
    if row is None:
        raise NotFound(_("agent inconnu : « {login} »").format(login=login.strip()))
    return _info(row)


def get_agent_by_id(db: Database, agent_id: int) -> AgentInfo:
    """The agent `agent_id`, or NotFound."""
    with db.reading() as session:
        return load_agent(session, agent_id)


def works_every_chamber(agent: AgentInfo) -> bool:
    """Members of CMA France (the head, which has no département of its own) and admins work
    every chamber of a national campaign; everyone else works their own chamber only."""
    return agent.role == "admin" or agent.chamber_code == NATIONAL_CHAMBER
