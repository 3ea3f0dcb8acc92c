"""The root `outreach` group, the shared options and the one place errors become messages."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.exc import DBAPIError, OperationalError

from outreach import __version__
from outreach.db.engine import Database, database_error, open_database, unavailable
from outreach.domain.text import terminal_safe
from outreach.errors import OutreachError, SchemaMismatch
from outreach.i18n import N_, _, set_language


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo for every line a command prints: text from outside (an imported header, a
    campaign name, a business name) has its control characters shown, not run."""
    click.echo(terminal_safe(str(message)), err=err, nl=nl)


@dataclass
class AppContext:
    """What every command may need, resolved lazily from the global options."""

    db_url: str | None = None
    agent_login: str | None = None
    _db: Database | None = field(default=None, repr=False)

    def database(self, *, check: bool = True) -> Database:
        """The configured database; with `check`, refuse one whose schema is not the code's."""
        if self._db is None:
            self._db = open_database(self.db_url)
        if check and missing_sqlite_file(self._db):
            # connecting would leave an empty file behind: say what to run instead
            from outreach.db.migrate import how_to_create

            raise SchemaMismatch(
                _("aucune base à {path} : {fix}").format(
                    path=self._db.url.database, fix=how_to_create(self._db)
                )
            )
        if check:
            from outreach.db.revision import HEAD_REVISION, stored_revision

            if stored_revision(self._db) != HEAD_REVISION:
                from outreach.db.migrate import check_schema  # Alembic: only when it differs

                check_schema(self._db)
        return self._db


def missing_sqlite_file(db: Database) -> bool:
    """A SQLite database whose file does not exist (connecting would create it empty)."""
    return db.is_sqlite and not Path(str(db.url.database)).exists()


def _store_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(AppContext).db_url = value


def db_option(fn: Any) -> Any:
    """`--db URL` on any command (also accepted before the command name)."""
    return click.option(
        "--db",
        "db_url",
        metavar="URL",
        expose_value=False,
        is_eager=True,
        callback=_store_db,
        help=N_("Base de données (URL SQLAlchemy ou chemin SQLite). Sinon OUTREACH_DATABASE_URL."),
    )(fn)


