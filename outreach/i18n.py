"""French first, English available.

Message ids are the French texts (French is the default, so a missing catalogue still reads
right); `locale/en/LC_MESSAGES/outreach.po` holds the English catalogue, read as text when first
needed (no compile step: a fresh `pip install -e .` has working catalogues). The language is
OUTREACH_LANG (fr or en), else the locale (LC_ALL, LC_MESSAGES, LANG), else French.

- `_(message)`: the message in the current language.
- `ngettext(singular, plural, n)`: the form for `n` (French: 0 and 1 are singular; the
  catalogue's `Plural-Forms` header for the others); the catalogue entry has `msgid_plural` and
  `msgstr[0]`, `msgstr[1]`.
- `N_(message, **fields)`: for text fixed at import but shown later (click help, key binding
  descriptions): returns the French text, and `_()` of that text, where it is shown, gives it in
  the language of that moment.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
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


def _french_plural(n: int) -> int:
    return 0 if n <= 1 else 1


@dataclass
class Catalogue:
    """The entries of one .po file: plain messages, and plural messages by their singular id."""

    messages: dict[str, str] = field(default_factory=dict)
    plurals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    plural_index: Callable[[int], int] = _french_plural


def read_po(text: str) -> Catalogue:
    """The catalogue in the text of a .po file (entries with an empty translation skipped)."""
    catalogue = Catalogue()
    entry: dict[str, list[str]] = {}
    current: list[str] | None = None

    def flush() -> None:
        msgid = "".join(entry.get("msgid", []))
        if not msgid:
            header = "".join(entry.get("msgstr", []))
            found = re.search(r"Plural-Forms:.*?plural=([^;\n]+)", header)
            if found:
                catalogue.plural_index = gettext.c2py(found.group(1).strip())
        elif "msgid_plural" in entry:
            forms = tuple(
                "".join(entry[key])
                for key in sorted((k for k in entry if k.startswith("msgstr[")), key=_form_number)
            )
            if forms and all(forms):
                catalogue.plurals[msgid] = forms
        else:
            msgstr = "".join(entry.get("msgstr", []))
            if msgstr:
                catalogue.messages[msgid] = msgstr
        entry.clear()

    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            if current is not None:
                current.append(ast.literal_eval(line))
            continue
        keyword, _space, rest = line.partition(" ")
        if keyword == "msgid" and entry:
            flush()
        current = entry.setdefault(keyword, [])
        current.append(ast.literal_eval(rest))
    flush()
    return catalogue


def _form_number(key: str) -> int:
    return int(key[len("msgstr[") : -1])


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr for the plain entries of a .po file (empty msgstr skipped)."""
    return read_po(text).messages


@cache
def _catalogue(lang: str) -> Catalogue:
    po = _LOCALE_DIR / lang / "LC_MESSAGES" / "outreach.po"
    if lang == "fr" or not po.exists():
        return Catalogue()
    return read_po(po.read_text(encoding="utf-8"))


# French text shown later -> (message id, fields), from N_()
_deferred: dict[str, tuple[str, dict[str, object]]] = {}


def N_(message: str, **fields: object) -> str:  # noqa: N802 (the gettext convention)
    """Mark text fixed now and shown later: returns the French text (formatted with `fields`);
    `_()` of it where it is shown gives it in the language of that moment."""
    text = message.format(**fields) if fields else message
    if fields:
        _deferred[text] = (message, fields)
    return text


def _(message: str) -> str:
    """The message in the current language."""
    if language() == "fr":
        return message
    catalogue = _catalogue(language())
    found = catalogue.messages.get(message)
    if found is not None:
        return found
    deferred = _deferred.get(message)
    if deferred is not None:
        msgid, fields = deferred
        return catalogue.messages.get(msgid, msgid).format(**fields)
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of the message for the number `n`, in the current language."""
    catalogue = _catalogue(language())
    forms = catalogue.plurals.get(singular)
    if forms is None:
        return singular if _french_plural(n) == 0 else plural
    index = catalogue.plural_index(n)
    return forms[min(index, len(forms) - 1)]


@cache
def _library_catalogue(domain: str) -> Catalogue:
    po = _LOCALE_DIR / "fr" / "LC_MESSAGES" / f"{domain}.po"
    return read_po(po.read_text(encoding="utf-8")) if po.exists() else Catalogue()


def library_gettext(domain: str, message: str) -> str:
    """A library's own message (an English message id, as click marks its messages) in the
    current language: French from `locale/fr/LC_MESSAGES/<domain>.po`, English as it is."""
    if language() != "fr":
        return message
    return _library_catalogue(domain).messages.get(message, message)


def library_ngettext(domain: str, singular: str, plural: str, n: int) -> str:
    """The plural form of a library's message for `n`, in the current language."""
    english = singular if n == 1 else plural
    if language() != "fr":
        return english
    catalogue = _library_catalogue(domain)
    forms = catalogue.plurals.get(singular)
    if forms is None:
        return english
    return forms[min(catalogue.plural_index(n), len(forms) - 1)]


def _babel_locale() -> str:
    return "en" if language() == "en" else "fr_FR"


def format_number(value: float, decimals: int = 0) -> str:
    """`value` as the current language writes it: 8 187 and 1,5 in French, 8,187 and 1.5 in
    English. French groups with a plain space here (terminals, copy and paste)."""
    from babel.numbers import format_decimal  # only where numbers are shown: start-up time

    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    text = format_decimal(value, format=pattern, locale=_babel_locale())
    return text.replace("\u202f", " ").replace("\xa0", " ")


def format_percent(ratio: float, decimals: int = 1) -> str:
    """`ratio` (0.012) as a percentage in the current language: "1,2 %" or "1.2%"."""
    from babel.numbers import format_percent as babel_percent

    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + " %"
    if language() == "en":
        pattern = pattern.replace(" %", "%")
    text = babel_percent(ratio, format=pattern, locale=_babel_locale())
    return text.replace("\u202f", " ").replace("\xa0", " ")
