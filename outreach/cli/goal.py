"""`outreach goal set|list`: dated targets of the network or of a chamber, and the pace to them."""

from __future__ import annotations

import json
import math
from datetime import date

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.cli.supervision import acting_supervisor, as_option
from outreach.errors import InvalidInput
from outreach.i18n import N_, _, format_number, format_percent
from outreach.services import goals as service


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            _("{option} : date illisible « {value} » (AAAA-MM-JJ)").format(
                option=option, value=value
            )
        ) from None


def _n(value: float) -> str:
    return format_number(value)


def metric_label(metric: str) -> str:
    return {
        "diagnostics_done": _("Diagnostics réalisés"),
        "closed_firms_helped": _("Fermées aidées"),
        "businesses_verified_online": _("Vendent en ligne (vérifié)"),
        "contacts": _("Contacts"),
    }.get(metric, metric)


def goal_line(g: service.GoalProgress) -> str:
    """One goal at a glance: done / target (percent) by its date, and the weekly pace needed."""
    line = _("{label} ({scope}) : {done} sur {target} ({pct}) d'ici le {until}").format(
        label=metric_label(g.metric),
        scope=g.chamber_code or _("national"),
        done=_n(g.done),
        target=_n(g.target),
        pct=format_percent(g.percent / 100),
        until=g.ends_on.strftime("%d/%m/%Y"),
    )
    if g.done >= g.target:
        return line + " · " + _("atteint")
    if g.days_left == 0:
        return line + " · " + _("échéance passée")
    return (
        line
        + " · "
        + _("rythme nécessaire : {n} par semaine").format(n=_n(math.ceil(g.per_week_needed)))
    )


@cli.group("goal", help=N_("Objectifs datés du réseau ou d'une chambre : fixer, lister."))
def goal_group() -> None:
    pass


@goal_group.command(
    "set",
    help=N_(
        "Fixe l'objectif d'un indicateur (diagnostics, closed_firms_helped, "
        "businesses_verified_online, contacts) jusqu'à une date, national ou pour une chambre."
    ),
)
@click.argument("metric")
@click.argument("target", type=int)
@click.option("--until", "until", required=True, metavar="AAAA-MM-JJ", help=N_("Date de fin."))
@click.option(
    "--since", "since", metavar="AAAA-MM-JJ", help=N_("Date de début (défaut : aujourd'hui).")
)
@click.option("--chamber", metavar="CODE", help=N_("Chambre (sinon le périmètre de la personne)."))
@click.option(
    "--split",
    is_flag=True,
    help=N_("Répartit l'objectif national entre les chambres, selon leurs entreprises fermées."),
)
@as_option
@db_option
@click.pass_obj
def goal_set(
    app: AppContext,
    metric: str,
    target: int,
    until: str,
    since: str | None,
    chamber: str | None,
    split: bool,
    as_login: str | None,
) -> None:
    db, person = acting_supervisor(app, as_login)
    ends_on = _date(until, "--until")
    assert ends_on is not None
    written = service.set_goal(
        db,
        person,
        metric,
        target,
        ends_on,
        starts_on=_date(since, "--since"),
        chamber_code=chamber,
        split=split,
    )
    for g in written:
        echo(goal_line(g))


@goal_group.command("list", help=N_("Les objectifs de votre périmètre et où ils en sont."))
@click.option("--chamber", metavar="CODE", help=N_("Une chambre de votre périmètre."))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help=N_("Format de sortie."),
)
@as_option
@db_option
@click.pass_obj
def goal_list(app: AppContext, chamber: str | None, fmt: str, as_login: str | None) -> None:
    db, person = acting_supervisor(app, as_login)
    found = service.list_goals(db, person, chamber)
    if fmt == "json":
        echo(json.dumps([g.as_json() for g in found], ensure_ascii=False, indent=2))
        return
    if not found:
        echo(_("aucun objectif dans votre périmètre"))
    for g in found:
        echo(goal_line(g))
