"""People on PostgreSQL: one database role per person, and who is connected.

Each person (a row of `agents`) has a PostgreSQL role of the same name (quoted: logins contain
dots), member of one group role: outreach_agent, outreach_supervisor or outreach_admin (created
with their grants and row-level security by the migrations). The acting person is the connected
role (`session_user`), never a name typed on the command line.

The database's owner (or a superuser) is the installation's account, not a person: it sets the
database up and may act as anyone with `--as`, as the owner of a database can anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import Agent, Chamber
from outreach.db.security import GROUP_OF_ROLE
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.agents import get_agent, load_agent
from outreach.services.audit import record_audit
from outreach.services.clock import to_db, utcnow
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


LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
MIN_PASSWORD = 8
_RESERVED = ("pg_", "outreach_")


def connected_role(db: Database) -> str:
    with db.reading() as session:
        return str(session.scalar(text("SELECT session_user")))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scram_verifier(password: str, *, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password`, made here so the password
    itself never reaches the server (nor its logs, nor pg_stat_activity)."""
    salt = os.urandom(16)
    normalised = unicodedata.normalize("NFKC", password).encode()
    salted = hashlib.pbkdf2_hmac("sha256", normalised, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}$"
        f"{b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            _("mot de passe trop court : {n} caractères au moins").format(n=MIN_PASSWORD)
        )


def connected_or_owner(db: Database) -> AgentInfo | None:
    """PostgreSQL: the connected person, or None for the database owner (or a superuser)."""
    with db.reading() as session:
        role = str(session.scalar(text("SELECT session_user")))
        known = session.scalar(select(Agent.id).where(Agent.login == role))
        if known is None and session.scalar(_OWNER):
            return None
    return connected_person(db, None)


def acting_admin(
    db: Database, as_login: str | None, pin: Callable[[str], str | None]
) -> AgentInfo | None:
    """Who manages people: on PostgreSQL the database owner (None) or a connected admin; on
    SQLite an admin proven by --as and PIN, or anyone while the database has no admin yet."""
    if db.is_postgresql:
        found = connected_or_owner(db)
        if found is None:
            return None
        person = found
    else:
        with db.reading() as session:
            has_admin = session.scalar(select(Agent.id).where(Agent.role == "admin").limit(1))
        if has_admin is None and not (as_login or os.environ.get(ENV_AS)):
            return None
        from outreach.services.access import acting_person

        person = acting_person(db, as_login, pin)
    if person.role != "admin":
        raise Forbidden(
            _(
                "{login} n'est pas administrateur : seuls les administrateurs gèrent les personnes"
            ).format(login=person.login)
        )
    return person


def add_person(
    db: Database,
    actor: AgentInfo | None,
    login: str,
    name: str,
    chamber_code: str,
    role: str,
    password: str | None,
) -> AgentInfo:
    """A new person: the `agents` row and, on PostgreSQL, a login role of the same name in the
    group of `role` (an existing role of that name, say from another database of the server,
    is given the password and the group). One transaction: all of it or nothing."""
    login = login.strip()
    if not LOGIN_PATTERN.match(login) or login.startswith(_RESERVED):
        raise InvalidInput(
            _(
                "identifiant invalide : « {login} » (minuscules, chiffres, « . », « _ », « - » ; "
                "63 caractères au plus ; ni pg_ ni outreach_ au début)"
            ).format(login=login)
        )
    if role not in GROUP_OF_ROLE:
        raise InvalidInput(_("rôle inconnu : {role} (agent, supervisor, admin)").format(role=role))
    if db.is_postgresql:
        if not password:
            raise InvalidInput(_("un mot de passe est nécessaire sur PostgreSQL"))
        _check_password(password)
    with db.writing() as session:
        code = chamber_code.strip().upper()
        chamber = session.scalar(select(Chamber.id).where(Chamber.code == code))
        if chamber is None:
            raise NotFound(_("chambre inconnue : {code}").format(code=chamber_code))
        if session.scalar(select(Agent.id).where(Agent.login == login)) is not None:
            raise InvalidInput(_("{login} existe déjà").format(login=login))
        new_id = session.execute(
            insert(Agent)
            .values(
                login=login,
                name=name.strip() or login,
                chamber_id=chamber,
                role=role,
                created_at=utcnow(),
            )
            .returning(Agent.id)
        ).scalar_one()
        if db.is_postgresql:
            assert password is not None
            _database_role(session, login, role, password)
        record_audit(
            session,
            agent_id=actor.id if actor else None,
            action="agent.add",
            entity="agent",
            entity_id=new_id,
            detail={"login": login, "role": role, "chamber": code},
        )
        return load_agent(session, new_id)


def _database_role(session: Session, login: str, role: str, password: str) -> None:
    quoted = _quote(login)
    verifier = scram_verifier(password)
    exists = session.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": login})
    extra = " CREATEROLE" if role == "admin" else " NOCREATEROLE"
    verb = "ALTER" if exists else "CREATE"
    _ddl(session, f"{verb} ROLE {quoted} LOGIN{extra} PASSWORD '{verifier}'")
    for group in GROUP_OF_ROLE.values():
        if group != GROUP_OF_ROLE[role]:
            _ddl(session, f"REVOKE {group} FROM {quoted}")
    _ddl(session, f"GRANT {GROUP_OF_ROLE[role]} TO {quoted}")


def _ddl(session: Session, statement: str) -> None:
    """A role statement (no bind parameters: a SCRAM verifier holds ':' and '$')."""
    session.connection().exec_driver_sql(statement)


def _person(session: Session, login: str) -> AgentInfo:
    found = session.scalar(select(Agent.id).where(Agent.login == login.strip()))
    if found is None:
        raise NotFound(_("agent inconnu : « {login} »").format(login=login.strip()))
    return load_agent(session, found)


