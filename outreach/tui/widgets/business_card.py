"""The business being called: identity, phones (the one dialled marked), e-mail, local time,
lockdown status, online sales, attempt. Compact: seven rows fit the 80x24 screen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from outreach.domain.siret import format_siret
from outreach.i18n import _, ngettext
from outreach.services.types import BusinessView, ClaimedTask
from outreach.tui.format import hour, short_datetime, status_label
from outreach.tui.widgets.drawn_once import DrawnOnce


def phones_of(task: ClaimedTask) -> list[tuple[str, str, bool]]:
    """The business's numbers: (E.164, as shown, flagged false), main first."""
    return numbers_of(task.business)


def numbers_of(b: BusinessView) -> list[tuple[str, str, bool]]:
    """A business's numbers: (E.164, as shown, flagged false), main first."""
    return [
        (number, shown or number, flagged)
        for number, shown, flagged in (
            (b.phone, b.phone_display, b.phone_flagged),
            (b.phone_alt, b.phone_alt_display, b.phone_alt_flagged),
        )
        if number
    ]


class BusinessCard(Static):
    """Redrawn in place for each new business (no remounting: the next one shows at once).

    In a browser (`outreach serve`) the phones and the e-mail are links: a click opens
    `tel:` / `mailto:` in the browser (the softphone, the mail program). The terminal in the
    page (xterm.js) draws the OSC 8 hyperlink a terminal gets but opens only http(s) ones, so
    the click is the app's own (an `@click` action naming the link by its index, never the
    business's text) and goes to the page through Textual's open_url."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._links: list[str] = []  # the links of the business shown, by index

    def _link(self, url: str, style: str = "") -> Style:
        self._links.append(url)
        return Style.parse(style or "none") + Style(
            link=url, meta={"@click": f"open_link({len(self._links) - 1})"}
        )

    def action_open_link(self, index: int) -> None:
        if 0 <= index < len(self._links):
            self.app.open_url(self._links[index])

    def show(
        self, task: ClaimedTask, now: datetime, dialled: str | None = None, links: bool = False
    ) -> None:
        """`dialled`: the number being dialled (else the queue's); `links`: phones as tel:
        links (in a browser)."""
        grid = self._grid(task.business, now, dialled or task.phone_to_call, links)
        attempt = _("tentative {n}").format(n=task.attempts + 1)
        if task.is_callback and task.callback_at is not None:
            attempt += "  ·  " + _("rappel prévu le {when}").format(
                when=short_datetime(task.callback_at, task.business.timezone)
            )
        grid.add_row(_("Fiche"), attempt)
        self.update(DrawnOnce(grid))

    def show_business(self, business: BusinessView, now: datetime) -> None:
        """The business alone (the follow-up screen: no task, no number being dialled)."""
        self.update(DrawnOnce(self._grid(business, now, None, False)))

    def _grid(self, b: BusinessView, now: datetime, dialling: str | None, links: bool) -> Table:
        self._links = []
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        title = Text(b.name, style="bold")
        if b.do_not_call:
            title.append("  " + _("OPPOSITION"), style="reverse")
        grid.add_row(_("Entreprise"), title)
        trade = " ".join(part for part in (b.trade_code, b.trade_label) if part)
        grid.add_row(_("Activité"), f"{trade or '-'}  ·  SIRET {format_siret(b.siret)}")
        place = ", ".join(p for p in (b.address, f"{b.postcode or ''} {b.city or ''}".strip()) if p)
        grid.add_row(_("Adresse"), f"{place} ({b.department})" if place else b.department)
        phones = Text()
        for number, shown, flagged in numbers_of(b):
            if phones:
                phones.append("   ")
            style = "bold reverse" if number == dialling else ""
            phones.append(shown, style=self._link(f"tel:{number}", style) if links else style)
            if flagged:
                phones.append(" " + _("(signalé faux)"), style="italic")
        if not phones:
            phones = Text(_("aucun"), style="italic")
        phones.append(f"   {hour(now, b.timezone)} " + _("là-bas"), style="dim")
        grid.add_row(_("Téléphone"), phones)
        if b.email or b.contact_name:
            # the person to ask for, and their e-mail (the link on the address only, not on
            # the cell's padding); one row, so the card still fits 80x24
            contact = Text(b.contact_name or "", style="bold")
            if b.email:
                if b.contact_name:
                    contact.append("  ·  ")
                contact.append(b.email, style=self._link(f"mailto:{b.email}") if links else "")
            grid.add_row(_("Contact") if b.contact_name else _("E-mail"), contact)
        status = Text(status_label(b.status), style="bold" if b.status == "closed_admin" else "")
        status.append(
            "  ·  " + (_("vend en ligne") if b.sells_online else _("pas de vente en ligne"))
        )
        if b.employees is not None:
            status.append(
                "  ·  " + ngettext("{n} salarié", "{n} salariés", b.employees).format(n=b.employees)
            )
        grid.add_row(_("Statut"), status)
        return grid
