"""PIN login: hashed PINs, lockout after repeated wrong PINs, audit rows (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from outreach.db.engine import Database
from outreach.db.models import Agent, AuditLog
from outreach.errors import Forbidden, InvalidInput
from outreach.services.auth import MAX_FAILED_PINS, login_needs_pin, set_pin, verify_login
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


def test_lockout_after_repeated_wrong_pins(db: Database) -> None:
    make_agent(db, "verrou")
    set_pin(db, "verrou", "135790")
    for _ in range(MAX_FAILED_PINS - 1):
        with pytest.raises(Forbidden, match="incorrect"):
            verify_login(db, "verrou", "999999", now=T0)
    with pytest.raises(Forbidden, match="verrouillé"):
        verify_login(db, "verrou", "999999", now=T0)
    # even the right PIN is refused while locked
    with pytest.raises(Forbidden, match="verrouillé"):
        verify_login(db, "verrou", "135790", now=T0 + timedelta(minutes=5))
    agent = verify_login(db, "verrou", "135790", now=T0 + timedelta(minutes=16))
    assert agent.login == "verrou"
    actions = _actions(db)
    assert actions.count("login_failed") == MAX_FAILED_PINS - 1
    assert actions[-3:] == ["login_locked", "login_refused", "login"]
