"""`outreach tui`, `outreach demo`, `outreach serve`, `outreach set-pin`: the agents' app.

PIN login in the browser: `outreach serve` binds to localhost by default. To serve other hosts
it needs `--pin-required`, which makes every agent type a PIN (agents without one cannot log in;
give them one with `outreach set-pin LOGIN`). `--agent` is ignored when serving: every browser
session logs in for itself.
"""

from __future__ import annotations

import errno
import gc
import ipaddress
import os
import shlex
import socket
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from outreach.cli.base import AppContext, agent_option, cli, db_option, echo
from outreach.config import ENV_DATABASE_URL
from outreach.db.engine import Database
from outreach.errors import ConfigError, InvalidInput, NotFound
from outreach.i18n import N_, _, language

DEMO_LOGIN = "demo"


F = TypeVar("F", bound=Callable[..., Any])  # a click command function


def _pin_option(fn: F) -> F:
    return click.option(
        "--pin-required",
        is_flag=True,
        help=N_(
            "Chaque agent doit taper son code PIN (obligatoire pour servir d'autres machines)."
        ),
    )(fn)


def _bell_option(fn: F) -> F:
    return click.option(
        "--bell",
        is_flag=True,
        envvar="OUTREACH_BELL",
        help=N_(
            "Fait sonner le terminal quand un rappel arrive à échéance (sinon la bannière "
            "seule ; aussi OUTREACH_BELL=1)."
        ),
    )(fn)


def _run_app(app: AppContext, *, login: str | None, pin_required: bool, bell: bool = False) -> None:
    gc.disable()  # imports: objects that live as long as the process, no cycles to find
    try:
        database = app.database()
        from outreach.services.backend import Backend
        from outreach.tui.app import make_app
        from outreach.tui.settings import TuiSettings

        settings = TuiSettings(
            agent_login=login,
            require_pin=pin_required,
            callback_bell=bell,
            remote_address=os.environ.get("OUTREACH_REMOTE_ADDRESS") or None,
        )
        tui = make_app(Backend(database), settings)
        # What is loaded so far is never collected: keep the collector's passes off it. The GC
        # stays off while the app draws its first screens; the app turns it back on.
        gc.freeze()
    except BaseException:
        gc.enable()
        raise
    tui.run()


@cli.command("tui", help=N_("Ouvre l'application des conseillers (commande par défaut)."))
@db_option
@agent_option
@_pin_option
@_bell_option
@click.pass_obj
def tui_command(app: AppContext, pin_required: bool = False, bell: bool = False) -> None:
    _run_app(app, login=app.agent_login, pin_required=pin_required, bell=bell)


@cli.command(
    "demo",
    help=N_(
        "Crée au premier lancement une base de démonstration locale (SQLite, dans le dossier "
        "de données) et ouvre l'application comme l'agent « demo »."
    ),
)
@db_option
@agent_option
@_bell_option
@click.pass_obj
def demo_command(app: AppContext, bell: bool = False) -> None:
    prepare_demo(app)
    _run_app(app, login=app.agent_login or DEMO_LOGIN, pin_required=False, bell=bell)


def prepare_demo(app: AppContext) -> Database:
    """The database every command uses (the default one unless --db or OUTREACH_DATABASE_URL
    says otherwise), created, migrated and seeded with the demo profile the first time: the
    supervisors' commands then see the demo's data."""
    from outreach.db import migrate
    from outreach.services.agents import get_agent

    database = app.database(check=False)
    if migrate.current_revision(database) is not None:
        migrate.check_schema(database)
        try:
            get_agent(database, DEMO_LOGIN)
            return database
        except NotFound:
            pass  # migrated but never seeded (say, an earlier run was interrupted)
    echo(
        _(
            "Création de la base de démonstration : {url} (la base de toutes les commandes "
            "outreach, sauf --db ou OUTREACH_DATABASE_URL)"
        ).format(url=database.display_url)
    )
    migrate.upgrade(database)
    from outreach.services.seeding import seed_profile

    seed_profile(database, "demo")
    if database.is_postgresql:
        from outreach.cli.seed import demo_roles

        demo_roles(database)
    return database


