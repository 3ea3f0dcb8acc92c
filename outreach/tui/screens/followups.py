"""Suivis: the chamber's open referrals by due date, filtered by kind and state; Enter works one
on the follow-up screen (screens/followup.py)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from outreach.domain.lifecycle import OPEN_STATES
from outreach.domain.referrals import REFERRAL_KINDS
from outreach.i18n import N_, _
from outreach.services import followup
from outreach.services.types import FollowUpItem
from outreach.tui.context import AgentContext
from outreach.tui.format import referral_label, referral_status_label, short_datetime
from outreach.tui.messages import FollowUpsLoaded
from outreach.tui.widgets.footer import KeyFooter
from outreach.tui.widgets.status_bar import StatusBar

KIND_CYCLE: tuple[str | None, ...] = (None, *(k.code for k in REFERRAL_KINDS))
STATE_CYCLE: tuple[str | None, ...] = (None, *OPEN_STATES)


class FollowUpsScreen(Screen[None]):
    CSS_PATH = "followups.tcss"
    BINDINGS = [
        Binding("enter", "open", N_("Traiter"), id="followups.open"),
        Binding("t", "next_kind", N_("Type"), id="followups.kind"),
        Binding("e", "next_state", N_("État"), id="followups.state"),
        Binding("f5", "reload", N_("Actualiser"), id="followups.reload"),
        Binding("escape", "close", N_("Retour"), id="followups.close"),
    ]

    def __init__(self, context: AgentContext) -> None:
        super().__init__()
        self.context = context
        self.items: list[FollowUpItem] = []
        self.kind: str | None = None
        self.state: str | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static(_("Suivis des orientations"), id="followups-title")
        yield Static("", id="followups-filters", classes="hint")
        yield DataTable(id="followups", cursor_type="row", zebra_stripes=True)
        yield Static("", id="followups-empty", classes="hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#followups", DataTable)
        table.add_columns(
            _("Échéance"), _("État"), _("Type"), _("Entreprise"), _("Ville"), _("En cours")
        )
        table.focus()
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def _show_filters(self) -> None:
        kind = referral_label(self.kind) if self.kind else _("tous")
        state = referral_status_label(self.state) if self.state else _("tous les ouverts")
        self.query_one("#followups-filters", Static).update(
            _("Type (t) : {kind} · État (e) : {state}").format(kind=kind, state=state)
        )

    def action_next_kind(self) -> None:
        self.kind = KIND_CYCLE[(KIND_CYCLE.index(self.kind) + 1) % len(KIND_CYCLE)]
        self.action_reload()

    def action_next_state(self) -> None:
        self.state = STATE_CYCLE[(STATE_CYCLE.index(self.state) + 1) % len(STATE_CYCLE)]
        self.action_reload()

    def action_reload(self) -> None:
        self._show_filters()
        self._load(self.context.agent.id, self.kind, self.state)

    @work(thread=True, exclusive=True, exit_on_error=False, group="followups")
    def _load(self, agent_id: int, kind: str | None, state: str | None) -> None:
        items = self.context.backend.call(
            followup.worklist,
            agent_id,
            kinds=(kind,) if kind else (),
            states=(state,) if state else (),
            now=self.context.settings.now_arg(),
        )
        self.post_message(FollowUpsLoaded(items))

    def on_follow_ups_loaded(self, message: FollowUpsLoaded) -> None:
        self.items = list(message.items)
        table = self.query_one("#followups", DataTable)
        row = table.cursor_row
        table.clear()
        zone = self.context.settings.display_timezone
        for item in self.items:
            due = short_datetime(item.due_at, zone)
            table.add_row(
                f"{due} !" if item.overdue else due,
                referral_status_label(item.state),
                referral_label(item.kind),
                item.business_name,
                item.city or item.department,
                item.held_by or "",
                key=str(item.referral_id),
            )
        if self.items:
            table.move_cursor(row=min(max(row, 0), len(self.items) - 1))
        self.query_one("#followups-empty", Static).update(
            "" if self.items else _("Aucune orientation à suivre avec ces filtres.")
        )

    @on(DataTable.RowSelected, "#followups")
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        from outreach.tui.screens.followup import FollowUpScreen

        row = self.query_one("#followups", DataTable).cursor_row
        if 0 <= row < len(self.items):
            self.app.push_screen(FollowUpScreen(self.context, self.items[row].referral_id))

    def action_close(self) -> None:
        self.dismiss(None)
