"""The `outreach` command. Thin: parses options, calls services, prints results.

Command modules load on demand (see `OutreachGroup`): `outreach --agent X` imports the app, not
the seeding, export or Alembic code, so the first business shows sooner.
"""

from __future__ import annotations

import gc

# Importing SQLAlchemy and click makes long-lived objects only: no cycles to look for, and
# frozen afterwards so that no later collection walks them again.
_collecting = gc.isenabled()
gc.disable()
try:
    from outreach.cli import click_i18n
    from outreach.cli.base import cli, main

    click_i18n.install()  # click's own messages (usage errors) in the user's language
finally:
    gc.freeze()
    if _collecting:
        gc.enable()

__all__ = ["cli", "main"]
