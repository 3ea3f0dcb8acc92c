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
from outreach.services.access import ENV_AS, acting_person, ensure_supervisor
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


ENV_PIN = "OUTREACH_PIN"


def typed_pin(login: str) -> str | None:
    """The PIN of `login`: OUTREACH_PIN for scripts, else typed (hidden) on a terminal; never
    an option, so it shows in no process list or shell history."""
    pin = os.environ.get(ENV_PIN, "").strip()
    if pin:
        return pin
    if not sys.stdin.isatty():
        return None
    typed: str = click.prompt(
        _("Code PIN de {login}").format(login=login),
        hide_input=True,
        default="",
        show_default=False,
        err=True,
    )
    return typed.strip() or None


def acting(
    app: AppContext, as_login: str | None, *, default: str | None = None
) -> tuple[Database, AgentInfo]:
    """The database and the person acting, proven (the connected role on PostgreSQL; `--as`
    or OUTREACH_AS and their PIN on SQLite)."""
    db = app.database()
    if (
        not db.is_postgresql
        and not (as_login or os.environ.get(ENV_AS, "").strip() or default)
        and sys.stdin.isatty()
    ):
        as_login = click.prompt(_("Superviseur qui agit (identifiant)")).strip()
    return db, acting_person(db, as_login, typed_pin, default=default)


def acting_login(app: AppContext, as_login: str | None) -> tuple[Database, str]:
    """`acting`, for the services that take the acting person's login (gdpr, dnc)."""
    db, person = acting(app, as_login)
    return db, person.login


def acting_supervisor(app: AppContext, as_login: str | None) -> tuple[Database, AgentInfo]:
    """The database and the supervisor acting (see `acting`); refused for an agent."""
    db, person = acting(app, as_login)
    return db, ensure_supervisor(person)


def on_terminal() -> bool:
    return sys.stderr.isatty()
