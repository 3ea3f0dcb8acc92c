"""My callbacks: due now first, then later ones; Enter takes one onto the call screen."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from outreach.i18n import N_, _
from outreach.services import queue
from outreach.services.types import CallbackItem
from outreach.tui.context import AgentContext
from outreach.tui.format import short_datetime
from outreach.tui.messages import CallbacksLoaded
from outreach.tui.widgets.footer import KeyFooter
from outreach.tui.widgets.status_bar import StatusBar


class CallbacksScreen(Screen[CallbackItem | None]):
    CSS_PATH = "callbacks.tcss"
    BINDINGS = [
        Binding("enter", "take", N_("Appeler"), id="callbacks.take"),
        Binding("f5", "reload", N_("Actualiser"), id="callbacks.reload"),
        Binding("escape", "close", N_("Retour"), id="callbacks.close"),
    ]

    def __init__(self, context: AgentContext) -> None:
        super().__init__()
        self.context = context
        self.items: list[CallbackItem] = []

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static(_("Mes rappels"), id="callbacks-title")
        yield DataTable(id="callbacks", cursor_type="row", zebra_stripes=True)
        yield Static("", id="callbacks-empty", classes="hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#callbacks", DataTable)
        table.add_columns(_("Quand"), _("État"), _("Pour"), _("Entreprise"), _("Campagne"))
        table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        self._load(self.context.agent.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="callbacks")
    def _load(self, agent_id: int) -> None:
        items = self.context.backend.call(
            queue.my_callbacks, agent_id, now=self.context.settings.now_arg()
        )
        self.post_message(CallbacksLoaded(items))

    def on_callbacks_loaded(self, message: CallbacksLoaded) -> None:
        # due ones first, each group by time
        self.items = sorted(message.items, key=lambda i: (not i.due, i.callback_at))
        table = self.query_one("#callbacks", DataTable)
        table.clear()
        zone = self.context.settings.display_timezone
        for item in self.items:
            table.add_row(
                short_datetime(item.callback_at, zone),
                _("à appeler") if item.due else _("plus tard"),
                _("moi") if item.personal else _("l'équipe"),
                item.business_name,
                item.campaign_name,
            )
        self.query_one("#callbacks-empty", Static).update(
            "" if self.items else _("Aucun rappel pour le moment.")
        )

    @on(DataTable.RowSelected, "#callbacks")
    def _selected(self) -> None:
        self.action_take()

    def action_take(self) -> None:
        row = self.query_one("#callbacks", DataTable).cursor_row
        if 0 <= row < len(self.items):
            self.dismiss(self.items[row])

    def action_close(self) -> None:
        self.dismiss(None)
