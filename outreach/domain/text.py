"""Text folding shared by storage and search: one rule, so a name typed any way finds the firm."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[^0-9a-z]+")
# The Combining Diacritical Marks block but U+034F (the grapheme joiner, combining class 0):
# the accents of French names once decomposed. Removing them with one regex is the fast path;
# anything else outside ASCII goes through unicodedata.combining, as the rule says.
_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")


def fold(text: str) -> str:
    """Lower case, accents removed, every run of other characters one space: 'Boulangerie L'Épi' -> 'boulangerie l epi'."""
    if text.isascii():
        return _SPACES.sub(" ", text.lower()).strip()
    decomposed = _MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))
    if not decomposed.isascii():
        decomposed = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", decomposed).strip()


# What a terminal would act on instead of showing: C0 controls but tab and newline, DEL, the C1
# controls (U+009B is a CSI in some terminals) and the bidirectional overrides and isolates
# ("Trojan Source": text that reads differently from what it is).
_CONTROLS = (
    [c for c in range(0x20) if c not in (0x09, 0x0A)]
    + list(range(0x7F, 0xA0))
    + [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
_VISIBLE = str.maketrans({c: f"\\u{c:04x}" for c in _CONTROLS})
_ANY_CONTROL = re.compile("[" + "".join(re.escape(chr(c)) for c in _CONTROLS) + "]")


def terminal_safe(text: str) -> str:
    """`text` with every control character a terminal would obey written as `\\uXXXX` (the
    JSON escape, so JSON output stays valid and reads back the same): an ESC or BEL from an
    imported file or a campaign name is shown, never run."""
    if _ANY_CONTROL.search(text) is None:
        return text
    return text.translate(_VISIBLE)


def has_control(text: str) -> bool:
    """Whether `text` holds a character `terminal_safe` would escape (tab and newline aside)."""
    return _ANY_CONTROL.search(text) is not None
