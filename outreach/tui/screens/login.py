"""Log in: a login and, for agents who have one, a PIN. Lists nothing (no logins, no hints)."""

from __future__ import annotations

import socket

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from outreach.errors import OutreachError
from outreach.i18n import N_, _
from outreach.services.backend import Backend
from outreach.services.outbox import UNREACHABLE
from outreach.services.sessions import OpenedSession, open_session
from outreach.services.types import AgentInfo, CampaignSummary
from outreach.tui.context import AppContext
from outreach.tui.messages import LoggedIn, LoginRefused
from outreach.tui.settings import TuiSettings
from outreach.tui.widgets.footer import KeyFooter
from outreach.tui.widgets.status_bar import StatusBar


def entered(backend: Backend, settings: TuiSettings, agent: AgentInfo, *, web: bool) -> LoggedIn:
    """(In a login worker) `agent` is logged in: the message for the app, with the agent's
    campaigns read in the same worker so that the list shows with the campaigns screen, and this
    run's session opened."""
    from outreach.services.queue import campaigns_for_agent

    campaigns: list[CampaignSummary] | None
    opened: OpenedSession | None
    try:
        campaigns = backend.call(campaigns_for_agent, agent.id, now=settings.now_arg())
        kind = "browser" if web else "terminal"
        opened = backend.call(
            open_session, agent.id, kind, socket.gethostname(), now=settings.now_arg()
        )
    except UNREACHABLE:
        campaigns = opened = None  # the campaigns screen reads them again, says why not
    return LoggedIn(agent, campaigns, opened)


class StartScreen(Screen[None]):
    """What `--agent LOGIN` shows while that login is checked: the status line, nothing else
    (the login form follows only if a PIN is needed or the login is refused)."""

    def compose(self) -> ComposeResult:
        yield StatusBar()


class LoginScreen(Screen[None]):
    CSS_PATH = "login.tcss"
    BINDINGS = [Binding("ctrl+q", "app.quit", N_("Quitter"), id="login.quit")]

    def __init__(self, context: AppContext, login: str | None, error: str | None = None) -> None:
        super().__init__()
        self.context = context
        self._login = login or ""
        self._error = error

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="login-box"):
            yield Static(_("Connexion des conseillers"), id="login-title")
            yield Label(_("Identifiant"))
            yield Input(self._login, placeholder=_("votre identifiant"), id="login")
            if self.context.backend.is_postgresql:
                # PostgreSQL: each person logs in with their own database role's password
                yield Label(_("Mot de passe"))
            else:
                yield Label(_("Code PIN (laisser vide si vous n'en avez pas)"))
            yield Input(placeholder="••••", password=True, id="pin")
            yield Static("", id="login-error", classes="error")
            yield Button(_("Se connecter"), variant="primary", id="submit")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#pin" if self._login else "#login", Input).focus()
        if self._error:
            self.query_one("#login-error", Static).update(self._error)

    @on(Input.Submitted, "#login")
    def _to_pin(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        login = self.query_one("#login", Input).value.strip()
        if not login:
            self.query_one("#login-error", Static).update(_("tapez votre identifiant"))
            self.query_one("#login", Input).focus()
            return
        self.query_one("#login-error", Static).update("")
        self.query_one("#submit", Button).disabled = True
        self._verify(login, self.query_one("#pin", Input).value or None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="login")
    def _verify(self, login: str, pin: str | None) -> None:
        settings, backend = self.context.settings, self.context.backend
        try:
            agent = backend.log_in(
                login,
                pin,
                require_pin=settings.require_pin,
                address=settings.remote_address,
                now=settings.now_arg(),
            )
        except OutreachError as exc:
            self.post_message(LoginRefused(str(exc)))
            return
        # to the app itself: this screen is replaced meanwhile
        self.app.post_message(entered(backend, settings, agent, web=self.app.is_web))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # the app reports the error; here the form just becomes usable again
        if event.state == WorkerState.ERROR:
            self.query_one("#submit", Button).disabled = False

    def on_login_refused(self, message: LoginRefused) -> None:
        self.query_one("#login-error", Static).update(message.message)
        self.query_one("#submit", Button).disabled = False
        pin = self.query_one("#pin", Input)
        pin.value = ""
        pin.focus()
