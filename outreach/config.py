"""Where things live: the database URL, the user data directory, the language."""

from __future__ import annotations

import os
import re
from pathlib import Path

from platformdirs import user_data_path
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from outreach.errors import ConfigError
from outreach.i18n import _

ENV_DATABASE_URL = "OUTREACH_DATABASE_URL"
ENV_DATA_DIR = "OUTREACH_DATA_DIR"


def data_dir() -> Path:
    """The user data directory (OUTREACH_DATA_DIR overrides it, as tests do)."""
    override = os.environ.get(ENV_DATA_DIR)
    path = Path(override) if override else user_data_path("outreach", appauthor=False)
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)  # the database and outbox live here
    return path


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'outreach.sqlite3'}"


def is_default_database(url: URL) -> bool:
    """Whether `url` is what commands open without `--db` (so a hint needs no `--db`)."""
    try:
        return url == resolve_database_url(None)
    except ConfigError:
        return False


def _masked(raw: str) -> str:
    """`raw` with any password replaced by ***, for messages (never echo a secret)."""
    return re.sub(r"(://[^/:@]*:)[^/]*@", r"\1***@", raw)


def resolve_database_url(cli_value: str | None = None) -> URL:
    """`--db URL`, else OUTREACH_DATABASE_URL, else the SQLite file in the user data directory.

    Accepts a bare file path for SQLite and `postgresql://` (mapped to the psycopg 3 driver).
    """
    raw = cli_value or os.environ.get(ENV_DATABASE_URL) or default_database_url()
    raw = raw.strip()
    if "://" not in raw:
        if raw.endswith((".sqlite3", ".sqlite", ".db")) or "/" in raw:
            raw = f"sqlite:///{Path(raw).expanduser().resolve()}"
        else:
            raise ConfigError(
                _("URL de base de données invalide : {url!r}").format(url=_masked(raw))
            )
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            _("URL de base de données invalide : {url!r}").format(url=_masked(raw))
        ) from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
    elif backend == "postgres":
        url = url.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise ConfigError(
            _("base non prise en charge : {backend} (SQLite ou PostgreSQL seulement)").format(
                backend=backend
            )
        )
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ConfigError(_("SQLite demande un fichier : sqlite:///chemin/vers/outreach.sqlite3"))
    return url
