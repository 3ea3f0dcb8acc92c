"""`outreach rollup`: contacts, businesses and referrals per lockdown, chamber, campaign..."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.cli.goal import goal_line
from outreach.cli.supervision import acting_supervisor, as_option, call_filter_options
from outreach.errors import InvalidInput
from outreach.i18n import N_, _, format_number, language, ngettext
from outreach.services import agent_times
from outreach.services import funnel as funnels
from outreach.services import rollup as service
from outreach.services.access import chamber_scope
from outreach.services.goals import GoalProgress, goals_in_scope
from outreach.services.selection import CallFilter, resolve
from outreach.services.sheets import open_writer

_n = format_number

# what each --by dimension is called in the table's heading
DIMENSION_LABELS = {
    "lockdown": N_("confinement"),
    "chamber": N_("chambre"),
    "campaign": N_("campagne"),
    "outcome": N_("résultat"),
    "agent": N_("conseiller"),
    "day": N_("jour"),
}


def _key(dim: str, value: object) -> str:
    """A group's key as people read it: outcome labels, not their codes (JSON and CSV keep
    the codes)."""
    if value is None:
        return _("(hors confinement)") if dim == "lockdown" else "-"
    if dim == "outcome":
        from outreach.domain.outcomes import OUTCOMES_BY_CODE

        found = OUTCOMES_BY_CODE.get(str(value))
        return found.label(language()) if found else str(value)
    return str(value)


def _columns() -> list[tuple[str, str]]:
    return [
        ("contacts", _("Contacts")),
        ("businesses_contacted", _("Entreprises contactées")),
        ("businesses_reached", _("Entreprises jointes")),
        ("referrals", _("Orientations")),
        ("closed_firms_helped", _("Fermées aidées")),
        ("digital_diagnostic", _("Diagnostics numériques")),
        ("diagnostics_done", _("Diagnostics réalisés")),
    ]


def _funnel_columns() -> list[tuple[str, str]]:
    return [
        ("businesses_contacted", _("Contactées")),
        ("businesses_reached", _("Jointes")),
        ("businesses_referred", _("Orientées")),
        ("referrals_accepted", _("Orientations acceptées")),
        ("diagnostics_done", _("Diagnostics réalisés")),
        ("businesses_verified_online", _("Vendent en ligne (vérifié)")),
    ]


def render_table(
    result: service.Rollup,
    goals: list[GoalProgress] | tuple[()] = (),
    cols: list[tuple[str, str]] | None = None,
) -> str:
    """The at-a-glance table: one line per group, the total, then the goals of the viewer's
    scope with the pace each needs."""
    cols = cols or _columns()
    head = [", ".join(_(DIMENSION_LABELS[d]) for d in result.by)] + [label for _k, label in cols]
    lines: list[list[str]] = []
    for row in result.rows:
        keys = [_key(d, row[d]) for d in result.by]
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
    if goals:
        out.append("")
        out += [goal_line(g) for g in goals]
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
    type=click.Choice(["table", "json", "csv", "xlsx"]),
    default="table",
    show_default=True,
    help=N_("Format de sortie (xlsx : avec --out)."),
)
@click.option(
    "--verify",
    is_flag=True,
    help=N_("Recompte tout depuis la table calls et échoue à la moindre différence."),
)
@click.option(
    "--times",
    is_flag=True,
    help=N_(
        "Avec --by agent : temps par conseiller et par jour (connecté, disponible, en appel, "
        "clôture, pause par motif), appels, joints, orientations, appels par heure."
    ),
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help=N_("Fichier à écrire (obligatoire en xlsx)."),
)
@click.option(
    "--funnel",
    is_flag=True,
    help=N_(
        "L'entonnoir : entreprises contactées, jointes, orientées, orientations acceptées, "
        "diagnostics réalisés, entreprises vérifiées vendant en ligne."
    ),
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
    times: bool,
    out: Path | None,
    funnel: bool,
    as_login: str | None,
) -> None:
    if fmt == "xlsx" and out is None:
        raise InvalidInput(_("--format xlsx : indiquez le fichier avec --out"))
    if times:
        _times(app, by, filters, fmt, verify, out, as_login)
        return
    if out is not None or fmt == "xlsx":
        raise InvalidInput(
            _("--out et xlsx : avec --times, sinon utilisez « outreach export rollup »")
        )
    dims = service.parse_by(by)
    db, person = acting_supervisor(app, as_login)
    sel = resolve(db, person, filters)
    measures: tuple[str, ...] = service.MEASURES
    if funnel:
        measures = funnels.FUNNEL
        result = funnels.verify(db, sel, dims) if verify else funnels.funnel(db, sel, dims)
    else:
        result = service.verify(db, sel, dims) if verify else service.rollup(db, sel, dims)
    goals = goals_in_scope(db, chamber_scope(db, person, filters.chamber))
    if fmt == "json":
        echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([*result.by, *measures])
        for row in result.rows:
            keys = ["" if row[d] is None else row[d] for d in result.by]
            writer.writerow([*keys, *(row[m] for m in measures)])
        total: list[object] = [result.total[m] for m in measures]
        if result.by:
            total = ["total", *([""] * (len(result.by) - 1)), *total]
        writer.writerow(total)
    else:
        echo(render_table(result, goals, _funnel_columns() if funnel else None))
    if verify:
        echo(_("vérifié : le cumul est égal au recomptage des appels"), err=True)


def _times(
    app: AppContext,
    by: str | None,
    filters: CallFilter,
    fmt: str,
    verify: bool,
    out: Path | None,
    as_login: str | None,
) -> None:
    """`--times`: the advisers' day, per adviser and day, from agent_state_events and calls."""
    if service.parse_by(by, ("agent",)) not in (("agent",), ("agent", "day")):
        raise InvalidInput(_("--times : regroupement --by agent uniquement"))
    if filters.lockdown or filters.campaign:
        raise InvalidInput(_("--times : pas de filtre --lockdown ni --campaign (temps de travail)"))
    db, person = acting_supervisor(app, as_login)
    sel = resolve(db, person, filters)
    report = (agent_times.verify if verify else agent_times.agent_times)(db, sel)
    cols = list(report.columns)
    if fmt in ("csv", "xlsx") and out is not None:
        writer = open_writer(fmt, out, cols, comma=True, sheet_name="agent_times")
        for row in report.rows:
            writer.write([row[c] for c in cols])
        writer.close()
    elif fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(cols)
        w.writerows([row[c] for c in cols] for row in report.rows)
    else:  # json (the table format has no room for a dozen columns: json too)
        text = json.dumps(report.as_json(), ensure_ascii=False, indent=2)
        if out is not None:
            out.write_text(text + "\n", encoding="utf-8")
        else:
            echo(text)
    if out is not None:
        echo(
            ngettext(
                "{n} ligne écrite dans {path}", "{n} lignes écrites dans {path}", len(report.rows)
            ).format(n=len(report.rows), path=out),
            err=True,
        )
    if verify:
        echo(_("vérifié : les temps sont égaux au recomptage des états"), err=True)
