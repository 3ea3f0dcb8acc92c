"""`outreach agent add|set-password|disable`: the people who use outreach (admins).

On PostgreSQL each person is also a database role of the same name, with its own password:
the person connects as themselves and the database knows who acts.
"""

from __future__ import annotations

import os
import sys

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.cli.supervision import as_option, typed_pin
from outreach.errors import InvalidInput
from outreach.i18n import N_, _
from outreach.services import people

ENV_NEW_PASSWORD = "OUTREACH_NEW_PASSWORD"


def _new_password(login: str) -> str:
    """Typed twice (hidden), or OUTREACH_NEW_PASSWORD for scripts; never an option."""
    password = os.environ.get(ENV_NEW_PASSWORD, "")
    if password:
        return password
    if not sys.stdin.isatty():
        raise InvalidInput(
            _("mot de passe de {login} : tapez-le, ou mettez-le dans {env}").format(
                login=login, env=ENV_NEW_PASSWORD
            )
        )
    typed: str = click.prompt(
        _("Mot de passe de {login}").format(login=login),
        hide_input=True,
        confirmation_prompt=True,
        err=True,
    )
    return typed


@cli.group(
    "agent", help=N_("Les personnes : ajout, mot de passe, désactivation (administrateurs).")
)
def agent_group() -> None:
    pass


@agent_group.command(
    "add",
    help=N_(
        "Ajoute une personne ; sur PostgreSQL, crée aussi son rôle de connexion (même nom) avec "
        "son mot de passe (demandé, ou OUTREACH_NEW_PASSWORD)."
    ),
)
@click.argument("login")
@click.option("--name", required=True, metavar="NOM", help=N_("Nom affiché."))
@click.option("--chamber", required=True, metavar="CODE", help=N_("Chambre (ex. BRE, CMAF)."))
@click.option(
    "--role",
    type=click.Choice(["agent", "supervisor", "admin"]),
    default="agent",
    show_default=True,
    help=N_("Conseiller, superviseur ou administrateur."),
)
@as_option
@db_option
@click.pass_obj
def agent_add(
    app: AppContext, login: str, name: str, chamber: str, role: str, as_login: str | None
) -> None:
    db = app.database()
    actor = people.acting_admin(db, as_login, typed_pin)
    password = _new_password(login) if db.is_postgresql else None
    person = people.add_person(db, actor, login, name, chamber, role, password)
    echo(
        _("{login} ajouté ({role}, chambre {chamber})").format(
            login=person.login, role=person.role, chamber=person.chamber_code
        )
    )


@agent_group.command(
    "set-password",
    help=N_(
        "Nouveau mot de passe du rôle PostgreSQL d'une personne (un administrateur, ou la "
        "personne elle-même) ; demandé, ou OUTREACH_NEW_PASSWORD."
    ),
)
@click.argument("login")
@db_option
@click.pass_obj
def agent_set_password(app: AppContext, login: str) -> None:
    db = app.database()
    actor = people.connected_or_owner(db) if db.is_postgresql else None
    people.set_password(db, actor, login, _new_password(login) if db.is_postgresql else "")
    echo(_("mot de passe changé pour {login}").format(login=login))


@agent_group.command(
    "disable",
    help=N_(
        "Désactive une personne : elle ne peut plus se connecter (rôle PostgreSQL sans LOGIN)."
    ),
)
@click.argument("login")
@as_option
@db_option
@click.pass_obj
def agent_disable(app: AppContext, login: str, as_login: str | None) -> None:
    db = app.database()
    actor = people.acting_admin(db, as_login, typed_pin)
    done = people.disable_person(db, actor, login)
    echo(_("{login} désactivé").format(login=login))
    if done.sessions or done.tasks or done.referrals or done.state:
        echo(
            _("sessions fermées : {sessions} ; entreprises rendues à la file : {tasks}").format(
                sessions=done.sessions, tasks=len(done.tasks)
            )
        )
