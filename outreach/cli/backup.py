"""`outreach db backup PATH`: a consistent copy of a live SQLite database."""

from __future__ import annotations

from pathlib import Path

import click

from outreach.cli.base import AppContext, db_option, echo
from outreach.cli.db import db_group
from outreach.i18n import N_, _
from outreach.services.backup import backup_sqlite


@db_group.command(
    "backup",
    help=N_(
        "Copie cohérente d'une base SQLite en service (API de sauvegarde en ligne de SQLite), "
        "même pendant que des agents enregistrent. Pour PostgreSQL : pg_dump (voir le README)."
    ),
)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help=N_("Remplace le fichier s'il existe."))
@db_option
@click.pass_obj
def db_backup(app: AppContext, path: Path, force: bool) -> None:
    database = app.database(check=False)
    done = backup_sqlite(database, path, overwrite=force)
    echo(
        _("copie de {url} dans {path} : {size} octets, intégrité : {check}").format(
            url=database.display_url, path=done.path, size=done.size, check=done.integrity
        )
    )
