"""Click's own messages in the user's language: "Essayez « outreach tui --help » pour afficher
l'aide.", "Option inconnue", "Argument manquant"...

Click marks its messages with gettext (`from gettext import gettext as _` in each of its
modules, English message ids) and would look for a compiled catalogue of the process's global
domain, which depends on the machine's locale files. Instead, each of click's modules gets
outreach's own lookup (`outreach.i18n.library_gettext`): French from
`locale/fr/LC_MESSAGES/click.po`, English as click writes it, following `--lang`,
OUTREACH_LANG and the locale like every other message.
"""

from __future__ import annotations

import importlib
import sys
from functools import partial

from outreach.i18n import library_gettext, library_ngettext

DOMAIN = "click"
# every module of click that binds gettext's functions at import
MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.shell_completion",
    "click.termui",
    "click.types",
    "click.utils",
    "click._termui_impl",
)
# imported by click only when used (an editor, shell completion): not imported here for the
# few milliseconds at start-up; patched if already there
LAZY = ("click.shell_completion", "click._termui_impl")


def install() -> None:
    """Route click's gettext calls to outreach's catalogues (once per process; idempotent)."""
    gettext = partial(library_gettext, DOMAIN)
    ngettext = partial(library_ngettext, DOMAIN)
    for name in MODULES:
        module = sys.modules.get(name)
        if module is None and name not in LAZY:
            try:
                module = importlib.import_module(name)
            except ImportError:  # a module a later click version dropped
                continue
        if module is None:
            continue
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]  # click's own module: checked above
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]  # checked above
