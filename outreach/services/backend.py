"""The one handle the agents' app has on the services: `Backend` holds the database (the UI never
names it) and runs a service function on it.

Every service takes the database first; `backend.call(queue.claim_next, agent_id, ...)` is
`queue.claim_next(db, agent_id, ...)`, type-checked through `Concatenate`, so the UI calls the
same functions as the CLI without a forwarding method per service (and without importing more
modules at start than the screens already do).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from outreach.db.engine import Database
from outreach.services.types import AgentInfo

P = ParamSpec("P")
R = TypeVar("R")


class Backend:
    def __init__(self, db: Database) -> None:
        self._db = db  # on PostgreSQL, the logged-in person's own connection once logged in
        self._login_db = db  # what the app was started on: the login works on it

    @property
    def is_postgresql(self) -> bool:
        return self._db.is_postgresql

    def call(self, fn: Callable[Concatenate[Database, P], R], *args: P.args, **kw: P.kwargs) -> R:
        """`fn(db, *args, **kw)` on the current database."""
        return fn(self._db, *args, **kw)

    def log_in(
        self,
        login: str,
        secret: str | None,
        *,
        require_pin: bool = False,
        address: str | None = None,
        now: datetime | None = None,
    ) -> AgentInfo:
        """Who logged in (Forbidden when refused); from now on the services run on that person's
        own connection (PostgreSQL: their role)."""
        from outreach.services.login import log_in

        self._db, agent = log_in(
            self._login_db, login, secret, require_pin=require_pin, address=address, now=now
        )
        return agent
