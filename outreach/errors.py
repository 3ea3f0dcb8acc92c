"""Errors a person can act on. Each carries a message in the user's language, never a traceback."""

from __future__ import annotations


class OutreachError(Exception):
    """Base of every error the CLI and the TUI show as one clear line."""

    exit_code = 1


class ConfigError(OutreachError):
    """Bad configuration: a database URL that cannot be used, an unknown profile..."""

    exit_code = 2


class DatabaseUnavailable(OutreachError):
    """The database cannot be reached (server down, file unreadable)."""


class DatabaseDamaged(DatabaseUnavailable):
    """The database file is not a sound database (truncated, overwritten...): not usable now,
    like an unreachable one (what waits for the database keeps waiting), said differently."""


class SchemaMismatch(OutreachError):
    """The database's schema revision is not the code's."""


class NotFound(OutreachError):
    """An agent, campaign, business... that does not exist."""


class Forbidden(OutreachError):
    """The acting person's role or chamber does not allow this."""


class InvalidInput(OutreachError):
    """Input that breaks a rule; the message names the field and the reason."""
