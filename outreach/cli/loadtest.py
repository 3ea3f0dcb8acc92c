"""`outreach loadtest`: simulated agents against a real database, then a JSON summary."""

from __future__ import annotations

import json
from typing import Any

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.i18n import N_


def chaos_option(fn: Any) -> Any:
    return click.option(
        "--chaos",
        is_flag=True,
        help=N_(
            "Pannes pendant la charge : un quart des agents tués (SIGKILL) en plein appel et, "
            "sur PostgreSQL, le serveur redémarré une fois ; puis appels perdus, doubles "
            "prises et tâches récupérées."
        ),
    )(fn)


def run_chaos_command(url: str, agents: int, seconds: float) -> None:
    from outreach.services.chaos import run_chaos

    summary = run_chaos(url, agents, seconds)
    echo(json.dumps(summary, indent=2, ensure_ascii=False))
    if not summary["ok"]:
        raise SystemExit(1)


@cli.command(
    "loadtest",
    help=N_(
        "Test de charge : N agents simulés (processus séparés) prennent des entreprises et "
        "enregistrent des résultats au hasard, puis les invariants sont vérifiés dans la base. "
        "Affiche un résumé JSON."
    ),
)
@click.option(
    "--agents",
    type=click.IntRange(1, 256),
    default=8,
    show_default=True,
    help=N_("Nombre d'agents simulés."),
)
@click.option(
    "--seconds",
    type=click.FloatRange(0.5, 3600),
    default=30,
    show_default=True,
    help=N_("Durée du test, en secondes."),
)
@click.option(
    "--campaign",
    metavar="NOM",
    help=N_("Campagne existante à travailler (sinon la campagne « Test de charge »)."),
)
@click.option(
    "--bare",
    is_flag=True,
    help=N_("Mêmes transactions en SQL brut (pilote direct), pour comparer."),
)
@click.option(
    "--compare",
    is_flag=True,
    help=N_(
        "Alterne projet et SQL brut par tranches de 5 s (même charge machine) et donne le "
        "rapport des appels par seconde."
    ),
)
@chaos_option
@db_option
@click.pass_obj
def loadtest(
    app: AppContext,
    agents: int,
    seconds: float,
    campaign: str | None,
    bare: bool,
    compare: bool,
    chaos: bool = False,
) -> None:
    from outreach.services.loadtest import run_loadtest

    db = app.database()
    url = db.url.render_as_string(hide_password=False)
    if chaos:
        run_chaos_command(url, agents, seconds)
        return
    summary = run_loadtest(url, agents, seconds, campaign=campaign, bare=bare, compare=compare)
    echo(json.dumps(summary, indent=2, ensure_ascii=False))
    if not summary["ok"]:
        raise SystemExit(1)