def set_password(db: Database, actor: AgentInfo | None, login: str, password: str) -> None:
    """Give `login`'s database role a new password (PostgreSQL; admins, or the person)."""
    if not db.is_postgresql:
        raise InvalidInput(
            _("sur SQLite il n'y a pas de mot de passe : outreach set-pin LOGIN donne un code PIN")
        )
    _check_password(password)
    with db.writing() as session:
        person = _person(session, login)
        if actor is not None and actor.role != "admin" and actor.id != person.id:
            raise Forbidden(
                _("{actor} ne peut pas changer le mot de passe de {login}").format(
                    actor=actor.login, login=person.login
                )
            )
        verifier = scram_verifier(password)
        _ddl(session, f"ALTER ROLE {_quote(person.login)} PASSWORD '{verifier}'")
        record_audit(
            session,
            agent_id=actor.id if actor else None,
            action="agent.password",
            entity="agent",
            entity_id=person.id,
        )


@dataclass(frozen=True, slots=True)
class Disabled:
    """What disabling a person ended: their live sessions, the tasks they held (back in the
    queue), the referrals they held in the follow-up worklist, the state they were in (None:
    logged out already)."""

    sessions: int
    tasks: tuple[int, ...]
    state: str | None
    referrals: tuple[int, ...] = ()


def disable_person(
    db: Database, actor: AgentInfo | None, login: str, now: datetime | None = None
) -> Disabled:
    """`login` may no longer log in, in one transaction (audited): the row is inactive and, on
    PostgreSQL, the role loses LOGIN; their live sessions end (their apps stop at the next
    heartbeat), their state becomes logged_out and the tasks they hold go back to the queue
    at once. A connection of theirs still open sees nothing more: the row-level policies know
    only active people."""
    from outreach.services.agent_states import log_out
    from outreach.services.followup import release_all_referrals
    from outreach.services.queue.claim import release_all
    from outreach.services.sessions import end_all

    at = to_db(now) if now is not None else utcnow()
    with db.writing() as session:
        person = _person(session, login)
        session.execute(update(Agent).where(Agent.id == person.id).values(active=False))
        if db.is_postgresql:
            exists = session.scalar(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": person.login}
            )
            if exists:
                _ddl(session, f"ALTER ROLE {_quote(person.login)} NOLOGIN")
        done = Disabled(
            sessions=end_all(session, person.id, at),
            tasks=tuple(release_all(session, person.id, at)),
            state=log_out(session, person.id, at),
            referrals=tuple(release_all_referrals(session, person.id)),
        )
        record_audit(
            session,
            agent_id=actor.id if actor else None,
            action="agent.disable",
            entity="agent",
            entity_id=person.id,
            detail={
                "sessions_ended": done.sessions,
                "tasks_released": list(done.tasks),
                "referrals_released": list(done.referrals),
                "state": done.state,
            },
            at=at,
        )
    return done


def password_login(
    db: Database,
    login: str,
    password: str,
    now: datetime | None = None,
    source: str | None = None,
) -> tuple[Database, AgentInfo]:
    """Connect as `login` with `password` (PostgreSQL): the person's own `Database` and who
    they are. Forbidden, with one message whatever was wrong (unknown login, wrong password,
    disabled), so the screen does not tell which logins exist. Started with the owner's URL
    (the app served to other hosts), wrong passwords make the login and the source wait, as
    wrong PINs do (services.login_delay)."""
    from sqlalchemy.exc import OperationalError

    from outreach.db.engine import open_database
    from outreach.services import login_delay
    from outreach.services.auth import wrong_then

    moment = to_db(now) if now else utcnow()
    source = source or login_delay.source_of()
    wrong = _("identifiant ou mot de passe incorrect")
    login = login.strip()
    if not LOGIN_PATTERN.match(login) or not password:
        raise Forbidden(wrong)
    owner = connected_or_owner(db) is None
    if owner:
        with db.writing() as session:
            found = session.scalar(select(Agent).where(Agent.login == login))
            waiting = login_delay.refusal(session, found, source, moment)
        if waiting is not None:
            raise Forbidden(waiting)
    own = open_database(db.url.set(username=login, password=password))
    try:
        person = connected_person(own, None)
    except (OperationalError, Forbidden):
        own.dispose()
        later = None
        if owner:
            with db.writing() as session:
                found = session.scalar(select(Agent).where(Agent.login == login).with_for_update())
                later = login_delay.failed(session, found, login, source, moment)
        raise Forbidden(wrong_then(wrong, later)) from None
    if owner:
        with db.writing() as session:
            found = session.scalar(select(Agent).where(Agent.login == login).with_for_update())
            if found is not None:
                login_delay.succeeded(session, found, source, moment)
    return own, person


DEMO_PASSWORD = "demo-outreach"  # documented in the README: demo databases only


def give_roles(db: Database, password: str, logins: list[str] | None = None) -> int:
    """PostgreSQL: a login role with `password` for every active person (or those of
    `logins`) in their role's group; the number of roles made or updated. The demo seed uses
    it with DEMO_PASSWORD so that every demo person can log in as themselves."""
    if not db.is_postgresql:
        return 0
    _check_password(password)
    with db.writing() as session:
        query = select(Agent.login, Agent.role).where(Agent.active)
        if logins is not None:
            query = query.where(Agent.login.in_(logins))
        rows = session.execute(query.order_by(Agent.login)).all()
        for login, role in rows:
            if LOGIN_PATTERN.match(login) and not login.startswith(_RESERVED):
                _database_role(session, login, role, password)
        return len(rows)
