"""One referral worked by an adviser: the business card, the referral's history and action plan,
and one-key moves (accept, book, done with the plan, decline, no-show). The referral is held
under a lease while this screen is open (the same rule as call tasks) and handed back on leaving.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, SelectionList, Static

from outreach.domain import lifecycle
from outreach.errors import OutreachError
from outreach.i18n import N_, _, language
from outreach.services import followup, referrals
from outreach.services.types import BusinessView, ReferralDetail
from outreach.tui.context import AgentContext
from outreach.tui.format import (
    action_status_label,
    in_zone,
    mail_refusal_label,
    parse_local_time,
    plan_action_label,
    referral_label,
    referral_status_label,
    short_datetime,
)
from outreach.tui.messages import FollowUpFailed, FollowUpReady
from outreach.tui.widgets.business_card import BusinessCard
from outreach.tui.widgets.footer import KeyFooter
from outreach.tui.widgets.status_bar import StatusBar
from outreach.tui.widgets.tick_list import TickList

# key -> (target state, label); the screen offers only the moves the domain allows
MOVES: dict[str, str] = {
    "accept": lifecycle.ACCEPTED,
    "book": lifecycle.SCHEDULED,
    "done": lifecycle.DONE,
    "decline": lifecycle.DECLINED,
    "no_show": lifecycle.NO_SHOW,
}


class BookModal(ModalScreen[tuple[datetime, str] | None]):
    """Date and time of the appointment in the business's time zone, and the adviser."""

    BINDINGS = [Binding("escape", "cancel", N_("Annuler"), id="book.cancel")]

    def __init__(self, business: str, zone: str, now: datetime, adviser: str) -> None:
        super().__init__()
        self.business, self.zone, self.now, self.adviser = business, zone, now, adviser

    def compose(self) -> ComposeResult:
        local = in_zone(self.now, self.zone)
        with Vertical(classes="modal"):
            yield Static(
                _("Rendez-vous : {name}").format(name=self.business), classes="modal-title"
            )
            yield Static(  # a Static wraps: the label is never cut
                _("Quand ? (heure de l'entreprise, {zone}, il est {time})").format(
                    zone=self.zone, time=local.strftime("%d/%m %H:%M")
                )
            )
            yield Input(placeholder="28/11 14:30", id="book-when")
            yield Label(_("Conseiller (identifiant)"))
            yield Input(self.adviser, id="book-adviser")
            yield Static("", id="modal-error", classes="error")
            yield Static(_("Entrée : valider · Échap : annuler"), classes="hint")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        """Enter validates from either field, as the hint says."""
        try:
            when = parse_local_time(self.query_one("#book-when", Input).value, self.now, self.zone)
        except ValueError as exc:
            self.query_one("#modal-error", Static).update(str(exc))
            self.query_one("#book-when", Input).focus()
            return
        adviser = self.query_one("#book-adviser", Input).value.strip() or self.adviser
        self.dismiss((when, adviser))

    def action_cancel(self) -> None:
        self.dismiss(None)


