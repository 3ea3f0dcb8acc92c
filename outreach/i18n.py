"""French first, English available.

Message ids are the French texts (French is the default, so a missing catalogue still reads
right); `locale/en/LC_MESSAGES/outreach.po` holds the English catalogue, compiled to `.mo` with
Babel when the package is built or installed (hatch_build.py) and read with gettext. The language is
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


def _french_plural(n: int) -> int:
    return 0 if n <= 1 else 1


# the .po's SHA-256, kept in the .mo it was compiled to (a message in its own context)
SOURCE_CONTEXT, SOURCE_ID = "outreach-build", "source-sha256"


def compile_catalogue(po_path: Path) -> bytes:
    """The `.mo` of `po_path` (Babel), stamped with the `.po`'s SHA-256. Used by the build hook
    (hatch_build.py) and, for a catalogue edited since the install, by `_translations`."""
    import hashlib
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as handle:
        catalogue = read_po(handle)
    digest = hashlib.sha256(po_path.read_bytes()).hexdigest()
    catalogue.add(SOURCE_ID, digest, context=SOURCE_CONTEXT)
    out = io.BytesIO()
    write_mo(out, catalogue, use_fuzzy=False)
    return out.getvalue()


@cache
def _translations(domain: str, lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of `domain` in `lang` (gettext). The `.mo` made at install is used
    while it matches its `.po`; a `.po` edited since (a developer's tree) is compiled again in
    memory, so the text shown is never stale. No catalogue: the message ids, untranslated."""
    po = _LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    mo = po.with_suffix(".mo")
    if mo.exists():
        with mo.open("rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        if not po.exists():
            return compiled
        import hashlib

        if (
            compiled.pgettext(SOURCE_CONTEXT, SOURCE_ID)
            == hashlib.sha256(po.read_bytes()).hexdigest()
        ):
            return compiled
    if po.exists():
        import io

        return gettext.GNUTranslations(io.BytesIO(compile_catalogue(po)))
    return gettext.NullTranslations()


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
    catalogue = _translations("outreach", language())
    found = catalogue.gettext(message)
    if found != message:
        return found
    deferred = _deferred.get(message)
    if deferred is not None:
        msgid, fields = deferred
        return catalogue.gettext(msgid).format(**fields)
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of the message for the number `n`, in the current language."""
    if language() == "fr":  # the message ids are French: French's rule (0 and 1: singular)
        return singular if _french_plural(n) == 0 else plural
    return _translations("outreach", language()).ngettext(singular, plural, n)


def library_gettext(domain: str, message: str) -> str:
    """A library's own message (an English message id, as click marks its messages) in the
    current language: French from `locale/fr/LC_MESSAGES/<domain>.po`, English as it is."""
    if language() != "fr":
        return message
    return _translations(domain, "fr").gettext(message)


def library_ngettext(domain: str, singular: str, plural: str, n: int) -> str:
    """The plural form of a library's message for `n`, in the current language."""
    if language() != "fr":
        return singular if n == 1 else plural
    return _translations(domain, "fr").ngettext(singular, plural, n)


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
