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
