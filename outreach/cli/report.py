"""`outreach report lockdowns`: the lockdown report (XLSX and a self-contained HTML page)."""

from __future__ import annotations

from pathlib import Path

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.cli.supervision import acting_supervisor, as_option
from outreach.i18n import N_, _
from outreach.services.selection import CallFilter


@cli.group("report", help=N_("Rapports prêts à envoyer (bilan des confinements)."))
def report_group() -> None:
    pass


@report_group.command(
    "lockdowns",
    help=N_("Écrit le bilan des confinements (XLSX et HTML avec graphiques) dans un dossier."),
)
@click.option(
    "--out",
    "out_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=N_("Dossier où écrire les fichiers."),
)
@click.option("--chamber", metavar="CODE", help=N_("Seulement cette chambre (ex. BRE)."))
@click.option("--force", is_flag=True, help=N_("Remplace les fichiers s'ils existent."))
@click.option(
    "--name",
    "stem",
    default="bilan-confinements",
    show_default=True,
    help=N_("Nom des fichiers, sans extension."),
)
@as_option
@db_option
@click.pass_obj
def lockdowns_cmd(
    app: AppContext,
    out_dir: Path,
    chamber: str | None,
    force: bool,
    stem: str,
    as_login: str | None,
) -> None:
    from outreach.services.report import write_report

    db, person = acting_supervisor(app, as_login)
    files = write_report(
        db, person, out_dir, filters=CallFilter(chamber=chamber), stem=stem, force=force
    )
    echo(_("bilan écrit : {xlsx} et {html}").format(xlsx=files.xlsx, html=files.html))