def _store_lang(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        set_language(value)


def _lang_option() -> click.Option:
    return click.Option(
        ["--lang"],
        type=click.Choice(["fr", "en"]),
        expose_value=False,
        is_eager=True,
        callback=_store_lang,
        help=N_("Langue (sinon OUTREACH_LANG ou la locale ; français par défaut)."),
    )


def _store_agent(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(AppContext).agent_login = value


def agent_option(fn: Any) -> Any:
    """`--agent LOGIN` on the app's commands (also accepted before the command name)."""
    return click.option(
        "--agent",
        metavar="LOGIN",
        expose_value=False,
        callback=_store_agent,
        help=N_("Se connecter directement comme cet agent."),
    )(fn)


_SECTIONS = {"Options": "Options", "Commands": "Commandes", "Arguments": "Arguments"}


class _Formatter(click.HelpFormatter):
    """Click's help layout with its headings in the user's language (French by default)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _("Utilisation : ") if prefix is None else prefix)

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        with super().section(_(_SECTIONS.get(name, name))):
            yield


class _Context(click.Context):
    formatter_class = _Formatter


@contextmanager
def _shown_in_language(*items: Any) -> Iterator[None]:
    """Help texts are French (marked with `N_`) until shown: translate them for the time of the
    display, so that `outreach --lang en --help` reads English whatever was imported when."""
    saved = [
        (item, item.help, getattr(item, "short_help", None), getattr(item, "metavar", None))
        for item in items
    ]
    try:
        for item, help_text, short_help, metavar in saved:
            if help_text:
                item.help = _(help_text)
            if short_help:
                item.short_help = _(short_help)
            if metavar:  # NOM, AAAA-MM-JJ... are French words too
                item.metavar = _(metavar)
        yield
    finally:
        for item, help_text, short_help, metavar in saved:
            item.help = help_text
            if short_help:
                item.short_help = short_help
            if metavar:
                item.metavar = metavar


def _language_typed(args: list[str]) -> str | None:
    """The `--lang` typed anywhere on the command line (before a `--`), if any."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args) and args[i + 1] in ("fr", "en"):
            return args[i + 1]
        if arg in ("--lang=fr", "--lang=en"):
            return arg.partition("=")[2]
    return None


if TYPE_CHECKING:  # what the mixin is mixed into, for the type checker (object at run time)
    _Command = click.Command
else:
    _Command = object


class _FrenchHelp(_Command):
    context_class: type[click.Context] = _Context

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Click acts on --help as soon as it reads it: `outreach rollup --help --lang en` would
        # show French help, so the language typed anywhere is taken before anything else.
        if (typed := _language_typed(args)) is not None:
            set_language(typed)
        return super().parse_args(ctx, args)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None and not getattr(option, "_outreach_help", False):
            option.help = N_("Affiche cette aide et quitte.")
            option._outreach_help = True  # type: ignore[attr-defined]  # our mark on click's option
        return option

    def get_help(self, ctx: click.Context) -> str:
        params = [p for p in self.get_params(ctx) if hasattr(p, "help")]
        with _shown_in_language(self, *params):
            return super().get_help(ctx)

    def get_short_help_str(self, limit: int = 45) -> str:
        with _shown_in_language(self):
            return super().get_short_help_str(limit)


class OutreachCommand(_FrenchHelp, click.Command):
    """Every command also takes `--lang`, where users type it (`outreach rollup --lang en`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(_lang_option())


# command name -> the modules that define it (they register on `cli` when imported)
LAZY_COMMANDS: dict[str, tuple[str, ...]] = {
    "agent": ("outreach.cli.agent",),
    "campaign": ("outreach.cli.campaign",),
    "db": ("outreach.cli.db", "outreach.cli.backup"),
    "demo": ("outreach.cli.tui",),
    "dnc": ("outreach.cli.dnc",),
    "flags": ("outreach.cli.flags",),
    "export": ("outreach.cli.export",),
    "gdpr": ("outreach.cli.gdpr",),
    "goal": ("outreach.cli.goal",),
    "import": ("outreach.cli.imports",),
    "loadtest": ("outreach.cli.loadtest",),
    "mail": ("outreach.cli.mail",),
    "report": ("outreach.cli.report",),
    "simulate": ("outreach.cli.loadtest",),
    "rollup": ("outreach.cli.rollup",),
    "seed": ("outreach.cli.seed",),
    "verification": ("outreach.cli.verification",),
    "serve": ("outreach.cli.tui",),
    "set-pin": ("outreach.cli.tui",),
    "tui": ("outreach.cli.tui",),
}


class OutreachGroup(_FrenchHelp, click.Group):
    """Turns every error a person can act on into one line and a non-zero exit code."""

    command_class = OutreachCommand
    group_class = type  # subgroups are OutreachGroups too

    def list_commands(self, ctx: click.Context) -> list[str]:
        if self is cli:
            return sorted(set(self.commands) | set(LAZY_COMMANDS))
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if self is cli and cmd_name in LAZY_COMMANDS:
            for module in LAZY_COMMANDS[cmd_name]:
                importlib.import_module(module)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OutreachError as exc:
            echo(_("erreur : {message}").format(message=exc), err=True)
            ctx.exit(exc.exit_code)
        except OperationalError as exc:
            app = ctx.find_object(AppContext)
            if app is not None and app._db is not None:
                message = str(unavailable(app._db, exc))
            else:
                message = str(exc.orig or exc).splitlines()[0]
            echo(_("erreur : {message}").format(message=message), err=True)
            ctx.exit(1)
        except DBAPIError as exc:  # a damaged file, a constraint no check foresaw...
            app = ctx.find_object(AppContext)
            error = database_error(app._db if app is not None else None, exc)
            echo(_("erreur : {message}").format(message=error), err=True)
            ctx.exit(1)


@click.group(
    cls=OutreachGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=N_(
        "outreach : le centre d'appels des Chambres de Métiers et de l'Artisanat.\n\n"
        "Sans commande, ouvre l'application des conseillers."
    ),
)
@click.version_option(
    __version__,
    "-V",
    "--version",
    prog_name="outreach",
    message="%(prog)s %(version)s",
    help=N_("Affiche la version et quitte."),
)
@click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    expose_value=False,
    is_eager=True,
    callback=_store_lang,
    help=N_("Langue (sinon OUTREACH_LANG ou la locale ; français par défaut)."),
)
@db_option
@agent_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    ctx.ensure_object(AppContext)
    if ctx.invoked_subcommand is None:
        tui = cli.get_command(ctx, "tui")
        if tui is None:
            click.echo(ctx.get_help())
            return
        ctx.invoke(tui)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="outreach", obj=AppContext())


if __name__ == "__main__":  # pragma: no cover
    main()
