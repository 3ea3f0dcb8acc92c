"""`outreach rollup`: contacts, businesses and referrals per lockdown, chamber, campaign..."""

from __future__ import annotations

import csv
import json
import sys

import click

from outreach.cli.base import AppContext, cli, db_option
from outreach.cli.supervision import acting_supervisor, as_option, call_filter_options
from outreach.i18n import N_, _
from outreach.services import rollup as service
from outreach.services.selection import CallFilter, resolve


def _n(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def _columns() -> list[tuple[str, str]]:
    return [
        ("contacts", _("Contacts")),
        ("businesses_contacted", _("Entreprises contactées")),
        ("businesses_reached", _("Entreprises jointes")),
        ("referrals", _("Orientations")),
        ("click_and_collect", _("Fermées aidées (clic et collecte)")),
        ("digital_diagnostic", _("Diagnostics numériques")),
    ]


def render_table(result: service.Rollup) -> str:
    """The at-a-glance table: one line per group, the total, diagnostics against the target."""
    cols = _columns()
    head = [", ".join(result.by) if result.by else ""] + [label for _k, label in cols]
    lines: list[list[str]] = []
    for row in result.rows:
        keys = [
            _("(hors confinement)") if row[d] is None and d == "lockdown" else str(row[d] or "-")
            for d in result.by
        ]
        lines.append([" / ".join(keys)] + [_n(row[k]) for k, _label in cols])
    lines.append([_("Total")] + [_n(result.total[k]) for k, _label in cols])
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]

    def fmt(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    out = [fmt(head), "  ".join("-" * w for w in widths)]
    out += [fmt(line) for line in lines[:-1]]
    out += ["  ".join("-" * w for w in widths), fmt(lines[-1])]
    done = result.total["digital_diagnostic"]
    target = service.DIAGNOSTIC_TARGET
    out.append("")
    out.append(
        _("Diagnostics numériques : {done} sur un objectif de {target} ({pct} %)").format(
            done=_n(done), target=_n(target), pct=f"{100 * done / target:.1f}".replace(".", ",")
        )
    )
    return "\n".join(out)


@cli.command(
    "rollup",
    help=N_(
        "Cumuls des appels : contacts, entreprises contactées et jointes, orientations par type, "
        "par confinement, chambre, campagne, résultat, conseiller ou jour, avec le total."
    ),
)
@click.option(
    "--by",
    "by",
    metavar="DIMS",
    help=N_(
        "Regroupement, séparé par des virgules : {dims} (défaut : lockdown).",
        dims=",".join(service.DIMENSIONS),
    ),
)
@call_filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help=N_("Format de sortie."),
)
@click.option(
    "--verify",
    is_flag=True,
    help=N_("Recompte tout depuis la table calls et échoue à la moindre différence."),
)
@as_option
@db_option
@click.pass_obj
def rollup_cmd(
    app: AppContext,
    by: str | None,
    filters: CallFilter,
    fmt: str,
    verify: bool,
    as_login: str | None,
) -> None:
    dims = service.parse_by(by)
    db, person = acting_supervisor(app, as_login)
    sel = resolve(db, person, filters)
    result = service.verify(db, sel, dims) if verify else service.rollup(db, sel, dims)
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([*result.by, *service.MEASURES])
        for row in result.rows:
            keys = ["" if row[d] is None else row[d] for d in result.by]
            writer.writerow([*keys, *(row[m] for m in service.MEASURES)])
        total: list[object] = [result.total[m] for m in service.MEASURES]
        if result.by:
            total = ["total", *([""] * (len(result.by) - 1)), *total]
        writer.writerow(total)
    else:
        click.echo(render_table(result))
    if verify:
        click.echo(_("vérifié : le cumul est égal au recomptage des appels"), err=True)
