"""`outreach verification queue`: queue the firms due a verification call (run daily)."""

from __future__ import annotations

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.cli.supervision import acting_supervisor, as_option
from outreach.i18n import N_, ngettext
from outreach.services import verification as service


@cli.group(
    "verification",
    help=N_("Appels de vérification : l'entreprise aidée vend-elle désormais en ligne ?"),
)
def verification_group() -> None:
    pass


@verification_group.command(
    "queue",
    help=N_(
        "Met en file de vérification les entreprises dont l'orientation clic et collecte ou "
        "plateforme a été acceptée depuis le délai de sa campagne (21 jours par défaut)."
    ),
)
@as_option
@db_option
@click.pass_obj
def verification_queue(app: AppContext, as_login: str | None) -> None:
    db, person = acting_supervisor(app, as_login)
    queued = service.queue_due(db, person)
    echo(
        ngettext(
            "{n} entreprise mise en file de vérification",
            "{n} entreprises mises en file de vérification",
            queued,
        ).format(n=queued)
    )
