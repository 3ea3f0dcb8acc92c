"""The command palette's own commands (ctrl+p), scored by the palette's matcher."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from outreach.i18n import _
from outreach.tui.context import AppState


class AppCommands(Provider):
    """Callbacks, search, campaigns, help, outbox replay, log out."""

    async def startup(self) -> None:
        agent = cast(AppState, self.app).agent
        logged_in = agent is not None

        def run(action: str) -> Callable[[], object]:  # the app's own action, by name
            return partial(self.app.run_action, action)

        commands: list[tuple[str, str, Callable[[], object]]] = [
            (_("Aide : toutes les touches"), _("Les raccourcis de chaque écran"), run("help")),
            (
                _("Renvoyer les appels en attente"),
                _("Rejouer maintenant la boîte d'envoi locale"),
                run("replay"),
            ),
        ]
        if logged_in:
            commands = [
                (_("Mes rappels"), _("Rappels dus maintenant et plus tard"), run("callbacks")),
                (
                    _("Suivis des orientations"),
                    _("Orientations ouvertes de la chambre, par échéance"),
                    run("followups"),
                ),
                (
                    _("Rechercher une entreprise"),
                    _("Appel entrant : SIRET, téléphone ou nom"),
                    run("search"),
                ),
                (
                    _("Changer de campagne"),
                    _("Rendre la fiche et revenir à la liste des campagnes"),
                    run("campaigns"),
                ),
                *commands,
                (_("Se déconnecter"), _("Revenir à l'écran de connexion"), run("logout")),
            ]
            if agent is not None and agent.is_supervisor:
                commands.insert(
                    0,
                    (
                        _("Tableau de bord"),
                        _("Cumuls en direct de votre périmètre (superviseurs)"),
                        run("dashboard"),
                    ),
                )
        self._commands = commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands:
            yield DiscoveryHit(name, partial(callback), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(callback), help=help_text)
