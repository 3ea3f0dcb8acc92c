"""fold() and luhn_ok() have fast paths; they must agree with the plain rules everywhere."""

from __future__ import annotations

import random
import re
import unicodedata

from outreach.domain.siret import luhn_ok
from outreach.domain.text import fold

_OTHERS = re.compile(r"[^0-9a-z]+")


def plain_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _OTHERS.sub(" ", kept).strip()


def plain_luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def test_fold_examples() -> None:
    assert fold("Boulangerie L'Épi d'Or") == "boulangerie l epi d or"
    assert fold("  SARL  Müller & Fils ") == "sarl muller fils"
    assert fold("Straße") == "strasse"
    assert fold("a\u034fb") == "a b"  # the grapheme joiner is not an accent


def test_fold_agrees_with_the_plain_rule_on_every_bmp_character() -> None:
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:
            continue
        text = f"Dé{chr(code)}x É"
        assert fold(text) == plain_fold(text), hex(code)


def test_luhn_agrees_with_the_plain_rule() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 16)))
        assert luhn_ok(digits) == plain_luhn(digits), digits
    assert luhn_ok("73282932000074") and not luhn_ok("73282932000075")
