#!/usr/bin/env python
"""Le bilan des confinements : cumuls en XLSX et en page HTML autonome (graphiques intégrés).

    python scripts/lockdown_report.py --out rapports/ [--as LOGIN] [--chamber CODE] [--db URL]

Thin over outreach.services.report (itself over the roll-up service): no logic here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError

from outreach.db.engine import open_database, unavailable
from outreach.db.migrate import check_schema
from outreach.errors import OutreachError
from outreach.i18n import _
from outreach.services.access import identity, require_supervisor
from outreach.services.report import write_report
from outreach.services.selection import CallFilter


@click.command(
    help=_("Écrit le bilan des confinements (XLSX et HTML avec graphiques) dans un dossier.")
)
@click.option(
    "--out",
    "out_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=_("Dossier où écrire les fichiers."),
)
@click.option("--chamber", metavar="CODE", help=_("Seulement cette chambre (ex. BRE)."))
@click.option("--force", is_flag=True, help=_("Remplace les fichiers s'ils existent."))
@click.option(
    "--name",
    "stem",
    default="bilan-confinements",
    show_default=True,
    help=_("Nom des fichiers, sans extension."),
)
@click.option(
    "--as",
    "as_login",
    metavar="LOGIN",
    help=_("Superviseur qui agit (sinon la variable OUTREACH_AS)."),
)
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    help=_("Base de données (URL SQLAlchemy ou chemin SQLite). Sinon OUTREACH_DATABASE_URL."),
)
def main(
    out_dir: Path,
    chamber: str | None,
    force: bool,
    stem: str,
    as_login: str | None,
    db_url: str | None,
) -> None:
    db = None
    try:
        db = open_database(db_url)
        check_schema(db)
        person = require_supervisor(db, identity(as_login))
        files = write_report(
            db, person, out_dir, filters=CallFilter(chamber=chamber), stem=stem, force=force
        )
    except OutreachError as exc:
        click.echo(_("erreur : {message}").format(message=exc), err=True)
        sys.exit(exc.exit_code)
    except OperationalError as exc:
        message = str(unavailable(db, exc)) if db else str(exc)
        click.echo(_("erreur : {message}").format(message=message), err=True)
        sys.exit(1)
    click.echo(_("bilan écrit : {xlsx} et {html}").format(xlsx=files.xlsx, html=files.html))


if __name__ == "__main__":
    main()
