"""Wrong logins make the login and the source wait (progressive, capped, in the database): the
login screen, the served login and the PostgreSQL password login share one rule; secrets never
echoed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import Agent, AuditLog
from outreach.errors import Forbidden
from outreach.services.auth import set_pin
from outreach.services.login import log_in
from outreach.services.login_delay import (
    BASE,
    FREE,
    LOGIN_CAP,
    SOURCE_CAP,
    delay_after,
    source_of,
)
from tests.factories import make_agent
from tests.security.conftest import Roles

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_the_delay_doubles_and_is_capped() -> None:
    assert [delay_after(n, LOGIN_CAP) for n in range(FREE)] == [timedelta(0)] * FREE
    steps = [delay_after(n, LOGIN_CAP) for n in range(FREE, FREE + 12)]
    assert steps[:4] == [BASE, BASE * 2, BASE * 4, BASE * 8]
    assert all(b == min(2 * a, LOGIN_CAP) for a, b in zip(steps, steps[1:], strict=False))
    assert max(steps) == LOGIN_CAP and delay_after(10_000, SOURCE_CAP) == SOURCE_CAP
    # at the cap, about a hundred guesses a day for a login (the lockout allowed 480)
    assert timedelta(days=1) / LOGIN_CAP <= 100


def test_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    assert source_of("203.0.113.9") == "addr:203.0.113.9"
    monkeypatch.setenv("OUTREACH_REMOTE_ADDRESS", "198.51.100.7")
    assert source_of() == "addr:198.51.100.7"  # a served session (set by outreach serve)
    monkeypatch.delenv("OUTREACH_REMOTE_ADDRESS")
    assert source_of().startswith(("tty:", "local:"))  # a terminal, or a script's user


def _until(db: Database, login: str) -> datetime | None:
    with db.reading() as s:
        return s.scalar(select(Agent.locked_until).where(Agent.login == login))


def test_one_address_trying_many_logins_waits(sqlite_db: Database) -> None:
    db = sqlite_db  # PINs; PostgreSQL's passwords: test_wrong_passwords_make_the_login_wait
    make_agent(db, "vraie.personne")
    set_pin(db, "vraie.personne", "4826")
    at = T0
    for i in range(FREE + 2):  # a new login each time: only the address is counted
        with pytest.raises(Forbidden, match="incorrect") as refused:
            log_in(db, f"devine{i}", "0000", address="203.0.113.9", now=at)
        at += delay_after(i + 1, SOURCE_CAP)
    assert "prochain essai possible dans 1 min" in str(refused.value)  # 15 s, 30 s, 1 min
    with pytest.raises(Forbidden, match="trop de tentatives erronées depuis ce poste"):
        log_in(db, "vraie.personne", "4826", address="203.0.113.9", now=at - timedelta(seconds=1))
    # another address is not slowed, and the person's login never was
    _db, agent = log_in(db, "vraie.personne", "4826", address="198.51.100.7", now=T0)
    assert agent.login == "vraie.personne" and _until(db, "vraie.personne") is None
    # the address may try again when its wait is over
    with pytest.raises(Forbidden, match="incorrect"):
        log_in(db, "devine", "0000", address="203.0.113.9", now=at)
    # no PIN ever reaches the audit trail
    with db.reading() as s:
        details = [str(d) for d in s.scalars(select(AuditLog.detail))]
    assert not any("4826" in d or "0000" in d for d in details)


def test_guessing_a_known_login_from_many_addresses_waits_but_never_locks_it_for_good(
    sqlite_db: Database,
) -> None:
    db = sqlite_db
    make_agent(db, "cible")
    set_pin(db, "cible", "7319")
    at, addresses = T0, iter(f"203.0.113.{n}" for n in range(1, 200))
    for _ in range(40):  # an attacker as fast as the waits allow, a new address each time
        with pytest.raises(Forbidden, match="incorrect"):
            log_in(db, "cible", "0000", address=next(addresses), now=at)
        until = _until(db, "cible")
        assert until is not None or _ < FREE
        at = until.replace(tzinfo=UTC) if until else at
    # 40 guesses took hours, not minutes; and each wait is at most LOGIN_CAP
    assert at - T0 >= timedelta(hours=6)
    until = _until(db, "cible")
    assert until is not None and until.replace(tzinfo=UTC) - at <= LOGIN_CAP
    # the person, when the wait is over, logs in at once (from their own terminal), and that
    # starts the count again: the attacker cannot reset it, only the right PIN does
    _db, agent = log_in(db, "cible", "7319", now=at)
    assert agent.login == "cible" and _until(db, "cible") is None


@pytest.mark.postgresql
def test_wrong_passwords_make_the_login_wait(pg_db: Database, roles: Roles) -> None:
    # a person whose role cannot log in: every password is wrong (the test server trusts
    # every password of a role that may log in)
    person = roles.add("bre.agent1", "BRE")
    from outreach.services.people import disable_person

    disable_person(pg_db, None, person.login)
    for n in range(1, FREE):
        with pytest.raises(Forbidden, match="identifiant ou mot de passe incorrect$"):
            log_in(pg_db, person.login, "faux-secret", address=f"203.0.113.{n}", now=T0)
    with pytest.raises(Forbidden, match="incorrect ; prochain essai possible dans 15 s"):
        log_in(pg_db, person.login, "faux-secret", address="203.0.113.50", now=T0)
    with pytest.raises(Forbidden, match=f"trop de tentatives erronées pour {person.login} :"):
        log_in(pg_db, person.login, "faux-secret", address="203.0.113.51", now=T0)
    with pg_db.reading() as s:
        assert s.scalar(select(Agent.locked_until).where(Agent.login == person.login))
        details = [str(d) for d in s.scalars(select(AuditLog.detail))]
    assert not any("faux-secret" in d for d in details)
    # one address trying several logins waits too (an unknown one counts for the address)
    for n in range(FREE):
        with pytest.raises(Forbidden, match="incorrect"):
            log_in(pg_db, f"inconnu{n}", "x", address="198.51.100.9", now=T0)
    with pytest.raises(Forbidden, match="depuis ce poste"):
        log_in(pg_db, "inconnu9", "x", address="198.51.100.9", now=T0)


@pytest.mark.postgresql
def test_serving_other_hosts_with_a_persons_url_is_refused(pg_db: Database, roles: Roles) -> None:
    person = roles.add("bre.superviseur", "BRE", "supervisor")
    r = CliRunner().invoke(
        cli,
        ["--db", roles.url(person.login), "serve", "--host", "0.0.0.0"],
        obj=AppContext(),
    )
    assert r.exit_code != 0 and "rôle d'une personne" in r.output
    assert "mot-de-passe-de-test" not in r.output


def test_a_password_in_a_bad_url_is_not_echoed() -> None:
    r = CliRunner().invoke(
        cli,
        ["--db", "postgresql+nope://bre.agent1:s3cr3t-42@db/x", "db", "current"],
        obj=AppContext(),
    )
    assert r.exit_code != 0 and "s3cr3t-42" not in r.output
    r = CliRunner().invoke(
        cli, ["--db", "://bre.agent1:s3cr3t-42@db/x", "db", "current"], obj=AppContext()
    )
    assert r.exit_code != 0 and "s3cr3t-42" not in r.output, r.output


@pytest.mark.postgresql
def test_clearing_a_pin_takes_a_supervisors_role(pg_db: Database, roles: Roles) -> None:
    """On PostgreSQL the connected role proves who clears a PIN: an agent cannot, even their
    own; a supervisor of the chamber can, audited in their name."""
    agent = roles.add("bre.agent1", "BRE")
    sup = roles.add("bre.superviseur", "BRE", "supervisor")
    set_pin(pg_db, agent.login, "4826")

    def run(login: str, *args: str) -> str:
        r = CliRunner().invoke(cli, ["--db", roles.url(login), *args], obj=AppContext(), env={})
        return f"{r.exit_code}:{r.output}"

    out = run(agent.login, "set-pin", agent.login, "--clear")
    assert out.startswith("1:") and "réservé à un superviseur" in out, out
    with pg_db.reading() as s:
        assert s.scalar(select(Agent.has_pin).where(Agent.login == agent.login))
    out = run(sup.login, "set-pin", agent.login, "--clear")
    assert out.startswith("0:") and f"code PIN retiré pour {agent.login}" in out, out
    with pg_db.reading() as s:
        assert not s.scalar(select(Agent.has_pin).where(Agent.login == agent.login))
        audit = s.execute(
            select(AuditLog.agent_id, AuditLog.entity_id).where(AuditLog.action == "clear_pin")
        ).all()
    assert audit == [(sup.id, str(agent.id))]
