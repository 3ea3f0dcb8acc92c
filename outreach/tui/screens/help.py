"""Every key of the app, screen by screen, from the screens' own bindings."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from outreach.domain.outcomes import OUTCOMES
from outreach.i18n import N_, _, language
from outreach.tui.widgets.footer import KeyFooter
from outreach.tui.widgets.status_bar import StatusBar


def _key(binding: Binding) -> str:
    names = {"question_mark": "?", "escape": _("Échap"), "enter": _("Entrée")}
    return " / ".join(names.get(k, k) for k in binding.key.split(","))


class HelpScreen(Screen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,q,f1", "app.pop_screen", N_("Retour"), id="help.close")]

    def compose(self) -> ComposeResult:
        from outreach.tui.screens.call import CallScreen
        from outreach.tui.screens.callbacks import CallbacksScreen
        from outreach.tui.screens.campaigns import CampaignsScreen
        from outreach.tui.screens.followup import FollowUpScreen
        from outreach.tui.screens.followups import FollowUpsScreen
        from outreach.tui.screens.search import SearchScreen

        yield StatusBar()
        with VerticalScroll(id="help-body"):
            outcomes = Table(title=_("Résultats d'appel (écran d'appel)"), expand=True)
            outcomes.add_column(_("Touche"), width=8)
            outcomes.add_column(_("Résultat"))
            for entry in OUTCOMES:
                extra = ""
                if entry.needs_callback_time:
                    extra = "  " + _("(demande l'heure du rappel)")
                elif entry.needs_confirmation:
                    extra = "  " + _("(demande confirmation)")
                elif entry.allows_referrals:
                    extra = "  " + _("(propose les orientations)")
                outcomes.add_row(entry.key, entry.label(language()) + extra)
            yield Static(outcomes)
            for title, screen in (
                (_("Écran d'appel"), CallScreen),
                (_("Campagnes"), CampaignsScreen),
                (_("Mes rappels"), CallbacksScreen),
                (_("Recherche"), SearchScreen),
                (_("Suivis"), FollowUpsScreen),
                (_("Suivi d'une orientation"), FollowUpScreen),
                (_("Partout"), type(self.app)),
            ):
                table = Table(title=title, expand=True)
                table.add_column(_("Touche"), width=8)
                table.add_column(_("Action"))
                for item in screen.BINDINGS:
                    if isinstance(item, Binding) and item.show and item.description:
                        table.add_row(_key(item), _(item.description))
                if screen is type(self.app):
                    table.add_row("ctrl+p", _("Palette de commandes"))
                yield Static(table)
        yield KeyFooter()
