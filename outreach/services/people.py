"""People on PostgreSQL: one database role per person, and who is connected.

Each person (a row of `agents`) has a PostgreSQL role of the same name (quoted: logins contain
dots), member of one group role: outreach_agent, outreach_supervisor or outreach_admin (created
with their grants and row-level security by the migrations). The acting person is the connected
role (`session_user`), never a name typed on the command line.

The database's owner (or a superuser) is the installation's account, not a person: it sets the
database up and may act as anyone with `--as`, as the owner of a database can anyway.
"""

from __future__ import annotations

import os

from sqlalchemy import select, text

from outreach.db.engine import Database
from outreach.db.models import Agent
from outreach.errors import Forbidden
from outreach.i18n import _
from outreach.services.agents import get_agent, load_agent
from outreach.services.audit import record_audit
from outreach.services.types import AgentInfo

ENV_AS = "OUTREACH_AS"

_OWNER = text(
    "SELECT r.rolsuper OR pg_has_role(session_user, d.datdba, 'MEMBER') "
    "FROM pg_roles r, pg_database d "
    "WHERE r.rolname = session_user AND d.datname = current_database()"
)


def connected_person(
    db: Database, as_login: str | None, *, default: str | None = None
) -> AgentInfo:
    """The person acting on PostgreSQL: the connected role mapped to `agents.login`.

    `--as` (or OUTREACH_AS) naming someone else is refused, unless the connected person is an
    admin: then the command acts as that person and an audit row says "admin X acting as Y".
    The database owner acts as `--as` (else `default`) names.
    """
    from outreach.services.access import identity

    wanted = (as_login or os.environ.get(ENV_AS, "")).strip() or None
    with db.writing() as session:
        role = str(session.scalar(text("SELECT session_user")))
        me = session.execute(select(Agent.id, Agent.active).where(Agent.login == role)).first()
        if me is None:
            if not session.scalar(_OWNER):
                raise Forbidden(
                    _(
                        "le rôle PostgreSQL {role} n'est celui d'aucune personne d'outreach : "
                        "connectez-vous avec votre propre rôle (outreach agent add)"
                    ).format(role=role)
                )
            return get_agent(db, identity(wanted or default))
        person = load_agent(session, me.id)
        if not me.active:
            raise Forbidden(_("{login} est désactivé").format(login=person.login))
        if wanted is None or wanted == person.login:
            return person
        if person.role != "admin":
            raise Forbidden(
                _(
                    "connecté comme {role} : --as {login} est refusé (seul un administrateur "
                    "peut agir pour quelqu'un d'autre)"
                ).format(role=role, login=wanted)
            )
        target = get_agent(db, wanted)
        record_audit(
            session,
            agent_id=person.id,
            action="act_as",
            entity="agent",
            entity_id=target.id,
            detail={"admin": person.login, "acting_as": target.login},
        )
        return target
