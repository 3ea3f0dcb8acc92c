"""The pause window (key `p`): a reason from the catalogue (keys 1-9), a note when the reason
asks for one; Enter confirms, Escape cancels. The catalogue is read through the service."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from outreach.i18n import N_, _, language
from outreach.services.agent_states import PauseReasonInfo, pause_reasons
from outreach.tui.context import AppContext


class PauseModal(ModalScreen[tuple[str, str | None] | None]):
    """Why the adviser pauses: (reason code, note) or None when cancelled."""

    CSS_PATH = "pause.tcss"
    BINDINGS = [Binding("escape", "cancel", N_("Annuler"), id="pause.cancel")]

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.reasons: list[PauseReasonInfo] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Static(_("Pause : pour quelle raison ?"), classes="modal-title")
            yield OptionList(id="pause-reasons")
            yield Input(placeholder=_("précision (obligatoire pour « Autre »)"), id="pause-note")
            yield Static("", id="pause-error", classes="error")
            yield Static(_("1-9 ou Entrée : choisir · Échap : annuler"), classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._load()

    @work(thread=True, exit_on_error=False, group="pause")
    def _load(self) -> None:
        reasons = list(self.context.backend.call(pause_reasons))
        self.app.call_from_thread(self._show, reasons)

    def _show(self, reasons: list[PauseReasonInfo]) -> None:
        self.reasons = reasons
        lang = language()
        self.context.day.reasons = {r.code: r.label(lang) for r in reasons}
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(f"{r.key}  {r.label(lang)}", id=r.code) for r in reasons])
        options.highlighted = 0 if reasons else None

    def on_key(self, event: Key) -> None:
        if isinstance(self.focused, Input):
            return
        for i, r in enumerate(self.reasons):
            if event.key == r.key:
                event.stop()
                self.query_one(OptionList).highlighted = i
                self._choose(r)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(self.reasons[event.option_index])

    @on(Input.Submitted, "#pause-note")
    def _noted(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None and self.reasons:
            self._choose(self.reasons[index])

    def _choose(self, reason: PauseReasonInfo) -> None:
        note = self.query_one("#pause-note", Input).value.strip() or None
        if reason.needs_note and note is None:
            self.query_one("#pause-error", Static).update(
                _("« {reason} » : précisez en une ligne, puis Entrée").format(
                    reason=reason.label(language())
                )
            )
            self.query_one("#pause-note", Input).focus()
            return
        self.dismiss((reason.code, note))

    def action_cancel(self) -> None:
        self.dismiss(None)
