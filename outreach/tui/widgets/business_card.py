"""The business being called: identity, phones, local time, lockdown status, online sales."""

from __future__ import annotations

from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from outreach.domain.siret import format_siret
from outreach.i18n import _
from outreach.services.types import ClaimedTask
from outreach.tui.format import hour, short_datetime, status_label


class BusinessCard(Static):
    """Redrawn in place for each new business (no remounting: the next one shows at once)."""

    def show(self, task: ClaimedTask, now: datetime) -> None:
        b = task.business
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        title = Text(b.name, style="bold")
        if b.do_not_call:
            title.append("  " + _("OPPOSITION"), style="reverse")
        grid.add_row(_("Entreprise"), title)
        trade = " ".join(part for part in (b.trade_code, b.trade_label) if part)
        grid.add_row(_("Activité"), trade or "-")
        grid.add_row("SIRET", format_siret(b.siret))
        place = ", ".join(p for p in (b.address, f"{b.postcode or ''} {b.city or ''}".strip()) if p)
        grid.add_row(_("Adresse"), f"{place} ({b.department})" if place else b.department)
        grid.add_row(
            _("Heure locale"),
            f"{hour(now, b.timezone)}  ({b.timezone})",
        )
        phones = Text()
        dialing = task.phone_to_call
        for number, shown, flagged in (
            (b.phone, b.phone_display, b.phone_flagged),
            (b.phone_alt, b.phone_alt_display, b.phone_alt_flagged),
        ):
            if not number:
                continue
            if phones:
                phones.append("   ")
            style = "bold reverse" if number == dialing else ""
            phones.append(shown or number, style=style)
            if flagged:
                phones.append(" " + _("(signalé faux)"), style="italic")
        grid.add_row(_("Téléphone"), phones if phones else Text(_("aucun"), style="italic"))
        status = Text(status_label(b.status))
        if b.status == "closed_admin":
            status.stylize("bold")
        grid.add_row(_("Statut"), status)
        grid.add_row(
            _("Vente en ligne"), _("oui, vend déjà en ligne") if b.sells_online else _("non")
        )
        if b.employees is not None:
            grid.add_row(_("Salariés"), str(b.employees))
        attempt = _("tentative {n}").format(n=task.attempts + 1)
        if task.is_callback and task.callback_at is not None:
            attempt += "  ·  " + _("rappel prévu le {when}").format(
                when=short_datetime(task.callback_at, b.timezone)
            )
        grid.add_row(_("Fiche"), attempt)
        self.update(grid)
