"""Options shared by the supervisors' commands: `--as LOGIN` and the acting supervisor."""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

import click

from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.i18n import N_, _
from outreach.services.access import ENV_AS, ensure_supervisor, identity, require_supervisor
from outreach.services.selection import CallFilter
from outreach.services.types import AgentInfo


def as_option(fn: Any) -> Any:
    """`--as LOGIN`: who is acting (else OUTREACH_AS)."""
    return click.option(
        "--as",
        "as_login",
        metavar="LOGIN",
        help=N_("Superviseur qui agit (sinon la variable OUTREACH_AS)."),
    )(fn)


def call_filter_options(fn: Any) -> Any:
    """`--lockdown --chamber --campaign --since --until`, handed to the command as one
    `filters: CallFilter` argument (the same selection for roll-ups and exports)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["filters"] = CallFilter(
            *(kwargs.pop(name) for name in ("lockdown", "chamber", "campaign", "since", "until"))
        )
        return fn(*args, **kwargs)

    options = (
        click.option(
            "--lockdown", metavar="NOM", help=N_("Seulement ce confinement (ex. confinement-2).")
        ),
        click.option("--chamber", metavar="CODE", help=N_("Seulement cette chambre (ex. BRE).")),
        click.option("--campaign", metavar="NOM", help=N_("Seulement cette campagne.")),
        click.option(
            "--since", metavar="AAAA-MM-JJ", help=N_("Appels à partir de ce jour (heure de Paris).")
        ),
        click.option("--until", metavar="AAAA-MM-JJ", help=N_("Appels jusqu'à ce jour inclus.")),
    )
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def acting_supervisor(app: AppContext, as_login: str | None) -> tuple[Database, AgentInfo]:
    """The database and the supervisor acting: `--as`, else OUTREACH_AS, else (in a terminal)
    asked for, with the PIN when that login has one; refused for an agent."""
    db = app.database()
    if as_login or os.environ.get(ENV_AS, "").strip() or not sys.stdin.isatty():
        return db, require_supervisor(db, identity(as_login))
    from outreach.services.auth import login_needs_pin, verify_login

    login = click.prompt(_("Superviseur qui agit (identifiant)")).strip()
    pin = None
    if login_needs_pin(db, login):
        pin = click.prompt(_("Code PIN de {login}").format(login=login), hide_input=True)
    return db, ensure_supervisor(verify_login(db, login, pin))


def on_terminal() -> bool:
    return sys.stderr.isatty()
