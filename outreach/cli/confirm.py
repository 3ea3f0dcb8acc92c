"""Destructive commands (`gdpr purge`, `gdpr erase`, `campaign close`, `dnc lift`): they show what
they will do, then `--dry-run` stops there, `--yes` goes on (scripts), and in a terminal the person
is asked; without a terminal and without `--yes` the command refuses."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from outreach.cli.base import echo
from outreach.errors import InvalidInput
from outreach.i18n import N_, _


def destructive_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--yes` and `--dry-run`, handed to the command as `yes` and `dry_run`."""
    fn = click.option(
        "--dry-run",
        "dry_run",
        is_flag=True,
        help=N_("Montre ce qui serait fait, sans rien changer."),
    )(fn)
    return click.option(
        "--yes",
        "-y",
        "yes",
        is_flag=True,
        help=N_("Ne demande pas de confirmation (scripts)."),
    )(fn)


def go_ahead(preview: str, *, yes: bool, dry_run: bool) -> bool:
    """Print `preview` (what the command will change); True when the change may be made.

    `--dry-run`: False, after saying nothing was changed. `--yes`: True. A terminal: the person
    answers (no by default). No terminal: InvalidInput naming `--yes` and `--dry-run`."""
    echo(preview)  # business and campaign names: control characters shown, not run
    if dry_run:
        echo(_("essai à blanc : rien n'a été changé"))
        return False
    if yes:
        return True
    if not sys.stdin.isatty():
        raise InvalidInput(
            _("confirmation nécessaire : relancez avec --yes (ou --dry-run pour seulement voir)")
        )
    if click.confirm(_("Confirmer ?"), default=False):
        return True
    echo(_("abandon : rien n'a été changé"))
    return False


__all__ = ["destructive_options", "go_ahead"]
