"""Small modals of the call screen, each fully usable by keyboard (Enter confirms, Escape
cancels): callback time, referral, do-not-call confirmation, hand-back reason."""

from __future__ import annotations

from datetime import datetime, timedelta

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, OptionList, Select, SelectionList, Static
from textual.widgets.option_list import Option

from outreach.domain.mail import EMAIL_BY_DEFAULT
from outreach.domain.mail import refusal as mail_refusal
from outreach.domain.outcomes import FLAG, HAND_BACKS, HAND_BACKS_BY_CODE, HandBack
from outreach.domain.referrals import PLATFORM_NAMES, REFERRAL_KINDS
from outreach.i18n import N_, _, language
from outreach.services.types import ReferralInput
from outreach.tui.format import (
    in_zone,
    long_datetime,
    mail_refusal_label,
    parse_local_time,
    window_text,
)
from outreach.tui.widgets.tick_list import TickList

CSS_PATH = "modals.tcss"


def suggest_callback(local_now: datetime) -> datetime:
    """Two hours later on the hour, or the next morning at 10:00 outside 9:00-19:00."""
    later = (local_now + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    if 9 <= later.hour < 19 and later.date() == local_now.date():
        return later
    morning = local_now.replace(hour=10, minute=0, second=0, microsecond=0)
    return morning if local_now < morning else morning + timedelta(days=1)


class CallbackTimeModal(ModalScreen[tuple[datetime, bool] | None]):
    """When to call back, in the business's time zone; personal (default) or for the team.

    Enter validates from any field (Space ticks the box); the time typed is read back at once
    (date, weekday, time there); a time outside the campaign's calling window is said, and a
    second Enter keeps it.

    The time field has the focus from the start, its suggestion selected: what the adviser
    types replaces it. Keys typed right after `6`, before the modal is even on screen (a loaded
    machine), are not lost: the call screen hands them over (`type_ahead`), and those that
    reach the modal before its field has the focus are typed into it too."""

    CSS_PATH = CSS_PATH
    AUTO_FOCUS = "#when"
    BINDINGS = [
        Binding("escape", "cancel", N_("Annuler"), id="callback.cancel"),
        Binding("enter", "submit", N_("Valider"), priority=True, id="callback.submit"),
    ]

    def __init__(
        self,
        business: str,
        zone: str,
        now: datetime,
        department: str | None = None,
        window: tuple[str, str, bool] | None = None,
    ) -> None:
        super().__init__()
        self.business, self.zone, self.now = business, zone, now
        self.department, self.window = department, window
        self._accepted_outside: datetime | None = None  # warned once, kept on a second Enter
        self._ready = False  # the field exists (composed and mounted)
        self._early: list[tuple[str, str | None]] = []  # keys typed before that
        self._typed = False  # the suggestion was replaced by typed text

    def compose(self) -> ComposeResult:
        local = in_zone(self.now, self.zone)
        suggestion = suggest_callback(local)
        if self._outside(suggestion):  # the next opening of the campaign's window instead
            from outreach.domain.windows import next_opening, parse_window

            assert self.window is not None and self.department is not None
            opening = next_opening(parse_window(*self.window), self.department, suggestion)
            if opening is not None:
                suggestion = in_zone(opening, self.zone)
        with VerticalScroll(classes="modal"):
            yield Static(_("Rappel : {name}").format(name=self.business), classes="modal-title")
            yield Static(
                _("Quand ? Heure de l'entreprise ({zone}) ; il y est {time}.").format(
                    zone=self.zone, time=local.strftime("%H:%M")
                )
            )
            yield Input(suggestion.strftime("%d/%m %H:%M"), id="when")
            yield Static("", id="when-read")
            yield Checkbox(_("Rappel personnel (sinon pour l'équipe)"), True, id="personal")
            yield Static("", id="modal-error", classes="error")
            yield Static(_("Entrée : valider · Espace : cocher · Échap : annuler"), classes="hint")

    def on_mount(self) -> None:
        self._ready = True
        self._read_back()
        early, self._early = self._early, []
        for key, character in early:
            self._type(key, character)

    def type_ahead(self, key: str, character: str | None) -> None:
        """A key typed for this modal before it could take it (see the class notes)."""
        if self._ready:
            self._type(key, character)
        else:
            self._early.append((key, character))

    def on_key(self, event: Key) -> None:
        # a key that reached the screen itself: typed before the field had the focus (the
        # field takes every printable key it has the focus for); Space and Enter on the box
        # stay the box's
        if isinstance(self.focused, Checkbox) and event.key in ("space", "enter"):
            return
        if event.is_printable or event.key == "backspace":
            event.stop()
            event.prevent_default()
            self.type_ahead(event.key, event.character)

    def _type(self, key: str, character: str | None) -> None:
        field = self.query_one("#when", Input)
        if key == "enter":
            self.action_submit()
            return
        if key == "escape":
            self.action_cancel()
            return
        if not self._typed:  # the first key replaces the suggestion, as typing in the field does
            self._typed = True
            field.select_on_focus = False  # its focus, still to come, must not select it all
            field.value = ""
        if key == "backspace":
            field.action_delete_left()
        elif character:
            field.insert_text_at_cursor(character)
        if self.focused is not field:
            field.focus()

    @on(Input.Changed, "#when")
    def _typed_in_field(self) -> None:
        if self._ready and self.focused is self.query_one("#when", Input):
            self._typed = True

    def _parsed(self) -> datetime:
        return parse_local_time(self.query_one("#when", Input).value, self.now, self.zone)

    def _outside(self, when: datetime) -> str | None:
        """The window as text when `when` is outside the campaign's calling window."""
        if self.window is None or self.department is None:
            return None
        from outreach.domain.windows import InvalidWindow, is_open, parse_window

        try:
            window = parse_window(*self.window)
        except InvalidWindow:
            return None
        if is_open(window, self.department, when):
            return None
        return window_text(self.window[0], self.window[1])

    @on(Input.Changed, "#when")
    def _read_back(self) -> None:
        error = self.query_one("#modal-error", Static)
        shown = self.query_one("#when-read", Static)
        error.update("")  # no stale error once the text changes
        self._accepted_outside = None
        try:
            when = self._parsed()
        except ValueError:
            shown.update("")
            return
        shown.update("→ " + long_datetime(when))

    def action_submit(self) -> None:
        if not self._ready:  # Enter typed right after the time, before the modal is up
            self._early.append(("enter", None))
            return
        error = self.query_one("#modal-error", Static)
        try:
            when = self._parsed()
        except ValueError as exc:
            error.update(str(exc))
            return
        outside = self._outside(when)
        if outside and self._accepted_outside != when:
            self._accepted_outside = when
            error.update(
                _(
                    "{when} est hors de la plage d'appel de la campagne ({window}). "
                    "Entrée à nouveau pour le garder, ou changez l'heure."
                ).format(when=long_datetime(when), window=outside)
            )
            return
        self.dismiss((when, self.query_one("#personal", Checkbox).value))

    def action_cancel(self) -> None:
        if not self._ready:
            self._early.append(("escape", None))
            return
        self.dismiss(None)


class ReferralModal(ModalScreen[tuple[ReferralInput, ...] | None]):
    """Referrals of a reached call (none is fine): kinds, a labelled platform, notes, and
    whether the firm gets an e-mail about them (Ctrl+O; on by default for a diagnostic)."""

    CSS_PATH = CSS_PATH
    BINDINGS = [
        Binding("escape", "cancel", N_("Annuler"), id="referral.cancel"),
        Binding("ctrl+s", "save", N_("Enregistrer"), id="referral.save"),
        Binding("ctrl+o", "toggle_email", N_("Courriel"), id="referral.email"),
    ]

    def __init__(self, business: str, email: str | None = None, opposed: bool = False) -> None:
        super().__init__()
        self.business = business
        self.address = (email or "").strip() or None
        # said on screen before anything is saved: why no e-mail can go
        self.no_email = mail_refusal(self.address, opposed)
        self.send_email = False
        self.email_touched = False  # once the adviser chose, the kinds no longer decide

    def compose(self) -> ComposeResult:
        lang = language()
        with VerticalScroll(classes="modal modal-wide"):
            yield Static(
                _("Joint : orientations pour {name}").format(name=self.business),
                classes="modal-title",
            )
            yield Label(_("Orientations (Espace : cocher, Tab : suivant)"))
            yield TickList(((kind.label(lang), kind.code) for kind in REFERRAL_KINDS), id="kinds")
            yield Label(_("Plateforme labellisée"))
            yield Select[str](
                ((name, name) for name in PLATFORM_NAMES),
                prompt=_("choisir une plateforme"),
                id="platform",
            )
            yield Label(_("Notes de l'orientation"))
            yield Input(placeholder=_("notes"), id="referral-notes")
            yield Static(self._email_line(), id="referral-email")
            yield Static("", id="modal-error", classes="error")
            yield Static(
                _("Entrée dans les notes ou Ctrl+S : enregistrer · Échap : annuler"),
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#kinds", SelectionList).focus()

    def _email_line(self) -> str:
        if self.no_email is not None:
            return mail_refusal_label(self.no_email, self.address)
        if self.send_email:
            return _("Courriel à {address} : oui (Ctrl+O : ne pas l'envoyer)").format(
                address=self.address
            )
        return _("Courriel à {address} : non (Ctrl+O : l'envoyer)").format(address=self.address)

    @on(SelectionList.SelectedChanged, "#kinds")
    def _kinds_changed(self) -> None:
        if not self.email_touched and self.no_email is None:
            kinds = self.query_one("#kinds", SelectionList).selected
            self.send_email = any(k in EMAIL_BY_DEFAULT for k in kinds)
            self.query_one("#referral-email", Static).update(self._email_line())

    def action_toggle_email(self) -> None:
        if self.no_email is None:
            self.email_touched = True
            self.send_email = not self.send_email
        self.query_one("#referral-email", Static).update(self._email_line())

    @on(Select.Changed, "#platform")
    def _platform_picked(self) -> None:
        self.query_one("#modal-error", Static).update("")

    @on(Input.Submitted, "#referral-notes")
    def action_save(self) -> None:
        kinds = list(self.query_one("#kinds", SelectionList).selected)
        platform = self.query_one("#platform", Select).value
        partner = platform if isinstance(platform, str) else None
        if partner and "platform" not in kinds:
            kinds.append("platform")
        if "platform" in kinds and not partner:
            # said, and the focus stays where the adviser is typing
            self.query_one("#modal-error", Static).update(
                _("choisissez la plateforme labellisée (Tab jusqu'à la liste, Entrée)")
            )
            return
        notes = self.query_one("#referral-notes", Input).value.strip() or None
        email = self.send_email and self.no_email is None
        self.dismiss(
            tuple(
                ReferralInput(kind, partner if kind == "platform" else None, notes, email=email)
                for kind in kinds
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question answered by a key: `o` (or `y`) confirms, `n` or Escape cancels.

    With `enter_confirms` False (a change that cannot be undone) a bare Enter confirms nothing:
    it says which key does."""

    CSS_PATH = CSS_PATH
    BINDINGS = [
        Binding("o,y", "confirm", N_("Confirmer"), id="confirm.yes"),
        Binding("n,escape", "cancel", N_("Annuler"), id="confirm.no"),
        Binding("enter", "enter", show=False),
    ]

    def __init__(self, title: str, text: str, *, enter_confirms: bool = False) -> None:
        super().__init__()
        self.title_text, self.text, self.enter_confirms = title, text, enter_confirms

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="modal"):
            yield Static(self.title_text, classes="modal-title")
            yield Static(self.text)
            yield Static("", id="modal-error", classes="error")
            hint = (
                _("o / Entrée : confirmer · n / Échap : annuler")
                if self.enter_confirms
                else _("o : confirmer · n / Échap : annuler")
            )
            yield Static(hint, classes="hint")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_enter(self) -> None:
        if self.enter_confirms:
            self.dismiss(True)
        else:
            self.query_one("#modal-error", Static).update(
                _("Entrée ne suffit pas : tapez o pour confirmer, n pour annuler")
            )


class ConfirmDoNotCallModal(ConfirmModal):
    """Opposition is final in every campaign and chamber: confirmed by `o`, not by Enter."""

    def __init__(self, business: str) -> None:
        super().__init__(
            _("Opposition (ne plus appeler)"),
            _(
                "« {name} » ne sera plus jamais appelée, dans aucune campagne ni aucune "
                "chambre. Cette opposition ne pourra pas être annulée. Confirmer ?"
            ).format(name=business),
        )


class ConfirmQuitModal(ConfirmModal):
    """Quitting while a business is shown: it is handed back to the queue first."""

    def __init__(self, business: str) -> None:
        super().__init__(
            _("Quitter outreach"),
            _("« {name} » est réservée pour vous : elle sera rendue à la file. Quitter ?").format(
                name=business
            ),
            enter_confirms=True,
        )


class ReleaseModal(ModalScreen[tuple[str, str | None] | None]):
    """Hand the business back with a reason of the catalogue (its effect is the service's);
    a reason that needs text asks for it, and the wrong-record report takes an optional one."""

    CSS_PATH = CSS_PATH
    BINDINGS = [Binding("escape", "cancel", N_("Annuler"), id="release.cancel")]

    def __init__(self, business: str) -> None:
        super().__init__()
        self.business = business
        self.reason: HandBack | None = None

    def compose(self) -> ComposeResult:
        lang = language()
        with VerticalScroll(classes="modal"):
            yield Static(
                _("Rendre la fiche : {name}").format(name=self.business), classes="modal-title"
            )
            yield OptionList(*(Option(h.label(lang), id=h.code) for h in HAND_BACKS), id="reasons")
            yield Label(_("Précisez :"), id="why-label")
            yield Input(placeholder=_("en quelques mots"), id="why")
            yield Static("", id="modal-error", classes="error")
            yield Static(_("Entrée : rendre avec ce motif · Échap : annuler"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#why-label").display = False
        self.query_one("#why").display = False
        self.query_one("#reasons", OptionList).focus()

    @on(OptionList.OptionSelected, "#reasons")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        entry = HAND_BACKS_BY_CODE[str(event.option.id)]
        if entry.effect != FLAG and not entry.needs_text:
            self.dismiss((entry.code, None))
            return
        self.reason = entry
        label = self.query_one("#why-label", Label)
        label.update(
            _("Précisez le motif (obligatoire) :")
            if entry.needs_text
            else _("Ce qui est faux (facultatif, pour le superviseur) :")
        )
        label.display = True
        why = self.query_one("#why", Input)
        why.display = True
        why.focus()

    @on(Input.Submitted, "#why")
    def _explained(self) -> None:
        if self.reason is None:
            return
        text = self.query_one("#why", Input).value.strip()
        if self.reason.needs_text and not text:
            self.query_one("#modal-error", Static).update(_("motif à préciser en quelques mots"))
            return
        self.dismiss((self.reason.code, text or None))

    def action_cancel(self) -> None:
        self.dismiss(None)


class SessionTakenModal(ModalScreen[None]):
    """This agent opened the app elsewhere: this window stops (one live session per agent)."""

    CSS_PATH = CSS_PATH

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="modal"):
            yield Static(_("Session ouverte ailleurs"), classes="modal-title")
            yield Static(
                _(
                    "Vous vous êtes connecté dans une autre fenêtre ou sur un autre poste : "
                    "c'est là que vous travaillez maintenant. Cette fenêtre ne peut plus "
                    "enregistrer d'appel."
                )
            )
            yield Static(_("Ctrl+Q : quitter"), classes="hint")
