"""The lockdown report: the roll-up across lockdowns as an XLSX workbook and one self-contained
HTML page (inline SVG charts, inline CSS, no script), in French, ready to send.

All figures come from `rollup.rollup` (one roll-up service); this module only lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import xlsxwriter

from outreach.db.engine import Database
from outreach.domain.outcomes import OUTCOMES_BY_CODE
from outreach.domain.referrals import REFERRAL_KINDS
from outreach.services import rollup as rollups
from outreach.services.access import chamber_scope
from outreach.services.audit import record_audit
from outreach.services.clock import from_db, utcnow
from outreach.services.goals import GoalProgress, goals_in_scope
from outreach.services.safefile import SafeFile, check_target
from outreach.services.selection import PARIS, CallFilter, resolve
from outreach.services.types import AgentInfo

NO_LOCKDOWN = "Hors confinement"
MEASURE_LABELS = {
    "contacts": "Contacts (appels)",
    "businesses_contacted": "Entreprises contactées",
    "businesses_reached": "Entreprises jointes",
    "referrals": "Orientations",
    **{k.code: k.label_fr for k in REFERRAL_KINDS},
    "diagnostics_done": "Diagnostics réalisés",
    "closed_firms_helped": "Commerces fermés aidés",
}


@dataclass(frozen=True, slots=True)
class ReportData:
    generated_at: datetime  # aware, Paris
    author: str
    scope: str  # "national" or a chamber code
    by_lockdown: rollups.Rollup
    by_chamber: rollups.Rollup
    by_lockdown_chamber: rollups.Rollup
    by_outcome: rollups.Rollup
    diagnostics_goal: GoalProgress | None = None  # the scope's own goal, if one is set


@dataclass(frozen=True, slots=True)
class ReportFiles:
    xlsx: Path
    html: Path


def collect(db: Database, person: AgentInfo, filters: CallFilter | None = None) -> ReportData:
    """Every roll-up the report shows, for `person`'s scope."""
    sel = resolve(db, person, filters)
    now = from_db(utcnow())
    assert now is not None
    return ReportData(
        generated_at=now.astimezone(PARIS),
        author=person.name or person.login,
        scope=sel.described.get("chamber") or "national",
        by_lockdown=rollups.rollup(db, sel, ("lockdown",)),
        by_chamber=rollups.rollup(db, sel, ("chamber",)),
        by_lockdown_chamber=rollups.rollup(db, sel, ("lockdown", "chamber")),
        by_outcome=rollups.rollup(db, sel, ("outcome",)),
        diagnostics_goal=next(
            iter(
                goals_in_scope(
                    db,
                    chamber_scope(db, person, filters.chamber if filters else None),
                    metric="diagnostics_done",
                    now=now,
                )
            ),
            None,
        ),
    )


def _lockdown(name: Any) -> str:
    return NO_LOCKDOWN if name is None else str(name).replace("confinement-", "Confinement ")


def _outcome(code: str) -> str:
    o = OUTCOMES_BY_CODE.get(code)
    return o.label_fr if o else code


def _pct(done: int, target: int) -> str:
    return f"{100 * done / target:.1f}".replace(".", ",") if target else "-"


def _fr(n: float) -> str:
    return f"{n:,.0f}".replace(",", "\u202f")


# --- XLSX ----------------------------------------------------------------------------------------


