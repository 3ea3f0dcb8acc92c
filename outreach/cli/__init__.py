"""The `outreach` command. Thin: parses options, calls services, prints results.

Command modules load on demand (see `OutreachGroup`): `outreach --agent X` imports the app, not
the seeding, export or Alembic code, so the first business shows sooner.
"""

from __future__ import annotations

from outreach.cli.base import cli, main

__all__ = ["cli", "main"]
