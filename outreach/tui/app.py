"""The agents' app: built by `make_app(Backend(db), settings)`; screens live in `screens/`.

The app holds who is logged in, today's own counts and the outbox; every database call runs in a
thread worker (through a service) and reports back with a message. Worker errors end in one place:
`on_worker_state_changed`. Screens are given their context in their constructors (`AppContext`,
`AgentContext` once logged in: tui/context.py) and post messages for what they want of the app.
What is needed only once logged in, or on demand, is imported inside the function that needs it,
so that the first screen is drawn without loading it (see `_call_screen`).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from outreach.errors import OutreachError
from outreach.i18n import N_, _
from outreach.services import auth
from outreach.services.backend import Backend
from outreach.services.outbox import UNREACHABLE, Outbox, is_damaged, offline_message
from outreach.services.sessions import end_session, heartbeat
from outreach.services.types import AgentInfo, CallbackItem, CampaignSummary
from outreach.tui.agent_day import AgentDay
from outreach.tui.commands import AppCommands
from outreach.tui.context import AgentContext, AppContext
from outreach.tui.messages import (
    CallCounted,
    CampaignEntered,
    CampaignsShown,
    LoggedIn,
    LoginNeeded,
    MyDayLoaded,
    OpenCampaign,
    OutboxChanged,
    SessionTaken,
)
from outreach.tui.screens.login import LoginScreen, StartScreen, entered
from outreach.tui.settings import TuiSettings

if TYPE_CHECKING:
    from outreach.tui.screens.call import CallScreen

HERE = Path(__file__).parent
GC_OFF_AT_START = 5.0  # seconds


class OutreachApp(App[None]):
    TITLE = "outreach"
    # Every screen's stylesheet too, read once here: a screen whose CSS_PATH is not loaded yet
    # makes Textual re-parse every stylesheet and restyle every widget when it is first shown.
    CSS_PATH = [
        HERE / "app.tcss",
        HERE / "widgets" / "widgets.tcss",
        *sorted((HERE / "screens").glob("*.tcss")),
    ]
    COMMANDS = App.COMMANDS | {AppCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = [
        Binding("ctrl+q", "quit", N_("Quitter"), id="app.quit"),
        Binding("f1", "help", N_("Aide"), id="app.help", show=False),
        # supervisors' dashboard (outreach/tui/screens/dashboard.py, supervision work)
        Binding("ctrl+d", "dashboard", N_("Tableau de bord"), id="app.dashboard", show=False),
    ]

    agent: reactive[AgentInfo | None] = reactive(None)
    campaign_name: reactive[str] = reactive("")
    calls_today: reactive[int] = reactive(0)
    reached_today: reactive[int] = reactive(0)
    outbox_waiting: reactive[int] = reactive(0)
    my_times: reactive[str] = reactive("")  # my day in the header: logged in, paused

    def __init__(self, backend: Backend, settings: TuiSettings) -> None:
        super().__init__()
        self.backend = backend  # the services, on the logged-in person's own connection
        self.settings = settings
        self.outbox = backend.call(Outbox.for_database, settings.outbox_dir)
        self.campaigns: list[CampaignSummary] = []  # the agent's active campaigns, last loaded
        self._refusal_shown: str | None = None
        self.session_id: int | None = None  # this run's row of agent_sessions
        self.day = AgentDay(self, backend, settings)  # the adviser's state (ready, paused...)
        self.agent_context: AgentContext | None = None  # the screens' context once logged in
        # what every screen is given (once logged in, with the agent: `agent_context`)
        self.context = AppContext(backend, settings, self.outbox, self.day)

    # -- start, login -------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        """The bottom screen: the status line alone, shown while `--agent`'s login (or the
        connected person on PostgreSQL) is checked. Pushing a screen of its own for that, over
        Textual's empty default, cost a screen's mount, styles and frames: ~30 ms of the start
        to the first business."""
        return StartScreen()

    def on_mount(self) -> None:
        # `outreach tui` starts with the cyclic GC off (cli/tui.py): back on once the first
        # screens are drawn (the start-up frees almost everything by reference counting)
        self.set_timer(GC_OFF_AT_START, gc.enable)
        self.title = "outreach"
        self.sub_title = _("Centre d'appels CMA")
        self.set_interval(self.settings.replay_seconds, self.replay_outbox)
        self.replay_outbox()
        self.set_interval(self.settings.heartbeat_seconds, self._beat)
        self.set_interval(self.settings.session_seconds, self._session_beat)
        login = self.settings.agent_login
        if login or self.backend.is_postgresql:
            # `--agent LOGIN`: the login form only if that agent must type a PIN (or is refused);
            # PostgreSQL: straight in as the connected person, else their own role's password
            if login:
                self._direct_login(login)
            else:
                self._connected_login()
        else:
            self._show_login(None)

    def _show_login(self, login: str | None, error: str | None = None) -> None:
        screen = LoginScreen(self.context, login, error)
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="login")
    def _direct_login(self, login: str) -> None:
        """`--agent LOGIN`: straight in, unless that agent must type a PIN (on PostgreSQL with
        a person's own URL, only as that person)."""
        if self.backend.is_postgresql:
            from outreach.services.people import connected_or_owner

            try:
                person = self.backend.call(connected_or_owner)
            except OutreachError as exc:
                self.post_message(LoginNeeded(login, str(exc)))
                return
            if person is not None:
                if person.login == login.strip():
                    self.enter_as(person)
                else:
                    self.post_message(
                        LoginNeeded(
                            login,
                            _(
                                "connecté comme {role} : --as {login} est refusé (seul un administrateur peut agir pour quelqu'un d'autre)"
                            ).format(role=person.login, login=login),
                        )
                    )
                return
        if self.backend.call(auth.login_needs_pin, login, require_pin=self.settings.require_pin):
            self.post_message(LoginNeeded(login))
            return
        try:
            agent = self.backend.call(auth.verify_login, login, None, now=self.settings.now_arg())
        except OutreachError as exc:
            self.post_message(LoginNeeded(login, str(exc)))
            return
        self.enter_as(agent)

    @work(thread=True, exclusive=True, exit_on_error=False, group="login")
    def _connected_login(self) -> None:
        """PostgreSQL: a person's own URL logs that person in; the owner's URL asks who."""
        from outreach.services.people import connected_or_owner

        try:
            person = self.backend.call(connected_or_owner)
        except OutreachError as exc:
            self.post_message(LoginNeeded("", str(exc)))
            return
        if person is None:
            self.post_message(LoginNeeded(""))
            return
        self.enter_as(person)

    def enter_as(self, agent: AgentInfo) -> None:
        """(In a login worker) `agent` is logged in (see `screens.login.entered`)."""
        self.post_message(entered(self.backend, self.settings, agent, web=self.is_web))

    def on_login_needed(self, message: LoginNeeded) -> None:
        self._show_login(message.login, message.error)

    def on_logged_in(self, message: LoggedIn) -> None:
        from outreach.tui.screens.campaigns import CampaignsScreen

        self.agent = self.day.agent = message.agent
        self.agent_context = self.context.as_agent(message.agent)
        self.calls_today = self.reached_today = 0
        if message.session is not None:
            self.session_id = message.session.id
            for other in message.session.ended_others:
                self.notify(
                    _(
                        "Votre session {kind} sur {host} a été fermée : une seule session par "
                        "conseiller, celle-ci la remplace."
                    ).format(
                        kind=_("navigateur") if other.kind == "browser" else _("terminal"),
                        host=other.host or "?",
                    ),
                    severity="warning",
                    timeout=10,
                )
        if message.campaigns is not None:  # shown by the campaigns screen as it opens
            self._campaigns_shown(message.campaigns)
        self.day.track("ready")
        self.refresh_my_day()
        campaigns = CampaignsScreen(self.agent_context, message.campaigns)
        if len(self.screen_stack) > 1:
            self.switch_screen(campaigns)  # from the login form
        else:
            self.push_screen(campaigns)  # straight from the start screen
        self.replay_outbox()  # this agent's calls kept by an earlier session

    def action_logout(self) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.day.track("logged_out")
        session_id, self.session_id = self.session_id, None
        if session_id is not None:
            self.run_worker(
                lambda: self.backend.call(end_session, session_id, now=self.settings.now_arg()),
                thread=True,
                exit_on_error=False,
                group="session",
            )
        self.agent = self.day.agent = self.agent_context = None
        self.campaign_name = ""
        self.outbox_waiting = 0
        self._show_login(None)

    def _beat(self) -> None:
        self.day.heartbeat()
        self.refresh_my_day()

    async def action_quit(self) -> None:
        """Ctrl+Q: straight out, unless a business is held; then ask, and hand it back first."""
        from outreach.tui.screens.modals import ConfirmQuitModal

        held = next(
            (
                s
                for s in self.screen_stack
                if isinstance(s, _call_screen()) and s.current is not None
            ),
            None,
        )
        if held is None or self.agent is None:
            await self._logged_out()
            self.exit()
            return
        if isinstance(self.screen, ConfirmQuitModal):
            return
        task, agent_id = held.current, self.agent.id
        assert task is not None

        def answered(ok: bool | None) -> None:
            if ok:
                held.current = None
                self.day.track("logged_out")
                self._release_and_exit(agent_id, task.task_id)

        self.push_screen(ConfirmQuitModal(task.business.name), answered)

    @work(thread=True, exit_on_error=False, group="release")
    def _release_and_exit(self, agent_id: int, task_id: int) -> None:
        from outreach.services.queue import release_task

        try:
            self.backend.call(release_task, agent_id, task_id, "quit", delay_minutes=0)
        except UNREACHABLE:
            pass  # the lease expires by itself
        self._end_session()
        self.day.drain()
        self.call_from_thread(self.exit)

    async def _logged_out(self) -> None:
        """Logged out (written before the app ends)."""
        if self.agent is not None:
            self.day.track("logged_out")
            await asyncio.to_thread(self.day.drain)
            await asyncio.to_thread(self._end_session)

    # -- one live session per agent -----------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="session")
    def _session_beat(self) -> None:
        if self.session_id is None:
            return
        try:
            alive = self.backend.call(heartbeat, self.session_id, now=self.settings.now_arg())
        except UNREACHABLE:
            return  # offline: confirmed again when back
        if not alive:
            self.post_message(SessionTaken())

    def on_session_taken(self, message: SessionTaken) -> None:
        """A newer session of this agent took over: this window stops working (its business
        stays held for the new session, not handed back)."""
        from outreach.tui.screens.modals import SessionTakenModal

        self.session_id = None
        for screen in self.screen_stack:
            if isinstance(screen, _call_screen()):
                screen.current = None
        if not isinstance(self.screen, SessionTakenModal):
            self.push_screen(SessionTakenModal())

    def _end_session(self) -> None:
        """(In a thread) this run's session ends."""
        if self.session_id is not None:
            try:
                self.backend.call(end_session, self.session_id, now=self.settings.now_arg())
            except UNREACHABLE:
                pass  # it expires by itself
            self.session_id = None

    # -- Textual's own commands, in the user's language ---------------------------------------

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(cast("App[object]", self)):
            self.push_screen(
                CommandPalette(id="--command-palette", placeholder=_("Rechercher une commande…"))
            )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's commands of the palette, translated; "Keys" opens this app's help (every
        key in the user's language) instead of Textual's English key panel."""
        yield SystemCommand(_("Thème"), _("Changer le thème de couleurs"), self.action_change_theme)
        yield SystemCommand(
            _("Touches"), _("Toutes les touches, écran par écran"), self.action_help
        )
        yield SystemCommand(_("Quitter"), _("Quitter l'application"), self.action_quit)

    # -- navigation shared by every screen ----------------------------------------------------

    def on_open_campaign(self, message: OpenCampaign) -> None:
        self.open_campaign(message.campaign)

    def open_campaign(self, campaign: CampaignSummary) -> None:
        if self.agent_context is not None:
            self.push_screen(_call_screen()(self.agent_context, campaign.id, campaign.name))

    def on_campaign_entered(self, message: CampaignEntered) -> None:
        self.campaign_name = message.name

    def on_campaigns_shown(self, message: CampaignsShown) -> None:
        self._campaigns_shown(message.campaigns)

    def _campaigns_shown(self, campaigns: list[CampaignSummary]) -> None:
        self.campaigns = campaigns
        self.calls_today = sum(c.my_calls_today for c in campaigns)
        self.reached_today = sum(c.my_reached_today for c in campaigns)

    def on_call_counted(self, message: CallCounted) -> None:
        self.count_call(message.reached, message.step)

    def action_campaigns(self) -> None:
        if isinstance(self.screen, _call_screen()):
            self.screen.action_leave()

    def action_callbacks(self) -> None:
        from outreach.tui.screens.callbacks import CallbacksScreen

        if self.agent_context is not None:
            self.push_screen(CallbacksScreen(self.agent_context), self._took_callback)

    def _took_callback(self, item: CallbackItem | None) -> None:
        if item is not None:
            self._work_on(item.campaign_id, item.campaign_name, task_id=item.task_id)

    def action_followups(self) -> None:
        from outreach.tui.screens.followups import FollowUpsScreen

        if self.agent_context is not None and not isinstance(self.screen, FollowUpsScreen):
            self.push_screen(FollowUpsScreen(self.agent_context))

    def action_search(self) -> None:
        from outreach.tui.screens.search import SearchScreen

        if self.agent_context is not None:
            self.push_screen(
                SearchScreen(self.agent_context, self.campaigns), self._picked_business
            )

    def _picked_business(self, picked: tuple[int, str, int] | None) -> None:
        if picked is not None:
            campaign_id, campaign_name, business_id = picked
            self._work_on(campaign_id, campaign_name, business_id=business_id)

    def _work_on(
        self,
        campaign_id: int,
        campaign_name: str,
        *,
        task_id: int | None = None,
        business_id: int | None = None,
    ) -> None:
        """Call one chosen business (a callback, a search hit) on the call screen."""
        if isinstance(self.screen, _call_screen()):
            self.screen.take(campaign_id, task_id=task_id, business_id=business_id)
        elif self.agent_context is not None:
            take = (task_id, business_id)
            call = _call_screen()(self.agent_context, campaign_id, campaign_name, take=take)
            self.push_screen(call)

    def action_help(self) -> None:
        from outreach.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def count_call(self, reached: bool, step: int = 1) -> None:
        """Today's own counts: +1 for a call saved, -1 (`step`) for a call undone."""
        self.calls_today += step
        if reached:
            self.reached_today += step
        # the database's own counts once the next business is drawn: a worker started now
        # would hold the interpreter (GIL) while that frame is laid out
        self.call_after_refresh(self.refresh_my_day)

    # -- my day in the header (from the database: also after an outbox replay) -----------------

    def refresh_my_day(self) -> None:
        if self.agent is not None:
            self._my_day_worker(self.agent.id)

    @work(thread=True, exit_on_error=False, group="my-day")  # never cancelled: quick reads
    def _my_day_worker(self, agent_id: int) -> None:
        from outreach.services.agent_times import my_day

        try:
            day = self.backend.call(my_day, agent_id, now=self.settings.now_arg())
        except UNREACHABLE:
            return
        self.post_message(MyDayLoaded(day, self.outbox.count()))

    def on_my_day_loaded(self, message: MyDayLoaded) -> None:
        from outreach.tui.widgets.day_bar import clock_text

        day = message.day
        # calls kept in the outbox are mine too: counted until the database has them
        self.calls_today = day.calls + message.waiting
        self.reached_today = day.reached
        self.my_times = _("connecté {logged} · en pause {paused}").format(
            logged=clock_text(day.logged_in_s), paused=clock_text(day.paused_s)
        )

    # -- supervisors' dashboard (route added by the supervision work) ---------------------------

    def action_dashboard(self) -> None:
        from outreach.tui.screens.dashboard import DashboardScreen

        if self.agent is None or isinstance(self.screen, DashboardScreen):
            return
        if not self.agent.is_supervisor:
            self.notify(_("Tableau de bord réservé aux superviseurs"), severity="warning")
            return
        self.push_screen(
            DashboardScreen(self.backend, self.agent.login, clock=self.settings.now_arg)
        )

    # -- outbox -------------------------------------------------------------------------------

    def action_replay(self) -> None:
        self.replay_outbox()

    @work(thread=True, exclusive=True, exit_on_error=False, group="outbox")
    def replay_outbox(self) -> None:
        """Send the calls the logged-in agent kept while the database was away (same uuid:
        recorded exactly once). Nothing before a login, and never another agent's entries."""
        agent = self.agent
        if agent is None or not self.outbox.path.exists():
            self.post_message(OutboxChanged(0))
            return
        from outreach.services.queue import record_call

        report = self.outbox.replay(
            lambda call: self.backend.call(record_call, call), agent_id=agent.id
        )
        self.post_message(
            OutboxChanged(
                report.remaining,
                report.replayed,
                report.error,
                report.refused,
                report.quarantined,
                str(report.quarantine) if report.quarantine else None,
            )
        )

    def on_outbox_changed(self, message: OutboxChanged) -> None:
        before = self.outbox_waiting
        self.outbox_waiting = message.waiting
        if message.replayed:
            self.refresh_my_day()  # the header's counts now from the database, without F5
            self.notify(
                _("{n} appel(s) en attente enregistré(s) dans la base").format(n=message.replayed),
                title=_("Base de nouveau joignable"),
            )
        if message.quarantined:
            self.notify(
                _(
                    "{n} ligne(s) illisible(s) de la boîte d'envoi mise(s) de côté dans {path}"
                ).format(n=message.quarantined, path=message.quarantine),
                title=_("Boîte d'envoi"),
                severity="warning",
                timeout=15,
            )
        if message.refused and message.error != self._refusal_shown:
            # once per distinct refusal, not at every replay
            self._refusal_shown = message.error
            self.notify(
                _(
                    "{n} appel(s) refusé(s) par la base, gardé(s) dans la boîte d'envoi : {error}"
                ).format(n=message.refused, error=message.error),
                title=_("Boîte d'envoi"),
                severity="error",
                timeout=15,
            )
        if before and not message.waiting and isinstance(self.screen, _call_screen()):
            self.screen.database_back()

    # -- the one place worker errors end ------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        if event.worker.group == "login" and isinstance(self.screen, StartScreen):
            # `--agent LOGIN` could not be checked (say, the database is away): the form, to retry
            self._show_login(self.settings.agent_login)
        error = event.worker.error
        if isinstance(error, OutreachError):
            message = str(error)
        elif is_damaged(error):  # the SQLite file was found damaged: the way back
            message = self.backend.call(offline_message, error)
        elif isinstance(error, UNREACHABLE):
            message = _("base de données injoignable : {reason}").format(
                reason=str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            )
        else:
            self.log.error(repr(error))
            message = _("erreur inattendue : {error}").format(error=repr(error))
        self.notify(message, title=_("Erreur"), severity="error", timeout=8)


def _call_screen() -> type[CallScreen]:
    """The call screen, imported when first needed: its module (business card, script, history,
    day bar; ~0.1 s with the services it loads) is not loaded before the first screen is drawn.
    Every import inside a function of this module is there for that reason (what is needed only
    once logged in, or on demand: modals, callbacks, search, follow-ups, help, dashboard)."""
    from outreach.tui.screens.call import CallScreen

    return CallScreen


def make_app(backend: Backend, settings: TuiSettings | None = None) -> OutreachApp:
    """The app on `backend` (`Backend(db)`; tests build it with their own database and a fixed
    clock)."""
    return OutreachApp(backend, settings or TuiSettings())
