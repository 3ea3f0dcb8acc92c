"""Options shared by the supervisors' commands: `--as LOGIN` and the acting supervisor."""

from __future__ import annotations

import sys
from typing import Any

import click

from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.i18n import _
from outreach.services.access import identity, require_supervisor
from outreach.services.types import AgentInfo


def as_option(fn: Any) -> Any:
    """`--as LOGIN`: who is acting (else OUTREACH_AS)."""
    return click.option(
        "--as",
        "as_login",
        metavar="LOGIN",
        help=_("Superviseur qui agit (sinon la variable OUTREACH_AS)."),
    )(fn)


def acting_supervisor(app: AppContext, as_login: str | None) -> tuple[Database, AgentInfo]:
    """The database and the supervisor acting: `--as`, else OUTREACH_AS; refused for an agent."""
    db = app.database()
    return db, require_supervisor(db, identity(as_login))


def on_terminal() -> bool:
    return sys.stderr.isatty()
