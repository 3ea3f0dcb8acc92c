"""The supervisors' dashboard: live totals for their scope, refreshed every few seconds.

Every figure comes from `outreach.services.dashboard.DashboardFeed` in a thread worker: the first
load reads the whole roll-up (seconds at national scale, the screen says it is loading), each
later refresh only the calls recorded since (milliseconds). A refresh never overlaps another.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, ProgressBar, Sparkline, Static

from outreach.domain.agent_states import ORDERED_FOR_BOARD, state_label
from outreach.domain.geography import PARIS
from outreach.domain.referrals import REFERRAL_KINDS_BY_CODE
from outreach.i18n import N_, _, language, ngettext
from outreach.services.access import require_supervisor
from outreach.services.backend import Backend
from outreach.services.board import Board
from outreach.services.dashboard import Dashboard, DashboardFeed, DashGroup
from outreach.tui.widgets.footer import KeyFooter

REFRESH_SECONDS = 3.0
BOARD_ROWS = 200  # the first ones in the board's order (pauses past their limit first)


@dataclass
class DashboardLoaded(Message):
    dashboard: Dashboard


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


class DashboardScreen(Screen[None]):
    CSS_PATH = "dashboard.tcss"
    BINDINGS = [
        Binding("f5", "refresh_now", N_("Actualiser"), id="dashboard.refresh"),
        Binding("escape", "close", N_("Retour"), id="dashboard.close"),
    ]

    def __init__(
        self,
        backend: Backend,
        login: str,
        *,
        clock: Callable[[], datetime | None] | None = None,
        interval: float = REFRESH_SECONDS,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.login = login
        self.clock = clock or (lambda: None)
        self.interval = interval
        self.feed: DashboardFeed | None = None
        self.busy = False
        self.last: Dashboard | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("Tableau de bord : chargement des cumuls…"), id="dash-title")
        yield Static("", id="dash-kpis")
        with Horizontal(id="dash-diag"):
            yield Static(_("Diagnostics numériques"), id="dash-diag-label")
            yield ProgressBar(total=5000, show_eta=False, id="dash-diag-bar")
        with Horizontal(id="dash-row1"):
            yield DataTable(id="dash-lockdowns", cursor_type="none", zebra_stripes=True)
            yield DataTable(id="dash-campaigns", cursor_type="none", zebra_stripes=True)
        with Horizontal(id="dash-row2"):
            yield DataTable(id="dash-agents", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="dash-referrals", cursor_type="none", zebra_stripes=True)
            with Vertical(id="dash-hours"):
                yield Static(_("Appels par heure aujourd'hui"), id="dash-hours-title")
                yield Sparkline([0] * 24, id="dash-sparkline")
                yield Static(_("de 0 h à 23 h, heure de Paris"), id="dash-hours-axis")
        yield KeyFooter()

    def on_mount(self) -> None:
        groups = (_("Contacts"), _("Entreprises"), _("Jointes"), _("Orientations"))
        self.query_one("#dash-lockdowns", DataTable).add_columns(_("Confinement"), *groups)
        self.query_one("#dash-campaigns", DataTable).add_columns(_("Campagne"), *groups)
        self.query_one("#dash-agents", DataTable).add_columns(
            _("Conseiller"),
            _("État"),
            _("Depuis"),
            _("Entreprise"),
            _("Appels"),
            _("Joints"),
            _("Orientations"),
        )
        self.query_one("#dash-referrals", DataTable).add_columns(_("Orientation"), _("Nombre"))
        self.action_refresh_now()
        self.set_interval(self.interval, self.action_refresh_now)

    def action_refresh_now(self) -> None:
        if not self.busy:  # the first load can outlast the interval: never two at once
            self.busy = True
            self._refresh_worker()

    def action_close(self) -> None:
        self.app.pop_screen()

    @work(thread=True, exit_on_error=False, group="dashboard")
    def _refresh_worker(self) -> None:
        try:
            if self.feed is None:
                scope = self.backend.call(require_supervisor, self.login)
                self.feed = self.backend.call(DashboardFeed, scope)
            self.post_message(DashboardLoaded(self.feed.refresh(self.clock())))
        finally:
            self.busy = False

    def on_dashboard_loaded(self, message: DashboardLoaded) -> None:
        d = self.last = message.dashboard
        scope = d.scope or _("réseau national")
        as_of = d.as_of.astimezone(ZoneInfo(PARIS)).strftime(
            "%H:%M:%S"
        )  # Paris, as every other time
        self.query_one("#dash-title", Static).update(
            _("Tableau de bord ({scope}) · à jour à {time} · {ms} ms").format(
                scope=scope, time=as_of, ms=f"{d.refresh_ms:.0f}"
            )
        )
        t = d.total
        self.query_one("#dash-kpis", Static).update(
            _(
                "Contacts {contacts}   Entreprises contactées {contacted}   Jointes {reached}   "
                "Orientations {referrals}   Appels aujourd'hui {today}"
            ).format(
                contacts=_n(t.contacts),
                contacted=_n(t.businesses_contacted),
                reached=_n(t.businesses_reached),
                referrals=_n(t.referrals),
                today=_n(d.calls_today),
            )
        )
        goal = next((g for g in d.goals if g.metric == "diagnostics_done"), None)
        if goal is None:
            label = _("Diagnostics numériques réalisés : {done} (aucun objectif)").format(
                done=_n(d.diagnostics)
            )
        else:
            label = _(
                "Diagnostics réalisés : {done} / {target} d'ici le {until} · "
                "{pace} par semaine nécessaires"
            ).format(
                done=_n(goal.done),
                target=_n(goal.target),
                until=goal.ends_on.strftime("%d/%m/%Y"),
                pace=_n(math.ceil(goal.per_week_needed)),
            )
        self.query_one("#dash-diag-label", Static).update(label)
        bar = self.query_one("#dash-diag-bar", ProgressBar)
        target = goal.target if goal else max(d.diagnostics, 1)
        done = goal.done if goal else d.diagnostics
        bar.update(total=target, progress=min(done, target))
        self._groups("#dash-lockdowns", d.lockdowns, none_label=_("(hors confinement)"))
        self._groups("#dash-campaigns", d.campaigns, none_label="-")
        if d.board is not None:
            self._board(d.board, d.as_of)
        refs = self.query_one("#dash-referrals", DataTable)
        refs.clear()
        lang = language()
        for code, count in d.referrals_by_kind:
            kind = REFERRAL_KINDS_BY_CODE.get(code)
            refs.add_row(kind.label(lang) if kind else code, _n(count))
        self.query_one("#dash-sparkline", Sparkline).data = list(d.calls_per_hour)

    def _board(self, board: Board, as_of: datetime) -> None:
        """The live agent board: counts per state in its title, the first BOARD_ROWS rows."""
        lang = language()
        table = self.query_one("#dash-agents", DataTable)
        table.border_title = "  ".join(
            f"{state_label(state, lang)} {_n(board.counts.get(state, 0))}"
            for state in ORDERED_FOR_BOARD
        )
        more = len(board.rows) - BOARD_ROWS
        table.border_subtitle = (
            ngettext(
                "et {n} autre (filtrez par chambre)", "et {n} autres (filtrez par chambre)", more
            ).format(n=_n(more))
            if more > 0
            else ""
        )
        table.clear()
        for r in board.rows[:BOARD_ROWS]:
            state = state_label(r.state, lang)
            if r.reason:
                fr, en = board.reasons.get(r.reason, (r.reason, r.reason))
                state += f" : {en if lang == 'en' else fr}"
                if r.note:
                    state += f" ({r.note})"
            minutes = int((as_of - r.since).total_seconds() // 60) if r.since else None
            table.add_row(
                r.name or r.login,
                Text(state, style="reverse" if r.over_limit else ""),
                _("{n} min").format(n=minutes) if minutes is not None else "-",
                r.business or "",
                _n(r.calls),
                _n(r.reached),
                _n(r.referrals),
            )

    def _groups(self, selector: str, groups: tuple[DashGroup, ...], none_label: str) -> None:
        table = self.query_one(selector, DataTable)
        table.clear()
        for g in groups:
            table.add_row(
                g.key or none_label,
                _n(g.contacts),
                _n(g.businesses_contacted),
                _n(g.businesses_reached),
                _n(g.referrals),
            )
