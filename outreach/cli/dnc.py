"""`outreach dnc add|lift|show|list`: oppositions (do-not-call) managed by supervisors."""

from __future__ import annotations

from datetime import datetime

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.cli.confirm import destructive_options, go_ahead
from outreach.cli.supervision import acting_login, as_option
from outreach.i18n import N_, _, ngettext
from outreach.services import oppositions as service
from outreach.services.selection import PARIS


def format_datetime(moment: datetime) -> str:
    """Paris time, to the minute: what a supervisor in France reads."""
    return moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")


_SIRET = click.option("--siret", required=True, metavar="SIRET", help=N_("SIRET de l'entreprise."))
_REASON = click.option(
    "--reason", default="", metavar="TEXTE", help=N_("Motif (obligatoire), ex. courrier du gérant.")
)


@cli.group(
    "dnc",
    help=N_(
        "Oppositions (ne plus appeler) : enregistrer, lever, consulter. Réservé aux "
        "superviseurs, dans le périmètre de leur chambre ; chaque changement est journalisé."
    ),
)
def dnc_group() -> None:
    pass


@dnc_group.command(
    "add",
    help=N_(
        "Enregistre une opposition reçue hors appel : l'entreprise n'est plus appelée dans "
        "aucune campagne (ses tâches en cours sont annulées)."
    ),
)
@_SIRET
@_REASON
@as_option
@db_option
@click.pass_obj
def dnc_add(app: AppContext, siret: str, reason: str, as_login: str | None) -> None:
    done = service.add(*acting_login(app, as_login), siret, reason)
    if not done.changed:
        echo(_("SIRET {siret} : déjà en opposition, rien changé").format(siret=done.siret))
        return
    echo(
        ngettext(
            "SIRET {siret} : opposition enregistrée, {n} tâche annulée",
            "SIRET {siret} : opposition enregistrée, {n} tâches annulées",
            done.tasks_cancelled,
        ).format(siret=done.siret, n=done.tasks_cancelled)
    )


@dnc_group.command(
    "lift",
    help=N_(
        "Lève une opposition (ex. erreur de saisie). Les tâches annulées ne sont pas rouvertes : "
        "ajoutez l'entreprise à une campagne si besoin."
    ),
)
@_SIRET
@_REASON
@destructive_options
@as_option
@db_option
@click.pass_obj
def dnc_lift(
    app: AppContext, siret: str, reason: str, yes: bool, dry_run: bool, as_login: str | None
) -> None:
    db, login = acting_login(app, as_login)
    before = service.show(db, login, siret)
    if before.do_not_call:
        preview = _("opposition à lever : {siret} {name} [{chamber}]").format(
            siret=before.siret, name=before.name, chamber=before.chamber_code
        )
        if not go_ahead(preview, yes=yes, dry_run=dry_run):
            return
    done = service.lift(db, login, siret, reason)
    if not done.changed:
        echo(_("SIRET {siret} : aucune opposition à lever").format(siret=done.siret))
        return
    echo(_("SIRET {siret} : opposition levée").format(siret=done.siret))


def _history(o: service.Opposition) -> list[str]:
    lines = []
    for e in o.history:
        what = _("opposition") if e.action == "business.do_not_call" else _("levée")
        lines.append(
            "  {at}  {what}  {who}  {reason}".format(
                at=format_datetime(e.at),
                what=what,
                who=e.agent_login or "-",
                reason=e.reason or "",
            ).rstrip()
        )
    return lines


@dnc_group.command("show", help=N_("L'opposition d'une entreprise et son historique."))
@_SIRET
@as_option
@db_option
@click.pass_obj
def dnc_show(app: AppContext, siret: str, as_login: str | None) -> None:
    o = service.show(*acting_login(app, as_login), siret)
    if o.do_not_call:
        state = (
            _("en opposition depuis le {at}").format(at=format_datetime(o.since))
            if o.since
            else _("en opposition")
        )
    else:
        state = _("pas d'opposition")
    echo(f"{o.siret} {o.name} [{o.chamber_code}] : {state}")
    for line in _history(o):
        echo(line)


@dnc_group.command(
    "list", help=N_("Les entreprises en opposition du périmètre, les plus récentes d'abord.")
)
@click.option("--chamber", metavar="CODE", help=N_("Seulement cette chambre (ex. BRE)."))
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help=N_("Lignes au plus.")
)
@as_option
@db_option
@click.pass_obj
def dnc_list(app: AppContext, chamber: str | None, limit: int, as_login: str | None) -> None:
    total, rows = service.listing(*acting_login(app, as_login), chamber, limit)
    echo(
        ngettext("{n} entreprise en opposition", "{n} entreprises en opposition", total).format(
            n=total
        )
    )
    for o in rows:
        reason = next(
            (e.reason for e in reversed(o.history) if e.action == "business.do_not_call"), None
        )
        echo(
            "  {siret}  {since}  [{chamber}]  {name}  {reason}".format(
                siret=o.siret,
                since=format_datetime(o.since) if o.since else "-",
                chamber=o.chamber_code,
                name=o.name,
                reason=reason or "",
            ).rstrip()
        )
    if total > len(rows):
        echo(_("… et {n} autres (--limit)").format(n=total - len(rows)))