def write_xlsx(data: ReportData, path: Path | BinaryIO) -> None:
    target = str(path) if isinstance(path, Path) else path
    book = xlsxwriter.Workbook(target, {"strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "bg_color": "#DDE7F0", "text_wrap": True})
    num = book.add_format({"num_format": "# ##0"})

    def sheet(name: str, by_labels: list[str], rows: list[list[Any]], measures: list[str]) -> Any:
        ws = book.add_worksheet(name)
        header = [*by_labels, *(MEASURE_LABELS[m] for m in measures)]
        for c, h in enumerate(header):
            ws.write_string(0, c, h, head)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row):
                if isinstance(v, int):
                    ws.write_number(r, c, v, num)
                else:
                    ws.write_string(
                        r, c, "" if v is None else str(v), bold if r == len(rows) else None
                    )
        ws.set_column(0, len(by_labels) - 1, 24)
        ws.set_column(len(by_labels), len(header), 16)
        ws.freeze_panes(1, len(by_labels))
        return ws

    measures = list(rollups.MEASURES)
    lk = data.by_lockdown
    rows = [[_lockdown(r["lockdown"]), *(r[m] for m in measures)] for r in lk.rows]
    rows.append(["Total", *(lk.total[m] for m in measures)])
    ws = sheet("Confinements", ["Confinement"], rows, measures)
    chart = book.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": MEASURE_LABELS["contacts"],
            "categories": ["Confinements", 1, 0, len(lk.rows), 0],
            "values": ["Confinements", 1, 1, len(lk.rows), 1],
        }
    )
    chart.add_series(
        {
            "name": MEASURE_LABELS["businesses_contacted"],
            "categories": ["Confinements", 1, 0, len(lk.rows), 0],
            "values": ["Confinements", 1, 2, len(lk.rows), 2],
        }
    )
    chart.set_title({"name": "Contacts par confinement"})
    ws.insert_chart(len(rows) + 2, 0, chart)
    goal = data.diagnostics_goal
    ws.write_string(len(rows) + 1, 0, "Diagnostics réalisés / objectif", bold)
    ws.write_string(
        len(rows) + 1,
        1,
        f"{goal.done} / {goal.target} ({_pct(goal.done, goal.target)} %) "
        f"d'ici le {goal.ends_on:%d/%m/%Y}"
        if goal
        else f"{lk.total['diagnostics_done']} (aucun objectif fixé)",
    )

    ch = data.by_chamber
    rows = [[r["chamber"], *(r[m] for m in measures)] for r in ch.rows]
    rows.append(["Total", *(ch.total[m] for m in measures)])
    sheet("Chambres", ["Chambre"], rows, measures)

    lc = data.by_lockdown_chamber
    rows = [[_lockdown(r["lockdown"]), r["chamber"], *(r[m] for m in measures)] for r in lc.rows]
    rows.append(["Total", "", *(lc.total[m] for m in measures)])
    sheet("Confinements x chambres", ["Confinement", "Chambre"], rows, measures)

    oc = data.by_outcome
    rows = [[_outcome(r["outcome"]), r["contacts"], r["businesses_contacted"]] for r in oc.rows]
    rows.append(["Total", oc.total["contacts"], oc.total["businesses_contacted"]])
    sheet("Résultats", ["Résultat"], rows, ["contacts", "businesses_contacted"])

    rows = [[k.label_fr, lk.total[k.code]] for k in REFERRAL_KINDS]
    rows.append(["Total", lk.total["referrals"]])
    ws = book.add_worksheet("Orientations")
    ws.write_string(0, 0, "Orientation", head)
    ws.write_string(0, 1, "Nombre", head)
    for r, (label, value) in enumerate(rows, start=1):
        ws.write_string(r, 0, label, bold if r == len(rows) else None)
        ws.write_number(r, 1, value, num)
    ws.set_column(0, 0, 34)
    book.close()


# --- HTML + SVG ----------------------------------------------------------------------------------


TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "report"


@cache
def _environment() -> Any:
    import jinja2  # loaded by the report only

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=True,  # business and chamber names, the author: text, never markup
        trim_blocks=True,
    )
    env.filters["fr"] = _fr
    env.globals["pct"] = _pct
    return env


def _section(
    title: str,
    bars: list[tuple[str, int]],
    table: tuple[list[str], list[list[Any]], list[Any]] | None = None,
    *,
    bars_title: str | None = None,
    tone: int = 0,
) -> dict[str, Any]:
    return {
        "title": title,
        "bars": bars,
        "bars_title": bars_title or title,
        "tone": tone,
        "table": table,
    }


