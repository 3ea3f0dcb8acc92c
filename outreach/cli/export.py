"""`outreach export`: calls, referrals, businesses, do-not-call or roll-ups to CSV, XLSX, JSONL."""

from __future__ import annotations

from pathlib import Path

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.cli.supervision import acting_supervisor, as_option, call_filter_options, on_terminal
from outreach.i18n import N_, _
from outreach.services import export as service
from outreach.services.rollup import parse_by
from outreach.services.selection import CallFilter


@cli.command(
    "export",
    help=N_(
        "Exporte les appels, les orientations, les entreprises, la liste d'opposition "
        "(do-not-call, à transmettre aux partenaires) ou les cumuls.\n\n"
        "CSV par défaut en UTF-8 avec BOM et « ; » (s'ouvre tel quel dans Excel et LibreOffice "
        "en français) ; --comma pour un CSV à virgules. Les cellules commençant par =, +, -, @ "
        "sont neutralisées (apostrophe en tête), sauf les nombres signés comme +33612345678."
    ),
)
@click.argument("kind", type=click.Choice(service.KINDS))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "jsonl"]),
    default="csv",
    show_default=True,
    help=N_("Format du fichier."),
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=N_("Fichier à écrire."),
)
@call_filter_options
@click.option("--by", "by", metavar="DIMS", help=N_("Regroupement des cumuls (export rollup)."))
@click.option("--comma", is_flag=True, help=N_("CSV à virgules, sans BOM."))
@click.option("--force", is_flag=True, help=N_("Remplace le fichier s'il existe."))
@as_option
@db_option
@click.pass_obj
def export_cmd(
    app: AppContext,
    kind: str,
    fmt: str,
    out: Path,
    filters: CallFilter,
    by: str | None,
    comma: bool,
    force: bool,
    as_login: str | None,
) -> None:
    db, person = acting_supervisor(app, as_login)
    request = service.ExportRequest(
        kind=kind,
        fmt=fmt,
        out=out,
        filters=filters,
        comma=comma,
        by=parse_by(by),
        force=force,
    )
    if on_terminal():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task(_("export {kind}").format(kind=kind), total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = service.export(db, person, request, progress=progress)
    else:
        result = service.export(db, person, request)
    echo(
        _("{rows} lignes écrites dans {path}").format(rows=result.rows, path=result.path)
        + (_(" ({n} feuilles)").format(n=result.sheets) if result.sheets > 1 else "")
    )
    if kind in ("businesses", "do-not-call") and filters.chamber:
        from outreach.services.selection import chamber_departments

        echo(
            _("--chamber {code} : les entreprises des départements de la chambre ({deps})").format(
                code=filters.chamber.upper(),
                deps=", ".join(chamber_departments(db, filters.chamber)),
            )
        )
