"""Alembic glue: the app upgrades through `command.upgrade` on its own connection."""

from __future__ import annotations

import shlex
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.exc import OperationalError

from outreach.config import is_default_database
from outreach.db.engine import Database, unavailable
from outreach.errors import SchemaMismatch
from outreach.i18n import _


def script_location() -> Path:
    """The Alembic environment: `db/` of the checkout, or its copy inside an installed wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_alembic", package.parent / "db"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("Alembic environment not found (db/env.py)")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location()))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    try:
        with db.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise unavailable(db, exc) from None


def _newer(db: Database, current: str, head: str) -> SchemaMismatch:
    return SchemaMismatch(
        _(
            "la base {url} est à la révision {current}, plus récente que ce programme "
            "(révision {head}) : mettez outreach à jour"
        ).format(url=db.display_url, current=current, head=head)
    )


def _known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _run(db: Database, fn: str, revision: str) -> None:
    current = current_revision(db)
    if current is not None and current not in _known_revisions():
        # a newer program wrote this schema: neither upgrade nor downgrade can know it
        raise _newer(db, current, head_revision())
    cfg = alembic_config()
    try:
        with db.engine.connect() as conn:
            # SQLite's procedure for a table rebuilt by a batch migration (drop and re-create):
            # foreign keys off meanwhile (outside any transaction), checked before the commit
            raw = conn.connection.dbapi_connection if db.is_sqlite else None
            if raw is not None:
                raw.execute("PRAGMA foreign_keys = OFF")
            try:
                with conn.begin():
                    cfg.attributes["connection"] = conn
                    getattr(command, fn)(cfg, revision)
                    if raw is not None:
                        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                        if broken is not None:
                            raise RuntimeError(f"foreign key broken by the migration: {broken}")
            finally:
                if raw is not None:
                    raw.execute("PRAGMA foreign_keys = ON")
    except OperationalError as exc:
        raise unavailable(db, exc) from None
    except CommandError as exc:  # an unknown target revision, say
        raise SchemaMismatch(
            _("migration impossible : {reason}").format(reason=str(exc).splitlines()[0])
        ) from None


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the latest)."""
    _run(db, "upgrade", revision)


def downgrade(db: Database, revision: str) -> None:
    _run(db, "downgrade", revision)


def command_for(db: Database, *words: str) -> str:
    """`outreach WORDS` as the user must type it for `db`: with `--db` unless it is the default."""
    if is_default_database(db.url):
        return " ".join(("outreach", *words))
    where = str(db.url.database) if db.is_sqlite else db.display_url
    return " ".join(("outreach", "--db", shlex.quote(where), *words))


def how_to_create(db: Database) -> str:
    return _("lancez « {demo} » (base de démonstration) ou « {upgrade} » (base vide)").format(
        demo=command_for(db, "demo"), upgrade=command_for(db, "db", "upgrade")
    )


def check_schema(db: Database) -> None:
    """SchemaMismatch, saying what to do, unless the database is at the code's revision."""
    current = current_revision(db)
    head = head_revision()
    if current == head:
        return
    fix = _("lancez : {command}").format(command=command_for(db, "db", "upgrade"))
    if current is None:
        raise SchemaMismatch(
            _("la base {url} n'est pas initialisée : {fix}").format(
                url=db.display_url, fix=how_to_create(db)
            )
        )
    if current not in _known_revisions():
        raise _newer(db, current, head)
    raise SchemaMismatch(
        _("la base {url} est en retard (révision {current}, attendue {head}) ; {fix}").format(
            url=db.display_url, current=current, head=head, fix=fix
        )
    )
