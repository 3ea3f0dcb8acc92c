"""`outreach loadtest`: simulated agents against a real database, then a JSON summary."""

from __future__ import annotations

import json
from typing import Any

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.i18n import N_, _


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
@chaos_option
@db_option
@click.pass_obj
def loadtest(
    app: AppContext,
    agents: int,
    seconds: float,
    campaign: str | None,
    chaos: bool = False,
) -> None:
    from outreach.services.loadtest import run_loadtest

    db = app.database()
    url = db.url.render_as_string(hide_password=False)
    if chaos:
        run_chaos_command(url, agents, seconds)
        return
    summary = run_loadtest(url, agents, seconds, campaign=campaign)
    echo(json.dumps(summary, indent=2, ensure_ascii=False))
    if not summary["ok"]:
        raise SystemExit(1)


@cli.command(
    "simulate",
    help=N_(
        "Rejoue N jours de campagne sur une horloge simulée : des agents simulés d'une chambre "
        "travaillent 8 heures par jour ouvré (10 h-13 h, 14 h-19 h) avec les services du projet ; "
        "résultats tirés de l'historique de la base. Affiche un résumé JSON : durée des prises "
        "(p50, p99) par jour, premier et dernier jour. Écrit des appels : à lancer sur une copie."
    ),
)
@click.option(
    "--days",
    type=click.IntRange(1, 260),
    default=20,
    show_default=True,
    help=N_("Nombre de jours ouvrés simulés."),
)
@click.option(
    "--agents",
    type=click.IntRange(1, 500),
    default=20,
    show_default=True,
    help=N_("Nombre d'agents simulés."),
)
@click.option(
    "--chamber",
    metavar="CODE",
    default="IDF",
    show_default=True,
    help=N_("Chambre des agents simulés."),
)
@click.option(
    "--campaign",
    metavar="NOM",
    help=N_("Campagne à travailler (sinon la campagne active la plus fournie de la chambre)."),
)
@click.option(
    "--call-minutes",
    type=click.FloatRange(1, 60),
    default=4.0,
    show_default=True,
    help=N_("Durée d'un appel avec sa saisie, en minutes simulées."),
)
@click.option(
    "--random-seed",
    type=int,
    default=2020,
    show_default=True,
    help=N_("Graine : la même graine donne les mêmes résultats d'appel."),
)
@db_option
@click.pass_obj
def simulate_command(
    app: AppContext,
    days: int,
    agents: int,
    chamber: str,
    campaign: str | None,
    call_minutes: float,
    random_seed: int,
) -> None:
    from outreach.services.simulate import simulate

    def progress(day: Any) -> None:
        echo(
            _(
                "jour {day} ({date}) : {calls} appels, prise p50 {p50} ms, p99 {p99} ms, "
                "{waiting} en attente"
            ).format(
                day=day.day,
                date=day.date,
                calls=day.calls,
                p50=day.claim_p50_ms,
                p99=day.claim_p99_ms,
                waiting=day.waiting_at_end,
            ),
            err=True,
        )

    summary = simulate(
        app.database(),
        days,
        agents,
        chamber=chamber.strip().upper(),
        campaign=campaign,
        call_minutes=call_minutes,
        seed=random_seed,
        progress=progress,
    )
    echo(json.dumps(summary, indent=2, ensure_ascii=False))
