"""`outreach flags list|resolve`: records the advisers reported wrong, for supervisors."""

from __future__ import annotations

import click

from outreach.cli.base import AppContext, cli, db_option
from outreach.cli.dnc import format_datetime
from outreach.cli.supervision import as_option
from outreach.i18n import N_, _, ngettext
from outreach.services import flags as service
from outreach.services.access import identity


@cli.group(
    "flags",
    help=N_(
        "Fiches signalées erronées par les conseillers : consulter, traiter. Réservé aux "
        "superviseurs, dans le périmètre de leur chambre."
    ),
)
def flags_group() -> None:
    pass


@flags_group.command("list", help=N_("Les signalements à traiter (--all : aussi les traités)."))
@click.option("--all", "include_resolved", is_flag=True, help=N_("Aussi les signalements traités."))
@click.option("--chamber", metavar="CODE", help=N_("Une chambre de votre périmètre."))
@as_option
@db_option
@click.pass_obj
def flags_list(
    app: AppContext, include_resolved: bool, chamber: str | None, as_login: str | None
) -> None:
    rows = service.list_flags(
        app.database(), identity(as_login), include_resolved=include_resolved, chamber=chamber
    )
    for f in rows:
        state = (
            _("à traiter")
            if f.resolved_at is None
            else _("traité ({resolution})").format(resolution=f.resolution)
        )
        click.echo(
            f"#{f.id}  {format_datetime(f.at)}  {f.chamber_code}  {f.siret}  {f.business}  "
            f"[{f.campaign or '-'}]  {f.agent_login}  {state}"
        )
        if f.note:
            click.echo(f"      {f.note}")
    click.echo(ngettext("{n} signalement", "{n} signalements", len(rows)).format(n=len(rows)))


@flags_group.command(
    "resolve",
    help=N_(
        "Traite un signalement : --requeue remet l'entreprise dans la file de sa campagne "
        "(fiche corrigée), --drop la laisse hors de la campagne."
    ),
)
@click.argument("flag_id", type=int)
@click.option("--requeue", "resolution", flag_value="requeue", help=N_("Remettre dans la file."))
@click.option("--drop", "resolution", flag_value="drop", help=N_("Laisser hors de la campagne."))
@click.option("--note", default="", metavar="TEXTE", help=N_("Ce qui a été fait."))
@as_option
@db_option
@click.pass_obj
def flags_resolve(
    app: AppContext, flag_id: int, resolution: str | None, note: str, as_login: str | None
) -> None:
    if resolution is None:
        raise click.UsageError(_("indiquez --requeue ou --drop"))
    done = service.resolve_flag(app.database(), identity(as_login), flag_id, resolution, note)
    click.echo(
        _("signalement n° {id} traité : {resolution}").format(id=done.id, resolution=resolution)
    )
