"""`outreach mail send|list`: the e-mails to businesses queued by the advisers."""

from __future__ import annotations

import click

from outreach.cli.base import AppContext, cli, db_option, echo
from outreach.cli.supervision import acting_supervisor, as_option
from outreach.errors import ConfigError
from outreach.i18n import N_, _, ngettext
from outreach.services.mail import sender
from outreach.services.mail import smtp as smtp_config
from outreach.services.mail.listing import list_messages


@cli.group(
    "mail",
    help=N_(
        "Courriels aux entreprises : envoi de la file (serveur OUTREACH_SMTP_URL, "
        "smtp://utilisateur:mot-de-passe@hôte:port) et consultation."
    ),
)
def mail_group() -> None:
    pass


@mail_group.command(
    "send",
    help=N_(
        "Envoie les courriels en attente (chacun une seule fois ; nouvel essai plus tard si le "
        "serveur refuse). Chaque envoi est journalisé."
    ),
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help=N_("Courriels au plus."),
)
@db_option
@click.pass_obj
def send_cmd(app: AppContext, limit: int) -> None:
    config = smtp_config.configured()
    if config is None:
        raise ConfigError(
            _(
                "aucun serveur de courriel : définissez {env}=smtp://utilisateur:mot-de-passe@hôte:port"
            ).format(env=smtp_config.ENV_SMTP_URL)
        )
    report = sender.send_due(app.database(), config, limit=limit)
    echo(
        ngettext("{n} courriel envoyé", "{n} courriels envoyés", report.sent).format(n=report.sent)
        + _(" ; {retried} à réessayer, {failed} en échec, {cancelled} annulés (opposition)").format(
            retried=report.retried, failed=report.failed, cancelled=report.cancelled
        )
    )
    if report.interrupted:
        echo(
            _(
                "{n} courriels interrompus pendant l'envoi : marqués en échec, non renvoyés "
                "(vérifiez auprès du serveur)"
            ).format(n=report.interrupted)
        )
    if report.server_down:
        echo(
            _("serveur {server} injoignable : la suite attend le prochain envoi").format(
                server=config.safe()
            ),
            err=True,
        )
        raise SystemExit(1)


@mail_group.command("list", help=N_("Les courriels de votre périmètre, les plus récents d'abord."))
@click.option(
    "--state",
    type=click.Choice(["queued", "sending", "sent", "failed", "cancelled"]),
    help=N_("Seulement cet état."),
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help=N_("Lignes au plus.")
)
@as_option
@db_option
@click.pass_obj
def list_cmd(app: AppContext, state: str | None, limit: int, as_login: str | None) -> None:
    db, person = acting_supervisor(app, as_login)
    total, rows = list_messages(db, person, state=state, limit=limit)
    echo(ngettext("{n} courriel", "{n} courriels", total).format(n=total))
    for m in rows:
        echo(
            f"  #{m.id} {m.created_at:%Y-%m-%d %H:%M} {m.state:<9} {m.kind:<11} "
            f"{m.siret} {m.to_address}  {m.subject}"
            + (f"  [{m.last_error}]" if m.last_error and m.state != "sent" else "")
        )
