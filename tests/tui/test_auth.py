"""PIN login: hashed PINs, a growing wait after repeated wrong PINs, audit rows (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from outreach.db.engine import Database
from outreach.db.models import Agent, AuditLog
from outreach.errors import Forbidden, InvalidInput
from outreach.services.auth import login_needs_pin, set_pin, verify_login
from outreach.services.login_delay import FREE
from tests.factories import make_agent

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _actions(db: Database) -> list[str]:
    with db.reading() as s:
        return list(s.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars())


def test_login_without_pin(db: Database) -> None:
    make_agent(db, "sans.pin")
    agent = verify_login(db, "  sans.pin ", None, now=T0)
    assert agent.login == "sans.pin" and not agent.has_pin
    assert not login_needs_pin(db, "sans.pin")
    assert login_needs_pin(db, "sans.pin", require_pin=True)
    assert login_needs_pin(db, "inconnu")  # says nothing about which logins exist
    with pytest.raises(Forbidden, match="obligatoire"):
        verify_login(db, "sans.pin", None, require_pin=True, now=T0)
    assert _actions(db) == ["login", "login_refused"]


def test_pin_is_hashed_and_checked(db: Database) -> None:
    make_agent(db, "avec.pin")
    set_pin(db, "avec.pin", "4821")
    with db.reading() as s:
        stored = s.execute(select(Agent.pin_hash).where(Agent.login == "avec.pin")).scalar_one()
    assert stored and "4821" not in stored and stored.startswith("$argon2")
    with pytest.raises(Forbidden, match="incorrect"):
        verify_login(db, "avec.pin", None, now=T0)
    with pytest.raises(Forbidden, match="incorrect"):
        verify_login(db, "avec.pin", "0000", now=T0)
    agent = verify_login(db, "avec.pin", "4821", require_pin=True, now=T0)
    assert agent.has_pin
    with db.reading() as s:
        assert s.execute(select(Agent.failed_pins).where(Agent.id == agent.id)).scalar_one() == 0
    with pytest.raises(Forbidden, match="incorrect"):
        verify_login(db, "personne", "4821", now=T0)
    with pytest.raises(InvalidInput, match="4 à 12 chiffres"):
        set_pin(db, "avec.pin", "12a4")


def test_wrong_pins_make_the_next_attempt_wait(db: Database) -> None:
    make_agent(db, "verrou")
    set_pin(db, "verrou", "135790")
    for _ in range(FREE - 1):
        with pytest.raises(Forbidden, match="incorrect$"):
            verify_login(db, "verrou", "999999", now=T0)
    with pytest.raises(Forbidden, match="incorrect ; prochain essai possible dans 15 s"):
        verify_login(db, "verrou", "999999", now=T0)
    # while it waits even the right PIN is refused (not checked)
    with pytest.raises(Forbidden, match="trop de tentatives erronées pour verrou"):
        verify_login(db, "verrou", "135790", now=T0 + timedelta(seconds=14))
    agent = verify_login(db, "verrou", "135790", now=T0 + timedelta(seconds=15))
    assert agent.login == "verrou"
    with db.reading() as s:
        rows = s.execute(select(AuditLog.action, AuditLog.entity).order_by(AuditLog.id)).all()
    on_agent = [a for a, entity in rows if entity == "agent"]
    assert on_agent.count("login_failed") == FREE
    assert on_agent[-2:] == ["login_refused", "login"]
