"""Earlier calls of the business, every campaign, newest first; then its earlier referrals.

A plain table (not a DataTable): nothing to select here. One line per row: long notes and
campaign names end in "…" rather than wrapping (three lines a row would leave no room at 80x24).
"""

from __future__ import annotations

from datetime import datetime

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from outreach.i18n import _
from outreach.services.types import ClaimedTask
from outreach.tui.format import in_zone, outcome_label, referral_label, referral_status_label
from outreach.tui.widgets.drawn_once import DrawnOnce


def _when(moment: datetime, zone: str) -> str:
    return in_zone(moment, zone).strftime("%d/%m/%y %H:%M")


class HistoryTable(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static(id="history-table")

    def show(self, task: ClaimedTask, zone: str) -> None:
        table = Table(expand=True, box=None, padding=(0, 1), show_edge=False)
        table.add_column(_("Quand"), no_wrap=True, style="dim")
        table.add_column(_("Résultat"), ratio=3, no_wrap=True, overflow="ellipsis")
        table.add_column(_("Qui"), no_wrap=True, overflow="ellipsis", max_width=12)
        table.add_column(_("Notes"), ratio=3, no_wrap=True, overflow="ellipsis")
        table.add_column(_("Campagne"), ratio=3, no_wrap=True, overflow="ellipsis", style="dim")
        for item in task.history:
            result = outcome_label(item.outcome)
            if item.referral_kinds:
                result += " → " + ", ".join(referral_label(k) for k in item.referral_kinds)
            table.add_row(
                _when(item.started_at, zone),
                result,
                item.agent_login,
                item.notes or "",
                item.campaign,
            )
        for ref in task.referrals:
            kind = referral_label(ref.kind) + (f" ({ref.partner})" if ref.partner else "")
            table.add_row(
                _when(ref.at, zone),
                _("Orientation : {kind}").format(kind=kind),
                "",
                referral_status_label(ref.status),
                ref.campaign,
            )
        if not task.history and not task.referrals:
            table.add_row("", _("premier appel"), "", "", "")
        self.query_one("#history-table", Static).update(DrawnOnce(table))
        self.scroll_home(animate=False)
