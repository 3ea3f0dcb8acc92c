"""French first, English available.

Message ids are the French texts (French is the default, so a missing catalogue still reads
right); `locale/en/LC_MESSAGES/outreach.po` holds the English catalogue. The language is
OUTREACH_LANG (fr or en), else the locale (LC_ALL, LC_MESSAGES, LANG), else French.
"""

from __future__ import annotations

import ast
import gettext
import os
from functools import cache
from pathlib import Path

LANGUAGES = ("fr", "en")
_LOCALE_DIR = Path(__file__).parent / "locale"
_current: str | None = None


def detect_language() -> str:
    explicit = os.environ.get("OUTREACH_LANG", "").strip().lower()
    if explicit:
        return "en" if explicit.startswith("en") else "fr"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "en" if value.lower().startswith("en") else "fr"
    return "fr"


def set_language(lang: str | None) -> str:
    """Switch the language for the rest of the process; None re-reads the environment."""
    global _current
    _current = (lang if lang in LANGUAGES else None) or detect_language()
    return _current


def language() -> str:
    return _current or set_language(None)


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr from the text of a .po file (plain entries; empty msgstr skipped)."""
    catalogue: dict[str, str] = {}
    key: str | None = None
    field: str | None = None
    parts: dict[str, list[str]] = {"msgid": [], "msgstr": []}

    def flush() -> None:
        msgid, msgstr = "".join(parts["msgid"]), "".join(parts["msgstr"])
        if msgid and msgstr:
            catalogue[msgid] = msgstr
        parts["msgid"].clear()
        parts["msgstr"].clear()

    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            if key is not None:
                flush()
            key, field = "entry", "msgid"
            line = line[6:]
        elif line.startswith("msgstr "):
            field = "msgstr"
            line = line[7:]
        if field and line.startswith('"'):
            parts[field].append(ast.literal_eval(line))
    flush()
    return catalogue


class _PoTranslations(gettext.NullTranslations):
    def __init__(self, catalogue: dict[str, str]) -> None:
        super().__init__()
        self._catalogue = catalogue

    def gettext(self, message: str) -> str:
        return self._catalogue.get(message, message)


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    po = _LOCALE_DIR / lang / "LC_MESSAGES" / "outreach.po"
    if lang == "fr" or not po.exists():
        return gettext.NullTranslations()
    return _PoTranslations(parse_po(po.read_text(encoding="utf-8")))


def _(message: str) -> str:
    """The message in the current language."""
    return _translations(language()).gettext(message)
