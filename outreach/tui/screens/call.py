"""The call screen, the main loop: the business, its history, the script, nine outcome keys.

Recording an outcome and claiming the next business happen in one thread worker, so the next
business is on screen as soon as the outcome is saved. When the database cannot be reached the
call goes to the local outbox and the screen says how many calls wait.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from outreach.domain.outcomes import OUTCOMES, OUTCOMES_BY_CODE
from outreach.i18n import N_, _, language
from outreach.services import queue
from outreach.services.outbox import UNREACHABLE, is_damaged, offline_message, record_or_keep
from outreach.services.types import CallInput, ClaimedTask, ReferralInput
from outreach.tui.context import AgentContext
from outreach.tui.format import long_datetime, mail_refusal_label, outcome_label
from outreach.tui.messages import (
    CallCounted,
    CallSaved,
    CallUndone,
    CampaignEntered,
    LeaseLost,
    OutboxChanged,
    TaskReady,
)
from outreach.tui.widgets.business_card import BusinessCard, phones_of
from outreach.tui.widgets.day_bar import DayBar
from outreach.tui.widgets.footer import KeyFooter
from outreach.tui.widgets.history import HistoryTable
from outreach.tui.widgets.outcome_bar import OutcomeBar
from outreach.tui.widgets.script_form import ChoiceField, ScriptForm
from outreach.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from outreach.tui.screens.modals import CallbackTimeModal


# the outcome keys that open the callback modal (see CallScreen.on_key)
_CALLBACK_KEYS = {o.key: o.code for o in OUTCOMES if o.needs_callback_time}


class CallScreen(Screen[None]):
    CSS_PATH = "call.tcss"
    BINDINGS = [
        *(
            Binding(
                o.key, f"outcome('{o.code}')", o.label(language()), show=False, id=f"call.{o.code}"
            )
            for o in OUTCOMES
        ),
        Binding("n", "notes", N_("Notes"), id="call.notes"),
        Binding("d", "other_number", N_("Autre numéro"), id="call.other_number"),
        Binding("r", "release", N_("Rendre"), id="call.release"),
        Binding("c", "callbacks", N_("Rappels"), id="call.callbacks"),
        Binding("s", "search", N_("Rechercher"), id="call.search"),
        Binding("f5", "retry", N_("Réessayer"), id="call.retry"),
        Binding("p", "pause", N_("Pause"), id="call.pause"),
        Binding("a", "take_alert", N_("Prendre le rappel dû"), id="call.take_alert", show=False),
        # ctrl+z works from a field too; u where no field has the focus
        Binding("ctrl+z", "undo", N_("Annuler l'appel"), priority=True, id="call.undo"),
        Binding("u", "undo", N_("Annuler l'appel"), show=False),
        Binding("question_mark", "help", N_("Aide"), id="call.help"),
        # Escape leaves the field first (the letters are commands again), then the screen
        Binding("escape", "leave_field", N_("Sortir du champ"), id="call.leave_field"),
        Binding("escape", "leave", N_("Campagnes"), id="call.leave"),
    ]
    AUTO_FOCUS = None  # nothing hidden gets the focus: a business's first answer, or nothing
    # the letter commands, off while an answer or the notes have the focus
    FIELD_OFF = frozenset(
        {
            "notes",
            "release",
            "callbacks",
            "search",
            "help",
            "leave",
            "pause",
            "take_alert",
            "other_number",
        }
    )
    UNDO_SECONDS = 10.0  # how long the "saved" line offers the undo

    def __init__(
        self,
        context: AgentContext,
        campaign_id: int,
        campaign_name: str,
        take: tuple[int | None, int | None] | None = None,
    ) -> None:
        super().__init__()
        self.context = context
        self.campaign_id = campaign_id
        self.campaign_name = campaign_name
        self.current: ClaimedTask | None = None
        # the queue answered nothing (empty, or the database away): f5 asks again
        self.nothing_to_call = False
        self.dialled: str | None = None  # the number the adviser dials (d: the other one)
        self.shown_at: datetime | None = None
        self.saving = False
        self.leaving = False  # set when the adviser leaves: no claim after that
        self._take_args = take
        self.undoable: CallInput | None = None  # the call just saved, while it may be undone
        self._saved_detail: dict[str, str] = {}  # outcome -> what to read back once saved
        self._echo_timer: Timer | None = None
        # the callback modal just pushed: keys typed right after `6` go to its time field
        self._type_ahead: CallbackTimeModal | None = None

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield DayBar(self.context, self.campaign_id, id="day-bar")
        yield Static("", id="banner", classes="banner")
        history = HistoryTable(id="history")
        history.border_title = _("Historique")
        with Vertical(id="call-body"):
            with Horizontal(id="call-top"):
                yield BusinessCard(id="business")
                with Vertical(id="call-right"):
                    yield ScriptForm(id="script")
                    yield Label(_("Notes (n)"), id="notes-label")
                    yield Input(placeholder=_("notes de l'appel"), id="notes", compact=True)
            yield history
        yield Static("", id="saved")
        yield OutcomeBar(id="outcomes")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.post_message(CampaignEntered(self.campaign_name))
        self.query_one("#banner").display = False
        self.query_one("#call-body").display = False
        self.query_one("#saved").display = False
        self.set_interval(self.context.settings.lease_renew_seconds, self._renew)
        self.set_interval(self.context.settings.empty_retry_seconds, self._retry_if_idle)
        self.set_interval(30, self._tick)  # the local time at the business moves on
        if self._take_args is not None:
            task_id, business_id = self._take_args
            self.take(self.campaign_id, task_id=task_id, business_id=business_id)
        else:
            self._claim()

    def on_resize(self) -> None:
        # a narrow terminal: the footer's keys closer together and no palette hint (ctrl+p
        # still opens it), so that every key of the screen fits
        footer = self.query_one(KeyFooter)
        footer.compact = self.size.width < 100
        footer.show_command_palette = self.size.width >= 100
        # a short screen shows the first question, not the script's intro, under the card
        self.set_class(self.size.height < 30 or self.size.width < 100, "narrow")

    def on_screen_resume(self) -> None:
        self.post_message(CampaignEntered(self.campaign_name))

    # -- showing a business --------------------------------------------------------------------

    def _show_banner(self, text: str) -> None:
        banner = self.query_one("#banner", Static)
        banner.update(text)
        banner.display = True

    async def on_task_ready(self, message: TaskReady) -> None:
        self.saving = False
        self.current = message.task
        self.nothing_to_call = message.task is None
        self.query_one(DayBar).first_read()
        body = self.query_one("#call-body")
        if message.task is None:
            self.refresh_bindings()  # f5
            body.display = False
            self.set_focus(None)
            if not self.context.day.paused:
                self.context.day.track("ready")
            if message.offline is not None:
                waiting = message.waiting
                self._show_banner(
                    message.offline
                    + "\n"
                    + _(
                        "{n} appel(s) en attente dans la boîte d'envoi locale ; nouvel essai automatique."
                    ).format(n=waiting)
                )
            elif message.empty is not None:
                self._show_banner(
                    _("File vide : {message}").format(message=message.empty.message)
                    + "\n"
                    + _("F5 : réessayer · c : mes rappels · s : rechercher · Échap : campagnes")
                )
            return
        task = message.task
        self.shown_at = self.context.settings.now()
        self.context.day.track(
            "on_call", business_id=task.business.id, campaign_id=self.campaign_id
        )
        # one frame with all of it: none drawn while a new script's fields mount, which would
        # show the business without its questions and hold the next frame back (Textual draws
        # the next one 17 to 33 ms after the last)
        with self.app.batch_update():
            self.query_one(DayBar).shown(task.task_id)
            self.query_one("#banner").display = False
            body.display = True
            self.refresh_bindings()  # d (other number) and f5 depend on the business
            zone = self.context.settings.display_timezone
            self.dialled = task.phone_to_call
            self._show_card()
            self.query_one(HistoryTable).show(task, zone)
            form = self.query_one(ScriptForm)
            mounting = form.load(task.script, task.script_intro)
            self.query_one("#notes", Input).value = ""
            if mounting is not None:  # a new script: its fields in the frame of the business
                await mounting
            # what is typed now goes to the first answer, shown focused; no field: commands
            first = form.first_field()
            self.set_focus(first)
            if first is not None:
                first.scroll_visible(animate=False)

    def _show_card(self) -> None:
        if self.current is not None:
            self.query_one(BusinessCard).show(
                self.current, self.context.settings.now(), self.dialled, links=self.app.is_web
            )

    def _tick(self) -> None:
        self._show_card()

    def action_other_number(self) -> None:
        """d: dial the business's other number (the one recorded with the call)."""
        if self.current is None:
            return
        numbers = [number for number, _shown, _flagged in phones_of(self.current)]
        if len(numbers) < 2:
            self.notify(_("Un seul numéro pour cette entreprise"), timeout=3)
            return
        at = numbers.index(self.dialled) if self.dialled in numbers else -1
        self.dialled = numbers[(at + 1) % len(numbers)]
        self._show_card()

    # -- workers: claim, take, record, renew, release -------------------------------------------

    def _post_next(self, agent_id: int) -> None:
        """Claim the next business (in the calling worker's thread) and post it."""
        backend, now = self.context.backend, self.context.settings.now_arg()
        try:
            task = backend.call(queue.claim_next, agent_id, self.campaign_id, now=now)
            empty = None
            if task is None:
                empty = backend.call(queue.why_empty, agent_id, self.campaign_id, now=now)
        except UNREACHABLE as exc:
            offline = backend.call(offline_message, exc)
            waiting = self.context.outbox.count(agent_id)
            self.post_message(TaskReady(None, offline=offline, waiting=waiting))
            return
        if not get_current_worker().is_cancelled and not self.leaving:
            self.post_message(TaskReady(task, empty))
        elif task is not None:  # the adviser left meanwhile: nobody will see it, hand it back
            backend.call(queue.release_task, agent_id, task.task_id, "left_screen", delay_minutes=0)

    @work(thread=True, exclusive=True, exit_on_error=False, group="claim")
    def _claim(self) -> None:
        self._post_next(self.context.agent.id)

    def action_retry(self) -> None:
        self._retry_if_idle()

    def _retry_if_idle(self) -> None:
        if self.leaving or self.app.screen is not self:  # left, or a screen on top of it
            return
        if self.current is None and not self.saving and not self.context.day.paused:
            self._claim()

    # -- pause, resume, the callback alert (the adviser's day: tui/agent_day.py) ----------------

    def action_pause(self) -> None:
        """`p`: pause with a reason (the business on screen is handed back); again: resume."""
        if self.context.day.paused:
            self.resume()
        elif not self.saving:
            from outreach.tui.screens.pause import PauseModal

            self.app.push_screen(PauseModal(self.context), self._paused)

    def _paused(self, chosen: tuple[str, str | None] | None) -> None:
        if chosen is None or self.saving:
            return
        reason, note = chosen
        self.context.day.track("paused", reason=reason, note=note)
        self._hand_back_shown()
        self.query_one(DayBar).shown(None)
        self.query_one("#call-body").display = False
        self._show_banner(
            _("En pause : {reason}").format(reason=self.context.day.reason_label(reason))
            + "\n"
            + _("p ou une touche de résultat : reprendre")
        )

    def resume(self) -> None:
        self.context.day.track("ready")
        self.query_one("#banner").display = False
        self._claim()

    def action_take_alert(self) -> None:
        alert = self.query_one(DayBar).alert
        if alert is None or self.saving:
            return
        if self.context.day.paused:
            self.context.day.track("ready")
        self.take(alert.campaign_id, task_id=alert.task_id)

    def database_back(self) -> None:
        """The outbox emptied: the database is back, fetch a business if none is shown."""
        self._retry_if_idle()

    def take(
        self, campaign_id: int, *, task_id: int | None = None, business_id: int | None = None
    ) -> None:
        """Call a chosen business (a callback, a search hit) now."""
        if self.saving:
            return
        self.saving = True
        self._take_worker(campaign_id, task_id, business_id, self.current)

    @work(thread=True, exclusive=True, exit_on_error=False, group="claim")
    def _take_worker(
        self,
        campaign_id: int,
        task_id: int | None,
        business_id: int | None,
        current: ClaimedTask | None,
    ) -> None:
        backend, agent_id = self.context.backend, self.context.agent.id
        if current is not None and current.campaign_id != campaign_id:
            backend.call(queue.release_task, agent_id, current.task_id, "switched", delay_minutes=0)
        task = backend.call(
            queue.take_task,
            agent_id,
            campaign_id,
            task_id=task_id,
            business_id=business_id,
            now=self.context.settings.now_arg(),
        )
        self.post_message(TaskReady(task))

    def on_key(self, event: events.Key) -> None:
        """The callback key acts here, as it reaches the screen, not later through the app's
        key bindings: its modal is pushed at once, so the keys typed right after it, still on
        their way to this screen on a loaded machine, are handed to the modal's time field
        instead of being lost."""
        modal = self._type_ahead
        if modal is not None and modal in self.app.screen_stack:
            event.stop()
            event.prevent_default()
            modal.type_ahead(event.key, event.character)
            return
        self._type_ahead = None
        code = _CALLBACK_KEYS.get(event.key)
        if code is not None:
            event.stop()
            event.prevent_default()
            self.action_outcome(code)

    def action_outcome(self, code: str) -> None:
        if self.context.day.paused and not self.saving:
            self.resume()  # any outcome key resumes a pause
            return
        if self.current is None or self.saving:
            return
        entry = OUTCOMES_BY_CODE[code]
        task = self.current
        # until the next business (or back on call if cancelled)
        self.context.day.track("wrap_up", campaign_id=self.campaign_id)
        # the modals (and their widgets) load on first use, not with the call screen
        if entry.needs_callback_time:
            from outreach.tui.screens.modals import CallbackTimeModal

            def picked(when: tuple[datetime, bool] | None) -> None:
                self._type_ahead = None
                if when is not None:
                    self._saved_detail[code] = _("le {when} (heure de l'entreprise)").format(
                        when=long_datetime(when[0], task.business.timezone)
                    )
                    self._save(code, callback=when)
                else:
                    self._back_on_call()

            now = self.context.settings.now()
            modal = CallbackTimeModal(
                task.business.name,
                task.business.timezone,
                now,
                task.business.department,
                task.window,
            )
            self._type_ahead = modal
            self.app.push_screen(modal, picked)
        elif entry.needs_confirmation:
            from outreach.tui.screens.modals import ConfirmDoNotCallModal

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self._save(code)
                else:
                    self._back_on_call()

            self.app.push_screen(ConfirmDoNotCallModal(task.business.name), confirmed)
        elif entry.allows_referrals:
            from outreach.tui.screens.modals import ReferralModal

            def referred(referrals: tuple[ReferralInput, ...] | None) -> None:
                if referrals is not None:
                    self._save(code, referrals=referrals)
                else:
                    self._back_on_call()

            business = task.business
            self.app.push_screen(
                ReferralModal(business.name, business.email, business.do_not_call), referred
            )
        else:
            self._save(code)

    def _back_on_call(self) -> None:
        if self.current is not None:
            self.context.day.track(
                "on_call", business_id=self.current.business.id, campaign_id=self.campaign_id
            )

    def _save(
        self,
        code: str,
        *,
        callback: tuple[datetime, bool] | None = None,
        referrals: tuple[ReferralInput, ...] = (),
    ) -> None:
        task, agent = self.current, self.context.agent
        if task is None or self.saving:
            return
        self.saving = True
        now = self.context.settings.now()
        call = CallInput(
            uuid=str(uuid.uuid4()),
            agent_id=agent.id,
            campaign_id=task.campaign_id,
            business_id=task.business.id,
            task_id=task.task_id,
            outcome=code,
            started_at=self.shown_at or now,
            ended_at=now,
            phone=self.dialled or task.phone_to_call,
            notes=self.query_one("#notes", Input).value.strip() or None,
            callback_at=callback[0] if callback else None,
            callback_personal=callback[1] if callback else True,
            referrals=referrals,
            answers=self.query_one(ScriptForm).answers(),
        )
        self._record_and_next(call)

    # Not exclusive: a recording is never cancelled; `saving` keeps to one at a time.
    @work(thread=True, exit_on_error=False, group="record")
    def _record_and_next(self, call: CallInput) -> None:
        backend, outbox = self.context.backend, self.context.outbox
        now = self.context.settings.now_arg()
        why: list[BaseException] = []
        result = backend.call(
            record_or_keep,
            outbox,
            call,
            lambda db, c: queue.record_call(db, c, now=now),
            kept=why.append,
        )
        damaged = backend.call(offline_message, why[0]) if why and is_damaged(why[0]) else None
        if result is None:  # offline: the count first, so the status line shows it
            self.app.post_message(OutboxChanged(outbox.count(call.agent_id)))
        # the next business before the counts: redrawing them meanwhile slows the claim (GIL)
        self._post_next(call.agent_id)
        self.post_message(CallSaved(call.outcome, result, call, damaged))

    def on_call_saved(self, message: CallSaved) -> None:
        entry = OUTCOMES_BY_CODE[message.outcome]
        self.post_message(CallCounted(entry.reached))
        saved = message.result is not None and not message.result.replayed
        self.undoable = message.call if saved and not entry.opt_out else None
        if saved:
            line = _("Enregistré : {outcome}").format(outcome=outcome_label(message.outcome))
            detail = self._saved_detail.pop(message.outcome, None)
            if detail:
                line += " " + detail
            if self.undoable is not None:
                line += "  ·  " + _("ctrl+z ou u : annuler cet appel")
            self._echo(line)
        self.refresh_bindings()
        if message.result is None:
            kept = _("Base injoignable : appel « {outcome} » gardé dans la boîte d'envoi locale")
            if message.damaged:  # found damaged: said, with the way back
                kept = (
                    message.damaged
                    + "\n"
                    + _("Appel « {outcome} » gardé dans la boîte d'envoi locale")
                )
            self.notify(
                kept.format(outcome=outcome_label(message.outcome)),
                severity="warning",
                timeout=15,
            )
        elif message.result.lease_lost:
            self.notify(
                _("Appel enregistré (la fiche avait expiré entre-temps)"), severity="warning"
            )
        if message.result is not None and message.result.email_to:
            self.notify(_("Courriel mis en file pour {to}").format(to=message.result.email_to))
        elif message.result is not None and message.result.email_refused:
            self.notify(mail_refusal_label(message.result.email_refused), severity="warning")

    def _echo(self, line: str) -> None:
        """The line above the outcome keys for a few seconds (the undo is offered as long)."""
        saved = self.query_one("#saved", Static)
        saved.update(line)
        saved.display = True
        if self._echo_timer is not None:
            self._echo_timer.stop()
        self._echo_timer = self.set_timer(self.UNDO_SECONDS, self._echo_over)

    def _echo_over(self) -> None:
        self.query_one("#saved").display = False
        self.undoable = None
        self.refresh_bindings()

    def in_field(self) -> bool:
        return isinstance(self.focused, Input | ChoiceField)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo":
            return self.undoable is not None
        if action == "leave_field":
            return self.in_field()
        if action == "retry":
            # only once the queue said it had nothing: not while the first business is on its
            # way (the footer keeps its room for what applies, and is not redrawn for a key
            # that would go again as the business shows)
            return self.current is None and self.nothing_to_call
        if action == "other_number":
            return self.current is not None and len(phones_of(self.current)) > 1
        if action in self.FIELD_OFF and self.in_field():
            return False
        return True

    async def action_callbacks(self) -> None:
        await self.run_action("app.callbacks")

    async def action_search(self) -> None:
        await self.run_action("app.search")

    async def action_help(self) -> None:
        await self.run_action("app.help")

    def action_leave_field(self) -> None:
        self.set_focus(None)

    def action_undo(self) -> None:
        if self.undoable is None or self.saving:
            return
        self.saving = True
        call, self.undoable = self.undoable, None
        self.refresh_bindings()
        self._undo_worker(call)

    @work(thread=True, exit_on_error=False, group="record")
    def _undo_worker(self, call: CallInput) -> None:
        now = self.context.settings.now_arg()
        task = self.context.backend.call(queue.undo_call, call.agent_id, call.uuid, now=now)
        self.post_message(CallUndone(task, call))

    async def on_call_undone(self, message: CallUndone) -> None:
        await self.on_task_ready(TaskReady(message.task))
        call = message.call
        self.query_one("#notes", Input).value = call.notes or ""
        self.query_one(ScriptForm).restore(call.answers)
        self.post_message(CallCounted(OUTCOMES_BY_CODE[call.outcome].reached, -1))
        self._echo(
            _("Appel annulé : {outcome}. Choisissez le bon résultat.").format(
                outcome=outcome_label(call.outcome)
            )
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # the app reports the error; the screen becomes usable again
        if event.state == WorkerState.ERROR and event.worker.group in ("record", "claim"):
            self.saving = False

    def _renew(self) -> None:
        if self.current is not None:
            self._renew_worker(self.context.agent.id, self.current.task_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="lease")
    def _renew_worker(self, agent_id: int, task_id: int) -> None:
        try:
            until = self.context.backend.call(queue.renew_lease, agent_id, task_id)
        except UNREACHABLE:
            return  # offline: the outbox covers the call; the lease is renewed when back
        if until is None:
            self.post_message(LeaseLost(task_id))

    def on_lease_lost(self, message: LeaseLost) -> None:
        if self.current is not None and self.current.task_id == message.task_id:
            self.notify(
                _(
                    "La fiche n'est plus réservée pour vous (bail expiré) : l'appel sera tout de même enregistré."
                ),
                severity="warning",
            )

    def action_release(self) -> None:
        if self.current is None or self.saving:
            return
        from outreach.tui.screens.modals import ReleaseModal

        self.app.push_screen(ReleaseModal(self.current.business.name), self._released)

    def _released(self, picked: tuple[str, str | None] | None) -> None:
        if picked and self.current is not None and not self.saving:
            self.saving = True
            self._release_and_next(self.current.task_id, *picked)

    @work(thread=True, exit_on_error=False, group="record")
    def _release_and_next(self, task_id: int, reason: str, note: str | None) -> None:
        agent_id, now = self.context.agent.id, self.context.settings.now_arg()
        self.context.backend.call(queue.hand_back, agent_id, task_id, reason, note, now=now)
        self._post_next(agent_id)

    def action_notes(self) -> None:
        if self.current is not None:
            self.query_one("#notes", Input).focus()

    @on(Input.Submitted)
    def _field_done(self, event: Input.Submitted) -> None:
        if event.input.has_class("answer"):
            self.focus_next()  # the next answer (or the notes)
        else:
            self.set_focus(None)

    @on(ChoiceField.Refused)
    def _not_a_choice(self, event: ChoiceField.Refused) -> None:
        choices = event.field.question.choices
        self.notify(
            _("Réponses possibles : {keys} (Échap : sortir du champ)").format(
                keys=" / ".join(choices)
            ),
            timeout=3,
        )

    def _hand_back_shown(self) -> None:
        """The business on screen goes back to the queue at once (leaving, pausing)."""
        task, agent, backend = self.current, self.context.agent, self.context.backend
        if task is not None:
            # on the app: the screen's own workers end with the screen
            self.app.run_worker(
                lambda: backend.call(
                    queue.release_task, agent.id, task.task_id, "left_screen", delay_minutes=0
                ),
                thread=True,
                exit_on_error=False,
                group="release",
            )
        self.current = None

    def action_leave(self) -> None:
        """Back to the campaigns (Escape outside a field), handing the business back."""
        if self.saving:
            return
        self.leaving = True  # no claim from now on (a timer may fire before the screen goes)
        self._hand_back_shown()
        self.context.day.track("ready")
        self.app.pop_screen()
