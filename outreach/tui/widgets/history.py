"""Earlier calls of the business, every campaign, newest first; then its earlier referrals."""

from __future__ import annotations

from textual.widgets import DataTable

from outreach.i18n import _
from outreach.services.types import ClaimedTask
from outreach.tui.format import outcome_label, referral_label, short_datetime


class HistoryTable(DataTable[str]):
    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns(_("Quand"), _("Qui"), _("Campagne"), _("Résultat"), _("Notes"))

    def show(self, task: ClaimedTask, zone: str) -> None:
        self.clear()
        for item in task.history:
            result = outcome_label(item.outcome)
            if item.referral_kinds:
                result += " → " + ", ".join(referral_label(k) for k in item.referral_kinds)
            self.add_row(
                short_datetime(item.started_at, zone),
                item.agent_login,
                item.campaign,
                result,
                item.notes or "",
            )
        for ref in task.referrals:
            kind = referral_label(ref.kind) + (f" ({ref.partner})" if ref.partner else "")
            self.add_row(
                short_datetime(ref.at, zone),
                "",
                ref.campaign,
                _("Orientation : {kind}").format(kind=kind),
                ref.status,
            )
        if not task.history and not task.referrals:
            self.add_row("", "", "", _("premier appel"), "")
