"""Wrong logins limited per login and per address; secrets never echoed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import Agent, AuditLog
from outreach.errors import Forbidden
from outreach.services.auth import MAX_FAILED_PINS, set_pin
from outreach.services.login import log_in
from outreach.services.throttle import MAX_PER_ADDRESS, WINDOW, AddressThrottle
from tests.factories import make_agent
from tests.security.conftest import Roles

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_address_throttle_counts_failures_per_address(tmp_path: Path) -> None:
    throttle = AddressThrottle(tmp_path / "f.json")
    for i in range(MAX_PER_ADDRESS):
        assert throttle.blocked_until("203.0.113.9", T0) is None
        throttle.failed("203.0.113.9", T0 + timedelta(seconds=i))
    until = throttle.blocked_until("203.0.113.9", T0 + timedelta(minutes=1))
    assert until is not None and until == T0 + WINDOW
    assert throttle.blocked_until("198.51.100.7", T0) is None
    assert throttle.blocked_until("203.0.113.9", T0 + WINDOW + timedelta(seconds=30)) is None
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == 0o600


def test_one_address_trying_many_logins_is_stopped(sqlite_db: Database, tmp_path: Path) -> None:
    make_agent(sqlite_db, "vraie.personne")
    set_pin(sqlite_db, "vraie.personne", "4826")
    throttle = AddressThrottle(tmp_path / "f.json")
    for i in range(MAX_PER_ADDRESS):
        with pytest.raises(Forbidden, match="incorrect"):
            log_in(
                sqlite_db, f"devine{i}", "0000", address="203.0.113.9", throttle=throttle, now=T0
            )
    with pytest.raises(Forbidden, match="trop de tentatives depuis cette adresse"):
        log_in(
            sqlite_db, "vraie.personne", "4826", address="203.0.113.9", throttle=throttle, now=T0
        )
    _db, agent = log_in(
        sqlite_db, "vraie.personne", "4826", address="198.51.100.7", throttle=throttle, now=T0
    )
    assert agent.login == "vraie.personne"
    # no PIN ever reaches the audit trail
    with sqlite_db.reading() as s:
        details = [str(d) for d in s.scalars(select(AuditLog.detail))]
    assert not any("4826" in d or "0000" in d for d in details)


@pytest.mark.postgresql
def test_wrong_passwords_lock_the_login(pg_db: Database, roles: Roles, tmp_path: Path) -> None:
    # a person whose role cannot log in: every password is wrong (the test server trusts
    # every password of a role that may log in)
    person = roles.add("bre.agent1", "BRE")
    from outreach.services.people import disable_person

    disable_person(pg_db, None, person.login)
    throttle = AddressThrottle(tmp_path / "f.json")
    for _ in range(MAX_FAILED_PINS - 1):
        with pytest.raises(Forbidden, match="identifiant ou mot de passe incorrect"):
            log_in(pg_db, person.login, "faux-secret", throttle=throttle, now=T0)
    with pytest.raises(Forbidden, match="verrouillé"):
        log_in(pg_db, person.login, "faux-secret", throttle=throttle, now=T0)
    with pg_db.reading() as s:
        assert s.scalar(select(Agent.locked_until).where(Agent.login == person.login))
        details = [str(d) for d in s.scalars(select(AuditLog.detail))]
    assert not any("faux-secret" in d for d in details)


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
