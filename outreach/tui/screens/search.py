"""Search for an inbound call: SIRET, phone in any format, or name; Enter records on the hit."""

from __future__ import annotations

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from outreach.domain.siret import format_siret
from outreach.i18n import N_, _, format_number, ngettext
from outreach.services import queue
from outreach.services.queue.search import SEARCH_MAX
from outreach.services.types import BusinessHit, CampaignSummary
from outreach.tui.context import AgentContext
from outreach.tui.format import status_label, task_state_label
from outreach.tui.messages import SearchDone
from outreach.tui.widgets.footer import KeyFooter
from outreach.tui.widgets.status_bar import StatusBar

SEARCH_LIMIT = 20  # hits shown; more says the list is capped


class SearchInput(Input):
    """The search field: a paste that would make it longer than SEARCH_MAX is refused as a
    whole at once (never searched, never cut), and the screen says why."""

    def _on_paste(self, event: events.Paste) -> None:
        line = event.text.splitlines()[0] if event.text else ""
        selected = abs(self.selection.end - self.selection.start)
        kept = len(self.value) - selected
        if kept + len(line) > SEARCH_MAX:
            event.prevent_default()  # Input's own handler would refuse it without a word
            event.stop()
            screen = self.screen
            if isinstance(screen, SearchScreen):
                screen.refuse_paste(len(line))


class SearchScreen(Screen[tuple[int, str, int] | None]):
    """Dismisses with (campaign id, campaign name, business id) of the business to call."""

    CSS_PATH = "search.tcss"
    BINDINGS = [
        Binding("escape", "close", N_("Retour"), id="search.close"),
        Binding("ctrl+f", "focus_query", N_("Nouvelle recherche"), id="search.query"),
    ]

    def __init__(self, context: AgentContext, campaigns: list[CampaignSummary]) -> None:
        """`campaigns`: the agent's active campaigns, last shown (a hit is called in one)."""
        super().__init__()
        self.context = context
        self.campaigns = campaigns
        self.hits: list[BusinessHit] = []

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static(_("Appel entrant : rechercher une entreprise"), id="search-title")
        yield SearchInput(
            placeholder=_("SIRET, téléphone (tout format) ou nom, puis Entrée"),
            id="query",
            max_length=SEARCH_MAX,  # a 25,000-character paste is refused at once, not searched
        )
        yield DataTable(id="hits", cursor_type="row", zebra_stripes=True)
        yield Static("", id="search-status", classes="hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#hits", DataTable).add_columns(
            _("Entreprise"), "SIRET", _("Ville"), _("Téléphone"), _("Statut"), _("Campagnes")
        )
        self.query_one("#hits").display = False  # no empty table (nor its cursor) before a hit
        self.query_one("#query", Input).focus()

    def refuse_paste(self, length: int) -> None:
        self.query_one("#search-status", Static).update(
            _("collage refusé : {n} caractères, {limit} au plus pour une recherche").format(
                n=format_number(length), limit=SEARCH_MAX
            )
        )

    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if not query:  # nothing asked: nothing shown, not the last search's answer
            self.hits = []
            self.query_one("#hits", DataTable).clear()
            self.query_one("#hits").display = False
            self.query_one("#search-status", Static).update(
                _("Tapez un SIRET, un téléphone ou un nom, puis Entrée.")
            )
            return
        self.query_one("#search-status", Static).update(_("recherche…"))
        self._search(self.context.agent.id, query)

    @work(thread=True, exclusive=True, exit_on_error=False, group="search")
    def _search(self, agent_id: int, query: str) -> None:
        hits = self.context.backend.call(
            queue.search_businesses, agent_id, query, limit=SEARCH_LIMIT
        )
        self.post_message(SearchDone(query, hits))

    def on_search_done(self, message: SearchDone) -> None:
        self.hits = message.hits
        table = self.query_one("#hits", DataTable)
        table.clear()
        for hit in self.hits:
            b = hit.business
            campaigns = ", ".join(
                f"{name} ({task_state_label(state)})" for _id, name, state in hit.campaigns
            )
            table.add_row(
                b.name,
                format_siret(b.siret),
                b.city or "",
                b.phone_display or "",
                _("OPPOSITION") if b.do_not_call else status_label(b.status, short=True),
                campaigns or "-",
            )
        n = len(self.hits)
        if n >= SEARCH_LIMIT:
            status = _(
                "Les {n} premiers résultats pour « {query} » (liste limitée : précisez la "
                "recherche) : Entrée pour appeler"
            ).format(n=n, query=message.query)
        elif n:
            status = ngettext(
                "{n} résultat pour « {query} » : Entrée pour appeler",
                "{n} résultats pour « {query} » : Entrée pour appeler",
                n,
            ).format(n=n, query=message.query)
        else:
            status = _("Aucune entreprise pour « {query} »").format(query=message.query)
        table.display = bool(n)
        self.query_one("#search-status", Static).update(status)
        if self.hits:
            table.focus()

    @on(DataTable.RowSelected, "#hits")
    def _selected(self, event: DataTable.RowSelected) -> None:
        row = event.cursor_row
        if not 0 <= row < len(self.hits):
            return
        hit = self.hits[row]
        status = self.query_one("#search-status", Static)
        if hit.business.do_not_call:
            status.update(_("Cette entreprise s'est opposée aux appels : rien à enregistrer."))
            return
        campaign = self._campaign_for(hit)
        if campaign is None:
            status.update(_("Aucune campagne active pour vous : voyez votre superviseur."))
            return
        self.dismiss((campaign[0], campaign[1], hit.business.id))

    def _campaign_for(self, hit: BusinessHit) -> tuple[int, str] | None:
        """The campaign to record in: the one being worked (the business joins it if need be),
        else one of the agent's active campaigns the business is in, else the first of them."""
        from outreach.tui.screens.call import CallScreen

        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 else None
        if isinstance(below, CallScreen):
            return below.campaign_id, below.campaign_name
        workable = {c.id: c.name for c in self.campaigns}
        for campaign_id, _name, _state in hit.campaigns:
            if campaign_id in workable:
                return campaign_id, workable[campaign_id]
        first = next(iter(workable.items()), None)
        return first

    def action_focus_query(self) -> None:
        self.query_one("#query", Input).focus()

    def action_close(self) -> None:
        self.dismiss(None)
