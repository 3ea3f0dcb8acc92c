"""`outreach db ...`: schema upgrades and status."""

from __future__ import annotations

import click

from outreach.cli.base import AppContext, cli, db_option, echo, missing_sqlite_file
from outreach.db import migrate
from outreach.i18n import N_, _


@cli.group("db", help=N_("Administration de la base : migrations, état."))
def db_group() -> None:
    pass


@db_group.command(
    "upgrade", help=N_("Met la base à la dernière révision du schéma (la crée si besoin).")
)
@db_option
@click.pass_obj
def db_upgrade(app: AppContext) -> None:
    database = app.database(check=False)
    before = migrate.current_revision(database)
    migrate.upgrade(database)
    after = migrate.current_revision(database)
    if before == after:
        echo(_("{url} : déjà à jour (révision {rev})").format(url=database.display_url, rev=after))
    else:
        echo(
            _("{url} : révision {before} -> {after}").format(
                url=database.display_url, before=before or "-", after=after
            )
        )


@db_group.command("current", help=N_("Affiche la révision de la base et celle du programme."))
@db_option
@click.pass_obj
def db_current(app: AppContext) -> None:
    database = app.database(check=False)
    if missing_sqlite_file(database):  # reading it would leave an empty file behind
        echo(
            _("base : aucune ({path} n'existe pas) ; programme : {head}").format(
                path=database.url.database, head=migrate.head_revision()
            )
        )
        return
    echo(
        _("base : {current} ; programme : {head}").format(
            current=migrate.current_revision(database) or "-", head=migrate.head_revision()
        )
    )


@db_group.command("downgrade", help=N_("Ramène la base à une révision antérieure (admin)."))
@click.argument("revision")
@db_option
@click.pass_obj
def db_downgrade(app: AppContext, revision: str) -> None:
    database = app.database(check=False)
    migrate.downgrade(database, revision)
    echo(
        _("{url} : révision {rev}").format(
            url=database.display_url, rev=migrate.current_revision(database) or "-"
        )
    )
