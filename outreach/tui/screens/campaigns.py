"""Pick a campaign: the agent's campaigns with queue depth, due callbacks and today's own counts."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from outreach.i18n import N_, _
from outreach.services import queue
from outreach.services.types import CampaignSummary
from outreach.tui.context import AgentContext
from outreach.tui.messages import CampaignEntered, CampaignsLoaded, CampaignsShown, OpenCampaign
from outreach.tui.widgets.footer import KeyFooter
from outreach.tui.widgets.status_bar import StatusBar


class CampaignsScreen(Screen[None]):
    CSS_PATH = "campaigns.tcss"
    BINDINGS = [
        Binding("enter", "pick", N_("Appeler"), id="campaigns.pick"),
        Binding("f5", "reload", N_("Actualiser"), id="campaigns.reload", show=False),
        Binding("c", "app.callbacks", N_("Mes rappels"), id="campaigns.callbacks"),
        Binding("s", "app.search", N_("Rechercher"), id="campaigns.search"),
        Binding("f", "app.followups", N_("Suivis"), id="campaigns.followups"),
        Binding("question_mark", "app.help", N_("Aide"), id="campaigns.help"),
        Binding("ctrl+l", "app.logout", N_("Déconnexion"), id="campaigns.logout"),
    ]

    def __init__(
        self, context: AgentContext, campaigns: list[CampaignSummary] | None = None
    ) -> None:
        """`campaigns`: the list read with the login, shown at once (not read again on entry)."""
        super().__init__()
        self.context = context
        self.campaigns: list[CampaignSummary] = []
        self._read_with_login = campaigns

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static(_("Mes campagnes"), id="campaigns-title")
        yield DataTable(id="campaigns", cursor_type="row", zebra_stripes=True)
        yield Static("", id="campaigns-empty", classes="hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#campaigns", DataTable)
        table.add_column(_("Campagne"), width=28)
        table.add_columns(
            _("Périmètre"),
            _("Confinement"),
            _("En file"),
            _("Rappels dus"),
            _("Mes appels"),
            _("Joints"),
        )
        table.focus()
        if self._read_with_login is not None:  # the app has them too (LoggedIn)
            self._show(self._read_with_login, tell_app=False)

    def on_screen_resume(self) -> None:
        self.post_message(CampaignEntered(""))
        if self._read_with_login is not None:
            self._read_with_login = None  # just shown; read again when coming back
            return
        self.action_reload()

    def action_reload(self) -> None:
        self._load(self.context.agent.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="campaigns")
    def _load(self, agent_id: int) -> None:
        found = self.context.backend.call(
            queue.campaigns_for_agent, agent_id, now=self.context.settings.now_arg()
        )
        self.post_message(CampaignsLoaded(found))

    def on_campaigns_loaded(self, message: CampaignsLoaded) -> None:
        self._show(message.campaigns)

    def _show(self, campaigns: list[CampaignSummary], *, tell_app: bool = True) -> None:
        self.campaigns = campaigns
        if tell_app:
            self.post_message(CampaignsShown(campaigns))
        table = self.query_one("#campaigns", DataTable)
        row = table.cursor_row
        table.clear()
        for c in campaigns:
            table.add_row(
                c.name,
                c.chamber_code or _("nationale"),
                c.lockdown or "-",
                str(c.queued),
                str(c.due_callbacks),
                str(c.my_calls_today),
                str(c.my_reached_today),
                key=str(c.id),
            )
        if campaigns:
            table.move_cursor(row=min(row, len(campaigns) - 1))
        self.query_one("#campaigns-empty", Static).update(
            "" if campaigns else _("Aucune campagne active pour vous : voyez votre superviseur.")
        )

    @on(DataTable.RowSelected, "#campaigns")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_pick()

    def action_pick(self) -> None:
        table = self.query_one("#campaigns", DataTable)
        if self.campaigns and 0 <= table.cursor_row < len(self.campaigns):
            self.post_message(OpenCampaign(self.campaigns[table.cursor_row]))
