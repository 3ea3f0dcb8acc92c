"""Who may do it: supervisors' rights and their scope.

Exports, imports, roll-ups and campaign changes need a supervisor (role supervisor or admin).
A regional supervisor sees only their own chamber; a supervisor of CMA France (chamber code
CMAF) or an admin sees the whole network.

Who acts is proven, not typed (`acting_person`). On SQLite (one desk) it is `--as LOGIN`, else
the OUTREACH_AS environment variable, and that person's PIN when they have one. On PostgreSQL it
is the connected database role (see `outreach.services.people`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import Agent, Business, Chamber
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.agents import NATIONAL_CHAMBER, get_agent, works_every_chamber
from outreach.services.auth import verify_login
from outreach.services.types import AgentInfo

ENV_AS = "OUTREACH_AS"


@dataclass(frozen=True, slots=True)
class Scope:
    """The chambers a supervisor's figures cover: one chamber, or all (chamber_id None)."""

    chamber_id: int | None
    chamber_code: str | None

    @property
    def national(self) -> bool:
        return self.chamber_id is None


def identity(as_login: str | None = None) -> str:
    """The acting login: `--as LOGIN`, else OUTREACH_AS; InvalidInput when neither is set."""
    login = (as_login or os.environ.get(ENV_AS, "")).strip()
    if not login:
        raise InvalidInput(
            _("qui êtes-vous ? indiquez --as IDENTIFIANT ou la variable OUTREACH_AS")
        )
    return login


def acting_person(
    db: Database,
    as_login: str | None,
    pin: Callable[[str], str | None],
    *,
    default: str | None = None,
) -> AgentInfo:
    """The person acting, proven.

    On PostgreSQL: the connected role (`outreach.services.people.connected_person`). On SQLite:
    `--as`, else OUTREACH_AS, else `default`; when that person has a PIN, `pin(login)` must give
    it (typed, or OUTREACH_PIN), checked with the login screen's waits and audit. Forbidden for
    a disabled person or a missing or wrong PIN.
    """
    if db.is_postgresql:
        from outreach.services.people import connected_person

        return connected_person(db, as_login, default=default)
    login = identity(as_login or os.environ.get(ENV_AS, "").strip() or default)
    person = get_agent(db, login)
    if not person.has_pin:
        if not is_active(db, person.id):
            raise Forbidden(_("{login} est désactivé").format(login=person.login))
        return person
    typed = pin(person.login)
    if not typed:
        raise Forbidden(
            _(
                "{login} a un code PIN : tapez-le quand il est demandé, ou pour un script mettez-le "
                "dans la variable OUTREACH_PIN (jamais sur la ligne de commande)"
            ).format(login=person.login)
        )
    return verify_login(db, person.login, typed)  # with the delays of the login screen


def is_active(db: Database, agent_id: int) -> bool:
    with db.reading() as session:
        return bool(session.scalar(select(Agent.active).where(Agent.id == agent_id)))


def sees_all(person: AgentInfo) -> bool:
    """CMA France supervisors and admins see every chamber (the agents service's rule)."""
    return works_every_chamber(person)


def require_supervisor(db: Database, login: str) -> AgentInfo:
    """The supervisor `login`; Forbidden (in French) for an agent, NotFound for an unknown login."""
    return ensure_supervisor(get_agent(db, login))


def ensure_supervisor(person: AgentInfo) -> AgentInfo:
    """`person` if a supervisor or admin, else Forbidden: every supervisors' service checks it
    itself (through `scope_of`), so an agent is refused whichever function it calls."""
    if not person.is_supervisor:
        raise Forbidden(
            _(
                "{login} est conseiller : exports, imports, tableaux de bord et campagnes "
                "sont réservés aux superviseurs"
            ).format(login=person.login)
        )
    return person


def scope_of(person: AgentInfo) -> Scope:
    """The whole network for CMA France and admins, else the supervisor's own chamber;
    Forbidden for an agent."""
    ensure_supervisor(person)
    if sees_all(person):
        return Scope(None, None)
    return Scope(person.chamber_id, person.chamber_code)


def chamber_scope(db: Database, person: AgentInfo, chamber_code: str | None) -> Scope:
    """The scope for a `--chamber CODE` filter asked by `person`.

    None keeps the person's own scope; a regional supervisor asking for another chamber is
    refused; an unknown code is NotFound naming the valid ones.
    """
    own = scope_of(person)
    if not chamber_code:
        return own
    code = chamber_code.strip().upper()
    with db.reading() as session:
        rows = dict(session.execute(select(Chamber.code, Chamber.id)).all())
    if code not in rows:
        raise NotFound(
            _("chambre inconnue : {code} (codes valides : {codes})").format(
                code=chamber_code, codes=", ".join(sorted(rows))
            )
        )
    if not own.national and code != own.chamber_code:
        raise Forbidden(
            _(
                "{login} supervise la chambre {own} : la chambre {code} n'est pas dans son périmètre"
            ).format(login=person.login, own=own.chamber_code, code=code)
        )
    if code == NATIONAL_CHAMBER and own.national:
        return own
    return Scope(rows[code], code)


def clean_siret(text: str) -> str:
    """The 14 digits of a SIRET as typed (spaces, dots, dashes allowed); InvalidInput else."""
    compact = re.sub(r"[\s.\-\u00a0\u202f]", "", text or "")
    # any 14 digits: a stored SIRET is looked up even if its check digit is wrong
    if not (compact.isascii() and compact.isdigit() and len(compact) == 14):
        raise InvalidInput(_("SIRET invalide : « {value} » (14 chiffres)").format(value=text))
    return compact


def business_in_scope(
    session: Session, person: AgentInfo, siret: str, *, lock: bool = False
) -> Any:
    """The business `siret` (an ORM row, for services only) if `person` supervises its chamber:
    NotFound for an unknown SIRET, Forbidden outside the person's scope or for an agent."""
    stmt = select(Business).where(Business.siret == clean_siret(siret))
    if lock:
        stmt = stmt.with_for_update()
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound(_("aucune entreprise avec le SIRET {siret}").format(siret=siret))
    scope = scope_of(person)
    if not scope.national and found.chamber_id != scope.chamber_id:
        raise Forbidden(
            _(
                "{login} supervise la chambre {own} : cette entreprise n'est pas dans son périmètre"
            ).format(login=person.login, own=scope.chamber_code)
        )
    return found
