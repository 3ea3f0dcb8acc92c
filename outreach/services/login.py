"""The login screen's one call: a PIN on SQLite, the person's own password on PostgreSQL; wrong
attempts make the login and the source wait (services.login_delay), wherever they come from."""

from __future__ import annotations

from datetime import datetime

from outreach.db.engine import Database
from outreach.services import auth, login_delay
from outreach.services.types import AgentInfo


def log_in(
    db: Database,
    login: str,
    secret: str | None,
    *,
    require_pin: bool = False,
    address: str | None = None,
    now: datetime | None = None,
) -> tuple[Database, AgentInfo]:
    """The database to work on and who logged in; Forbidden when refused. `address` is the
    browser's address when served (the source of the attempt; else the terminal)."""
    source = login_delay.source_of(address)
    if db.is_postgresql:
        from outreach.services.people import password_login

        return password_login(db, login, secret or "", now=now, source=source)
    return db, auth.verify_login(db, login, secret, require_pin=require_pin, now=now, source=source)
