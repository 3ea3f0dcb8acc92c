"""`outreach seed --profile demo|national [--scale F] [--random-seed N]`: realistic data (Faker)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.db.engine import Database
from outreach.errors import InvalidInput
from outreach.i18n import N_, _, format_number
from outreach.services.seeding import PROFILES, SeedReport, plan_for
from outreach.services.seeding.seed import DEFAULT_SEED, ProgressFn, seed_plan


def _number(value: str | None, option: str, kind: type[int] | type[float]) -> float | None:
    if value is None:
        return None
    try:
        return kind(value.strip().replace(",", "."))
    except ValueError:
        expected = _("un entier") if kind is int else _("un nombre")
        raise InvalidInput(
            _("{option} {value!r} : attendu {expected}").format(
                option=option, value=value, expected=expected
            )
        ) from None


@contextmanager
def _progress_bar(label: str) -> Iterator[ProgressFn | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise.

    The bar starts with the first rows written, so a refused seed shows none.
    """
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(label, total=None)

    def advance(done: int, total: int, stage: str) -> None:
        if not bar.live.is_started:
            bar.start()
        if stage == "indexes":
            bar.update(task, description=_("{label} : index").format(label=label))
        bar.update(task, completed=done, total=total)

    try:
        yield advance
    finally:
        if bar.live.is_started:
            bar.stop()


def _summary(report: SeedReport) -> None:
    echo(
        _(
            "seed {profile} (échelle {scale:g}, graine {seed}) : {rows} lignes en {seconds:.1f} s"
        ).format(
            profile=report.profile,
            scale=report.scale,
            seed=report.random_seed,
            rows=report.rows,
            seconds=report.total_seconds,
        )
    )
    for table, count in report.counts.items():
        spent = report.write_seconds.get(table, 0.0)
        rate = format_number(count / spent) if spent > 0 and count else "-"
        echo(
            _(
                "  {table:<13} {count:>10} lignes  écriture {seconds:6.1f} s  {rate} lignes/s"
            ).format(table=table, count=count, seconds=spent, rate=rate)
        )
    echo(
        _("  index reconstruits en {seconds:.1f} s").format(
            seconds=report.write_seconds.get("indexes", 0.0)
        )
    )


@cli.command(
    "seed",
    help=N_(
        "Remplit une base neuve (migrée, sans entreprises) de données réalistes. Profils : "
        "demo (3 000 entreprises, campagne en cours, rappels du jour) ou national (les chiffres "
        "du réseau en 2020-21 : 850 000 entreprises appelées au 2e confinement, 2,35 millions "
        "d'appels ; --scale 0.01 pour une copie à 1 %)."
    ),
)
@click.option(
    "--profile",
    "profile",
    required=True,
    metavar="|".join(PROFILES),
    help=N_("Profil : demo ou national."),
)
@click.option(
    "--scale", "scale", metavar="F", help=N_("Échelle du profil national (1.0 par défaut).")
)
@click.option(
    "--random-seed",
    "random_seed",
    metavar="N",
    help=N_(
        "Graine : la même graine donne les mêmes données ({default} par défaut).",
        default=DEFAULT_SEED,
    ),
)
@click.option(
    "--roles/--no-roles",
    default=True,
    help=N_(
        "PostgreSQL, profil demo : un rôle de connexion par personne, mot de passe de "
        "démonstration « {password} » (par défaut : oui).",
        password="demo-outreach",
    ),
)
@db_option
@click.pass_obj
def seed_command(
    app: AppContext, profile: str, scale: str | None, random_seed: str | None, roles: bool
) -> None:
    factor = _number(scale, "--scale", float)
    seed = _number(random_seed, "--random-seed", int)
    plan = plan_for(profile, factor)  # bad profile or scale: said before opening the database
    database = app.database()
    with _progress_bar(_("seed {profile}").format(profile=profile)) as progress:
        report = seed_plan(database, plan, DEFAULT_SEED if seed is None else int(seed), progress)
    _summary(report)
    if roles and profile == "demo" and database.is_postgresql:
        demo_roles(database)


def demo_roles(database: Database) -> None:
    """Every demo person gets a PostgreSQL login role with the demo password (said here)."""
    from outreach.services.people import DEMO_PASSWORD, give_roles

    n = give_roles(database, DEMO_PASSWORD)
    echo(
        _(
            "{n} rôles PostgreSQL de démonstration (un par personne), mot de passe : {password}"
        ).format(n=n, password=DEMO_PASSWORD)
    )