def render_html(data: ReportData) -> str:
    """The page, from templates/report/lockdowns.html.j2; this function only picks the figures."""
    lk, ch, lc, oc = data.by_lockdown, data.by_chamber, data.by_lockdown_chamber, data.by_outcome
    t = lk.total
    lockdowns = [r["lockdown"] for r in lk.rows]
    measures = [
        "contacts",
        "businesses_contacted",
        "businesses_reached",
        "referrals",
        "click_and_collect",
        "closed_firms_helped",
        "digital_diagnostic",
        "diagnostics_done",
    ]
    per_chamber: dict[str, dict[Any, int]] = {}
    for r in lc.rows:
        per_chamber.setdefault(r["chamber"], {})[r["lockdown"]] = r["contacts"]
    sections = [
        _section(
            "Contacts par confinement",
            [(_lockdown(r["lockdown"]), r["contacts"]) for r in lk.rows],
            (
                ["Confinement", *(MEASURE_LABELS[m] for m in measures)],
                [[_lockdown(r["lockdown"]), *(r[m] for m in measures)] for r in lk.rows],
                ["Total (entreprises comptées une fois)", *(t[m] for m in measures)],
            ),
        ),
        _section(
            "Contacts par chambre",
            [(r["chamber"], r["contacts"]) for r in sorted(ch.rows, key=lambda r: -r["contacts"])],
            (
                ["Chambre", *(_lockdown(x) for x in lockdowns), "Total"],
                [
                    [code, *(per_chamber.get(code, {}).get(x, 0) for x in lockdowns), r["contacts"]]
                    for r in ch.rows
                    for code in [r["chamber"]]
                ],
                ["Total", *(r["contacts"] for r in lk.rows), t["contacts"]],
            ),
            tone=1,
        ),
        _section(
            "Résultats des appels",
            [
                (_outcome(r["outcome"]), r["contacts"])
                for r in sorted(oc.rows, key=lambda r: -r["contacts"])
            ],
        ),
        _section(
            "Orientations",
            [(k.label_fr, t[k.code]) for k in REFERRAL_KINDS],
            (
                ["Orientation", *(_lockdown(x) for x in lockdowns), "Total"],
                [[k.label_fr, *(r[k.code] for r in lk.rows), t[k.code]] for k in REFERRAL_KINDS],
                ["Total", *(r["referrals"] for r in lk.rows), t["referrals"]],
            ),
            bars_title="Orientations par type",
            tone=3,
        ),
    ]
    return (
        _environment()
        .get_template("lockdowns.html.j2")
        .render(
            scope="Réseau national" if data.scope == "national" else f"Chambre {data.scope}",
            generated_at=data.generated_at,
            author=data.author,
            kpis=[
                ("Contacts", t["contacts"]),
                ("Entreprises contactées", t["businesses_contacted"]),
                ("Entreprises jointes", t["businesses_reached"]),
                ("Commerces fermés aidés", t["closed_firms_helped"]),
                ("Diagnostics réalisés", t["diagnostics_done"]),
            ],
            goal=data.diagnostics_goal,
            sections=sections,
        )
    )


def write_report(
    db: Database,
    person: AgentInfo,
    out_dir: Path,
    *,
    filters: CallFilter | None = None,
    stem: str = "bilan-confinements",
    force: bool = False,
) -> ReportFiles:
    """Write `<stem>.xlsx` and `<stem>.html` into `out_dir` (created if needed); audited
    before the files are delivered (services/safefile); existing files need `force`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(out_dir / f"{stem}.xlsx", out_dir / f"{stem}.html")
    for path in (files.xlsx, files.html):
        check_target(path, force=force)
    data = collect(db, person, filters)
    with SafeFile(files.xlsx, force=force) as xlsx, SafeFile(files.html, force=force) as page:
        write_xlsx(data, xlsx.file)
        page.file.write(render_html(data).encode("utf-8"))
        with db.writing() as session:
            record_audit(
                session,
                agent_id=person.id,
                action="export",
                entity="lockdown_report",
                detail={
                    "scope": data.scope,
                    "files": [str(files.xlsx), str(files.html)],
                    "rows": len(data.by_lockdown.rows),
                },
            )
        xlsx.deliver()
        page.deliver()
    return files