class PlanModal(ModalScreen[dict[str, str] | None]):
    """The action plan of a done diagnostic: actions picked from the catalogue (planned)."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Annuler"), id="plan.cancel"),
        Binding("ctrl+s", "save", N_("Enregistrer"), id="plan.save"),
    ]

    def __init__(self, business: str) -> None:
        super().__init__()
        self.business = business

    def compose(self) -> ComposeResult:
        lang = language()
        with Vertical(classes="modal"):
            yield Static(
                _("Diagnostic réalisé : plan d'action de {name}").format(name=self.business),
                classes="modal-title",
            )
            yield Label(_("Actions (Espace : cocher)"))
            yield TickList(
                ((a.label(lang), a.code) for a in lifecycle.PLAN_ACTIONS), id="plan-actions"
            )
            yield Static("", id="modal-error", classes="error")
            yield Static(_("Ctrl+S : enregistrer · Échap : annuler"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#plan-actions", SelectionList).focus()

    def action_save(self) -> None:
        picked = list(self.query_one("#plan-actions", SelectionList).selected)
        if not picked:
            self.query_one("#modal-error", Static).update(
                _("diagnostic réalisé : choisissez au moins une action du plan")
            )
            return
        self.dismiss(dict.fromkeys(picked, "planned"))

    def action_cancel(self) -> None:
        self.dismiss(None)


class FollowUpScreen(Screen[None]):
    CSS_PATH = "followups.tcss"
    BINDINGS = [
        Binding("a", "move('accept')", N_("Accepter"), id="followup.accept"),
        Binding("r", "move('book')", N_("Rendez-vous"), id="followup.book"),
        Binding("d", "move('done')", N_("Réalisée"), id="followup.done"),
        Binding("x", "move('decline')", N_("Refus"), id="followup.decline"),
        Binding("n", "move('no_show')", N_("Absent"), id="followup.no_show"),
        Binding("escape", "close", N_("Retour"), id="followup.close"),
    ]

    def __init__(self, context: AgentContext, referral_id: int) -> None:
        super().__init__()
        self.context = context
        self.referral_id = referral_id
        self.detail: ReferralDetail | None = None
        self.business: BusinessView | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static(_("Suivi de l'orientation n° {id}").format(id=self.referral_id), id="fu-title")
        yield BusinessCard(id="fu-card")
        yield Static("", id="fu-referral")
        yield Static("", id="fu-history")
        yield Static("", id="fu-error", classes="error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_focus(None)
        self._claim(self.context.agent.id)
        # the lease is renewed while the screen stays open, as on the call screen
        self.set_interval(self.context.settings.lease_renew_seconds, self._renew)

    def _renew(self) -> None:
        if self.detail is not None:
            self._claim(self.context.agent.id)

    # -- workers ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="followup")
    def _claim(self, agent_id: int) -> None:
        try:
            detail, business, _until = self.context.backend.call(
                followup.claim_referral,
                agent_id,
                self.referral_id,
                now=self.context.settings.now_arg(),
            )
        except OutreachError as exc:
            self.post_message(FollowUpFailed(str(exc), leave=True))
            return
        self.post_message(FollowUpReady(detail, business))

    @work(thread=True, exclusive=True, exit_on_error=False, group="followup")
    def _change(self, agent_id: int, to_state: str, expected: str, extra: dict[str, Any]) -> None:
        try:
            detail = self.context.backend.call(
                referrals.change_state,
                agent_id,
                self.referral_id,
                to_state,
                expected_state=expected,
                now=self.context.settings.now_arg(),
                **extra,
            )
        except OutreachError as exc:
            self.post_message(FollowUpFailed(str(exc)))
            return
        self.post_message(FollowUpReady(detail, self.business))

    # -- messages ---------------------------------------------------------------------------

    def on_follow_up_ready(self, message: FollowUpReady) -> None:
        self.detail = message.detail
        if message.business is not None:
            self.business = message.business
        self.query_one("#fu-error", Static).update("")
        self._show_detail()
        d = message.detail
        if d.email_to:
            self.app.notify(
                _("Invitation au rendez-vous (.ics) mise en file pour {to}").format(to=d.email_to),
                title=_("Suivi"),
            )
        elif d.email_refused:
            self.app.notify(
                mail_refusal_label(d.email_refused), title=_("Suivi"), severity="warning"
            )

    def on_follow_up_failed(self, message: FollowUpFailed) -> None:
        if message.leave:
            self.app.notify(message.error, title=_("Suivi"), severity="warning")
            self.dismiss(None)
            return
        self.query_one("#fu-error", Static).update(message.error)

    def _show_detail(self) -> None:
        d, b = self.detail, self.business
        if d is None or b is None:
            return
        now = self.context.settings.now()
        self.query_one("#fu-card", BusinessCard).show_business(b, now)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        kind = referral_label(d.kind) + (f" ({d.partner})" if d.partner else "")
        grid.add_row(_("Orientation"), kind)
        grid.add_row(_("État"), referral_status_label(d.state))
        if d.scheduled_at is not None:
            grid.add_row(
                _("Rendez-vous"),
                f"{short_datetime(d.scheduled_at, d.timezone)} ({d.timezone})"
                + (f" · {d.adviser_login}" if d.adviser_login else ""),
            )
        if d.actions:
            grid.add_row(
                _("Plan d'action"),
                ", ".join(
                    f"{plan_action_label(a.action)} ({action_status_label(a.status)})"
                    for a in d.actions
                ),
            )
        nexts = [referral_status_label(s) for s in d.allowed]
        grid.add_row(_("Suites possibles"), ", ".join(nexts) if nexts else _("aucune (finale)"))
        self.query_one("#fu-referral", Static).update(grid)
        zone = self.context.settings.display_timezone
        history = Table.grid(padding=(0, 1))
        history.add_column(no_wrap=True)
        history.add_column(no_wrap=True)
        history.add_column()
        for e in d.events:
            move = referral_status_label(e.to_state)
            if e.from_state is not None:
                move = f"{referral_status_label(e.from_state)} → {move}"
            history.add_row(
                short_datetime(e.at, zone),
                e.agent_login or "-",
                move + (f" · {e.note}" if e.note else ""),
            )
        self.query_one("#fu-history", Static).update(history)

    # -- actions ----------------------------------------------------------------------------

    def action_move(self, key: str) -> None:
        d, agent = self.detail, self.context.agent
        if d is None:
            return
        to_state = MOVES[key]
        if to_state not in d.allowed:
            self.query_one("#fu-error", Static).update(
                _("« {src} » → « {dst} » : impossible pour cette orientation").format(
                    src=referral_status_label(d.state), dst=referral_status_label(to_state)
                )
            )
            return
        if lifecycle.needs_appointment(to_state):
            now = self.context.settings.now()
            self.app.push_screen(
                BookModal(d.business_name, d.timezone, now, agent.login), self._booked
            )
        elif lifecycle.needs_plan(d.kind, to_state):
            self.app.push_screen(PlanModal(d.business_name), self._planned)
        else:
            self._change(agent.id, to_state, d.state, {})

    def _booked(self, got: tuple[datetime, str] | None) -> None:
        if got is not None and self.detail is not None:
            extra = {"scheduled_at": got[0], "adviser_login": got[1]}
            self._change(self.context.agent.id, lifecycle.SCHEDULED, self.detail.state, extra)

    def _planned(self, plan: dict[str, str] | None) -> None:
        if plan and self.detail is not None:
            self._change(self.context.agent.id, lifecycle.DONE, self.detail.state, {"plan": plan})

    def action_close(self) -> None:
        backend, agent_id, referral_id = (
            self.context.backend,
            self.context.agent.id,
            self.referral_id,
        )
        # on the app: the screen's own workers end with the screen
        self.app.run_worker(
            lambda: backend.call(followup.release_referral, agent_id, referral_id),
            thread=True,
            exit_on_error=False,
            group="followup-release",
        )
        self.dismiss(None)
