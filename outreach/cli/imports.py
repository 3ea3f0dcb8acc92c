"""`outreach import businesses FILE`: a chamber's business list into `businesses`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.cli.supervision import acting_supervisor, as_option, on_terminal
from outreach.i18n import N_, _, format_number, ngettext
from outreach.services import importer as service


@cli.group("import", help=N_("Importe des listes (entreprises)."))
def import_group() -> None:
    pass


@import_group.command(
    "businesses",
    help=N_(
        "Importe une liste d'entreprises (CSV UTF-8, UTF-8 avec BOM ou Windows-1252, séparateur "
        "« ; », « , » ou tabulation ; ou XLSX). En-têtes reconnus : SIRET, Raison sociale / "
        "Dénomination, Enseigne, Code APE / NAFA, Adresse, Code postal, Commune, Téléphone, "
        "Portable, Email. Mise à jour par SIRET : relancer l'import n'ajoute rien deux fois. "
        "Les lignes refusées vont dans un fichier de rejets (ligne, colonne, raison)."
    ),
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--chamber", metavar="CODE", help=N_("Chambre de la liste (refuse les autres)."))
@click.option(
    "--campaign",
    metavar="NOM",
    help=N_("Met aussi ces entreprises dans la file de cette campagne."),
)
@click.option("--dry-run", is_flag=True, help=N_("Vérifie tout, n'écrit rien dans la base."))
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help=N_(
        "Fichier des rejets (défaut : à côté de la liste, son nom sans extension suivi de "
        "« .rejets.csv » : liste.csv -> liste.rejets.csv)."
    ),
)
@as_option
@db_option
@click.pass_obj
def import_businesses_cmd(
    app: AppContext,
    file: Path,
    chamber: str | None,
    campaign: str | None,
    dry_run: bool,
    rejects: Path | None,
    as_login: str | None,
) -> None:
    db, person = acting_supervisor(app, as_login)

    def run(progress: Callable[[int], None] | None = None) -> service.ImportSummary:
        return service.import_businesses(
            db,
            person,
            file,
            chamber=chamber,
            campaign=campaign,
            dry_run=dry_run,
            rejects=rejects,
            progress=progress,
        )

    if on_terminal():
        from rich.progress import Progress, SpinnerColumn, TimeElapsedColumn

        with Progress(
            SpinnerColumn(),
            "{task.description}",
            "{task.completed}",
            TimeElapsedColumn(),
            transient=True,
        ) as bar:
            task = bar.add_task(_("lignes lues"), total=None)
            summary = run(lambda n: bar.update(task, completed=n))
    else:
        summary = run()
    if summary.interrupted is not None:
        echo(interrupted_message(summary.interrupted))
    if dry_run:
        echo(_("essai à blanc : rien n'a été écrit dans la base"))
    echo(
        _(
            "{read} lignes lues : {new} nouvelles entreprises, {updated} mises à jour, "
            "{rejected} refusées"
        ).format(
            read=format_number(summary.read),
            new=format_number(summary.new),
            updated=format_number(summary.updated),
            rejected=format_number(summary.rejected),
        )
    )
    if campaign:
        echo(
            ngettext(
                "{n} entreprise ajoutée à la file de {campaign}",
                "{n} entreprises ajoutées à la file de {campaign}",
                summary.queued,
            ).format(n=summary.queued, campaign=campaign)
        )
    if summary.ignored_columns:
        echo(_("colonnes ignorées : {cols}").format(cols=", ".join(summary.ignored_columns)))
    for r in summary.first_rejects[:5]:
        echo(
            _("  ligne {line}, {field} {value!r} : {reason}").format(
                line=r.line, field=r.field, value=r.value, reason=r.reason
            )
        )
    if summary.warned:
        echo(
            ngettext(
                "{n} ligne importée sans une valeur invalide (signalée dans les rejets) :",
                "{n} lignes importées sans une valeur invalide (signalées dans les rejets) :",
                summary.warned,
            ).format(n=format_number(summary.warned))
        )
        for r in summary.first_warnings[:5]:
            echo(
                _(
                    "  ligne {line}, {field} {value!r} : {reason} ; importée sans cette valeur"
                ).format(line=r.line, field=r.field, value=r.value, reason=r.reason)
            )
    if summary.rejects_path:
        echo(_("rejets : {path}").format(path=summary.rejects_path))
    if summary.duplicate_count:
        echo(
            _(
                "{n} SIRET présents sur plusieurs lignes (la dernière ligne valide l'emporte) :"
            ).format(n=summary.duplicate_count)
        )
        for d in summary.duplicates[:5]:
            echo(
                _("  SIRET {siret} : lignes {lines} ; la ligne {kept} l'emporte").format(
                    siret=d.siret, lines=", ".join(map(str, d.lines)), kept=d.lines[-1]
                )
            )
    echo(
        _("{secs} s ({rate} lignes/s)").format(
            secs=format_number(summary.seconds, 1), rate=format_number(summary.rate)
        ),
        err=True,
    )


def interrupted_message(run: service.Interrupted) -> str:
    """What the re-run of an interrupted import says first."""
    which = (
        _("l'import précédent de ce fichier")
        if run.same_content
        else _("l'import précédent de {path} (dont le contenu a changé depuis)").format(
            path=run.path
        )
    )
    if run.batches:
        kept = ngettext(
            "interrompu après {batches} lot enregistré (jusqu'à la ligne {line}) : ses {rows} "
            "lignes écrites sont gardées",
            "interrompu après {batches} lots enregistrés (jusqu'à la ligne {line}) : ses {rows} "
            "lignes écrites sont gardées",
            run.batches,
        ).format(
            batches=format_number(run.batches),
            line=format_number(run.last_line),
            rows=format_number(run.rows),
        )
    else:
        kept = _("interrompu avant son premier lot : il n'avait rien écrit")
    return _(
        "attention : {which} ({when}, par {login}) a été {kept} ; cet import relit tout le "
        "fichier et n'ajoute rien deux fois"
    ).format(which=which, when=f"{run.at:%d/%m/%Y %H:%M} UTC", login=run.login or "?", kept=kept)
