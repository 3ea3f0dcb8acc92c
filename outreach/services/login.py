"""The login screen's one call: a PIN on SQLite, the person's own password on PostgreSQL, and
wrong attempts limited per login (services.auth) and per remote address (services.throttle)."""

from __future__ import annotations

from datetime import datetime

from outreach.db.engine import Database
from outreach.errors import Forbidden
from outreach.i18n import _
from outreach.services import auth
from outreach.services.clock import to_db, utcnow
from outreach.services.throttle import AddressThrottle
from outreach.services.types import AgentInfo


def log_in(
    db: Database,
    login: str,
    secret: str | None,
    *,
    require_pin: bool = False,
    address: str | None = None,
    throttle: AddressThrottle | None = None,
    now: datetime | None = None,
) -> tuple[Database, AgentInfo]:
    """The database to work on and who logged in; Forbidden when refused. `address` is the
    browser's address when served (too many wrong attempts from it refuse it for a while)."""
    moment = to_db(now) if now else utcnow()
    throttle = throttle or AddressThrottle()
    if address:
        until = throttle.blocked_until(address, moment)
        if until is not None:
            raise Forbidden(
                _("trop de tentatives depuis cette adresse ; réessayez après {time} UTC").format(
                    time=until.strftime("%H:%M")
                )
            )
    try:
        if db.is_postgresql:
            from outreach.services.people import password_login

            return password_login(db, login, secret or "", now=now)
        return db, auth.verify_login(db, login, secret, require_pin=require_pin, now=now)
    except Forbidden:
        throttle.failed(address, moment)
        raise