def is_local_host(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@cli.command(
    "serve",
    help=N_(
        "Sert l'application dans le navigateur (textual-serve). Écoute sur 127.0.0.1 sauf "
        "--host ; une autre adresse exige --pin-required sur SQLite, et sur PostgreSQL l'URL "
        "du propriétaire (chacun se connecte avec son mot de passe)."
    ),
)
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help=N_("Adresse d'écoute."))
@click.option("--port", default=8000, show_default=True, type=int, help=N_("Port d'écoute."))
@click.option(
    "--public-url", default=None, metavar="URL", help=N_("Adresse publique (derrière un proxy).")
)
@_pin_option
@_bell_option
@click.pass_obj
def serve_command(
    app: AppContext,
    host: str,
    port: int,
    public_url: str | None,
    pin_required: bool,
    bell: bool = False,
) -> None:
    from outreach.config import resolve_database_url

    local = is_local_host(host)
    sqlite = resolve_database_url(app.db_url).get_backend_name() == "sqlite"
    if not local and sqlite and not pin_required:
        raise ConfigError(
            _(
                "refus de servir sur {host} sans code PIN : ajoutez --pin-required "
                "(chaque agent devra taper son code PIN)"
            ).format(host=host)
        )
    database = app.database()  # a wrong URL or schema fails here, not in each browser tab
    if not local and database.is_postgresql:
        from outreach.services.people import connected_or_owner

        if connected_or_owner(database) is not None:
            raise ConfigError(
                _(
                    "refus de servir sur {host} avec le rôle d'une personne : servez avec l'URL "
                    "du propriétaire de la base, chacun se connectera avec son propre mot de passe"
                ).format(host=host)
            )
    check_can_listen(host, port)  # before saying "servi sur": a busy port is one clear line
    # The app processes get the database through the environment, not on their command line.
    os.environ[ENV_DATABASE_URL] = database.url.render_as_string(hide_password=False)
    os.environ["OUTREACH_LANG"] = language()
    command = [sys.executable, "-m", "outreach", "tui"]
    if pin_required:
        command.append("--pin-required")
    if bell:
        command.append("--bell")
    from outreach.cli.served import AddressedServer

    _start_mail_worker(database)
    from outreach.services.agent_states import ExpirySweeper

    ExpirySweeper(database).start()  # crashed apps' states closed, every minute
    echo(_("outreach servi sur http://{host}:{port}").format(host=host, port=port))
    try:
        AddressedServer(
            shlex.join(command), host=host, port=port, title="outreach", public_url=public_url
        ).serve()
    except OSError as exc:  # taken between the check and the start, or any other start failure
        raise ConfigError(_cannot_listen(host, port, exc)) from None


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return _(
            "le port {port} est déjà pris sur {host} (un autre « outreach serve » ?) : "
            "arrêtez ce programme ou choisissez un autre port avec --port"
        ).format(port=port, host=host)
    if exc.errno == errno.EACCES:
        return _(
            "le port {port} est réservé à l'administrateur : prenez-en un au-dessus de 1024 avec --port"
        ).format(port=port)
    return _("impossible d'écouter sur {host}:{port} : {reason}").format(
        host=host, port=port, reason=exc.strerror or exc
    )


def check_can_listen(host: str, port: int) -> None:
    """ConfigError, in one line, unless a server could listen on host:port now."""
    if not 0 < port < 65536:
        raise ConfigError(_("port invalide : {port} (1 à 65535)").format(port=port))
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror:
        raise ConfigError(_("adresse d'écoute inconnue : {host}").format(host=host)) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(_cannot_listen(host, port, exc)) from None


def _start_mail_worker(database: Database) -> None:
    """With OUTREACH_SMTP_URL set, the queued e-mails go out every 30 seconds while serving."""
    from outreach.services.mail import smtp

    config = smtp.configured()
    if config is None:
        return
    from outreach.services.mail.sender import MailWorker

    MailWorker(database, config).start()
    echo(_("courriels envoyés toutes les 30 s par {server}").format(server=config.safe()))


@cli.command(
    "set-pin",
    help=N_(
        "Définit (ou avec --clear retire) le code PIN d'un agent : le sien (en tapant l'ancien "
        "s'il y en a un) ou, pour un superviseur (--as), celui d'un agent de sa chambre. Le "
        "nouveau code est demandé (ou lu dans OUTREACH_NEW_PIN), jamais passé en option."
    ),
)
@db_option
@click.argument("login")
@click.option("--clear", is_flag=True, help=N_("Retire le code PIN."))
@click.option(
    "--as",
    "as_login",
    metavar="LOGIN",
    help=N_("Superviseur qui agit (sinon la variable OUTREACH_AS)."),
)
@click.pass_obj
def set_pin_command(app: AppContext, login: str, clear: bool, as_login: str | None) -> None:
    from outreach.cli.supervision import acting
    from outreach.services import auth

    database, actor = acting(app, as_login, default=login)
    pin: str | None = None
    if not clear:
        pin = os.environ.get("OUTREACH_NEW_PIN", "").strip() or None
        if pin is None:
            if not sys.stdin.isatty():
                raise InvalidInput(
                    _("code PIN vide : tapez-le, ou mettez-le dans OUTREACH_NEW_PIN")
                )
            pin = click.prompt(
                _("Nouveau code PIN (4 à 12 chiffres)"), hide_input=True, confirmation_prompt=True
            )
    auth.set_pin(database, login, pin, actor_id=actor.id)
    echo(
        (_("code PIN retiré pour {login}") if clear else _("code PIN défini pour {login}")).format(
            login=login
        )
    )
