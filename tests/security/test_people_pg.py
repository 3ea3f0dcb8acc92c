"""PostgreSQL: one role per person, identity from the connection (real roles, real server)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import Agent, AuditLog
from outreach.errors import Forbidden
from outreach.services import people
from tests.security.conftest import Roles
from tests.supervision.builders import World, build_world

pytestmark = pytest.mark.postgresql


def run(url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--db", url, *args], obj=AppContext(), env=env or {})


def _audit(db: Database) -> list[tuple[int | None, str, dict | None]]:
    with db.reading() as s:
        return [
            (r.agent_id, r.action, r.detail)
            for r in s.execute(select(AuditLog).order_by(AuditLog.id)).scalars()
        ]


def _groups(db: Database, login: str) -> set[str]:
    with psycopg.connect(
        db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    ) as conn:
        rows = conn.execute(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
            (login,),
        ).fetchall()
    return {r[0] for r in rows}


def _stored_verifier(db: Database, login: str) -> tuple[bool, str]:
    with psycopg.connect(
        db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    ) as conn:
        row = conn.execute(
            "SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = %s", (login,)
        ).fetchone()
    assert row is not None
    return bool(row[0]), str(row[1])


def _verifier_matches(verifier: str, password: str) -> bool:
    """Whether a SCRAM-SHA-256 verifier was made from `password` (as the server checks it)."""
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored, _server = keys.split(":")
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return method == "SCRAM-SHA-256" and hashlib.sha256(client_key).digest() == base64.b64decode(
        stored
    )


def test_agent_add_makes_a_login_role_in_its_group(pg_db: Database, roles: Roles) -> None:
    url = pg_db.url.render_as_string(hide_password=False)
    login = roles.login("bre.agent1")
    roles.made.append(login)
    r = run(
        url,
        "agent",
        "add",
        login,
        "--name",
        "Anne Le Goff",
        "--chamber",
        "bre",
        env={"OUTREACH_NEW_PASSWORD": "un-secret-long"},
    )
    assert r.exit_code == 0, r.output
    assert "un-secret-long" not in r.output
    assert _groups(pg_db, login) == {"outreach_agent"}
    can_login, verifier = _stored_verifier(pg_db, login)
    assert can_login and _verifier_matches(verifier, "un-secret-long")
    # the person connects as themselves and is who the database says
    with roles.connect(login) as conn:
        assert conn.execute("SELECT session_user").fetchone() == (login,)
    assert people.connected_person(roles.database(login), None).login == login

    r = run(url, "agent", "set-password", login, env={"OUTREACH_NEW_PASSWORD": "autre-secret"})
    assert r.exit_code == 0, r.output
    assert _verifier_matches(_stored_verifier(pg_db, login)[1], "autre-secret")
    r = run(url, "agent", "set-password", login, env={"OUTREACH_NEW_PASSWORD": "court"})
    assert r.exit_code != 0 and "trop court" in r.output

    # a login that is not a plain name is refused before anything is made
    r = run(
        url,
        "agent",
        "add",
        'x"; DROP TABLE calls; --',
        "--name",
        "X",
        "--chamber",
        "BRE",
        env={"OUTREACH_NEW_PASSWORD": "un-secret-long"},
    )
    assert r.exit_code != 0 and "identifiant invalide" in r.output
    actions = [a for _i, a, _d in _audit(pg_db)]
    assert actions == ["agent.add", "agent.password"]
    assert all("secret" not in str(d) for _i, _a, d in _audit(pg_db))


def test_disabled_person_cannot_connect(pg_db: Database, roles: Roles) -> None:
    roles.add("bre.agent2", "BRE")
    admin = roles.add("cmaf.admin", "CMAF", "admin")
    login = roles.login("bre.agent2")
    with roles.connect(login):
        pass
    r = run(roles.url(admin.login), "agent", "disable", login)
    assert r.exit_code == 0, r.output
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        roles.connect(login)
    with pg_db.reading() as s:
        assert s.scalar(select(Agent.active).where(Agent.login == login)) is False
    # an agent cannot disable anyone
    other = roles.add("bre.agent3", "BRE")
    r = run(roles.url(other.login), "agent", "disable", admin.login)
    assert r.exit_code != 0 and "pas administrateur" in r.output
    with roles.connect(admin.login):
        pass


def test_as_someone_else_is_refused_and_writes_nothing(
    pg_db: Database, roles: Roles, tmp_path: Path
) -> None:
    build_world(pg_db)
    bre = roles.add("bre.superviseur", "BRE", "supervisor")
    national = roles.add("cmaf.superviseur", "CMAF", "supervisor")
    before = _audit(pg_db)
    out = tmp_path / "appels.csv"
    r = run(roles.url(bre.login), "export", "calls", "--out", str(out), "--as", national.login)
    assert r.exit_code != 0 and "refusé" in r.output, r.output
    assert not out.exists() and _audit(pg_db) == before
    # OUTREACH_AS is no way round it either
    r = run(roles.url(bre.login), "rollup", env={"OUTREACH_AS": national.login})
    assert r.exit_code != 0 and "refusé" in r.output
    # as themselves (no --as needed) they export their own chamber
    r = run(roles.url(bre.login), "export", "calls", "--out", str(out))
    assert r.exit_code == 0, r.output
    who = [(i, a) for i, a, _d in _audit(pg_db)][-1]
    assert who == (bre.id, "export")


def test_admin_acting_as_someone_is_audited(pg_db: Database, roles: Roles, world_pg: World) -> None:
    admin = roles.add("cmaf.admin", "CMAF", "admin")
    r = run(roles.url(admin.login), "rollup", "--as", "sup_bre")
    assert r.exit_code == 0, r.output
    acted = [(i, a, d) for i, a, d in _audit(pg_db) if a == "act_as"]
    assert acted == [(admin.id, "act_as", {"admin": admin.login, "acting_as": "sup_bre"})]


def test_a_role_that_is_no_person_is_refused(pg_db: Database, roles: Roles) -> None:
    stranger = roles.login("inconnu")
    roles.made.append(stranger)
    quoted = '"' + stranger + '"'
    with psycopg.connect(
        pg_db.url.set(drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
    ) as conn:
        conn.execute(f"CREATE ROLE {quoted} LOGIN IN ROLE outreach_supervisor")
    with pytest.raises(Forbidden, match="aucune personne"):
        people.connected_person(roles.database(stranger), "sup_nat")


@pytest.fixture
def world_pg(pg_db: Database) -> World:
    return build_world(pg_db)


def test_demo_people_get_roles_with_the_demo_password(pg_db: Database, roles: Roles) -> None:
    from tests.factories import make_agent

    logins = [roles.login("idf.agent1"), roles.login("idf.superviseur")]
    roles.made.extend(logins)
    make_agent(pg_db, logins[0], chamber="IDF")
    make_agent(pg_db, logins[1], chamber="IDF", role="supervisor")
    assert people.give_roles(pg_db, people.DEMO_PASSWORD, logins) == 2
    assert _groups(pg_db, logins[0]) == {"outreach_agent"}
    assert _groups(pg_db, logins[1]) == {"outreach_supervisor"}
    assert _verifier_matches(_stored_verifier(pg_db, logins[1])[1], people.DEMO_PASSWORD)
