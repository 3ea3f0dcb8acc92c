"""The `outreach` command. Thin: parses options, calls services, prints results."""

from __future__ import annotations

from outreach.cli.base import cli, main

# Each module adds its commands to `cli` when imported.
from outreach.cli import db as _db  # noqa: F401,E402  isort: skip
from outreach.cli import rollup as _rollup  # noqa: F401,E402  isort: skip
from outreach.cli import export as _export  # noqa: F401,E402  isort: skip
from outreach.cli import imports as _imports  # noqa: F401,E402  isort: skip
from outreach.cli import campaign as _campaign  # noqa: F401,E402  isort: skip
from outreach.cli import tui as _tui  # noqa: F401,E402  isort: skip
from outreach.cli import seed as _seed  # noqa: F401,E402  isort: skip
from outreach.cli import loadtest as _loadtest  # noqa: F401,E402  isort: skip
from outreach.cli import gdpr as _gdpr  # noqa: F401,E402  isort: skip
from outreach.cli import backup as _backup  # noqa: F401,E402  isort: skip

__all__ = ["cli", "main"]
