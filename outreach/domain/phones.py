"""Phone numbers as people type them, stored in E.164 and shown in the national format.

Accepted forms: dots, spaces (NBSP too), dashes, slashes, parentheses, "+33", "0033", "+33 (0)",
and the forms spreadsheets leave behind (leading 0 or "+" dropped: "612345678", "33612345678").

Overseas numbers belong to the French numbering plan but live under their own country codes:
0262/0692/0693 La Réunion (+262), 0269/0639 Mayotte (+262), 0590/0690/0691 Guadeloupe (+590),
0594/0694 Guyane (+594), 0596/0696/0697 Martinique (+596). Choices made:

- The prefix wins over the département: those prefixes only ever denote that territory, so a
  0692... number given for a business in Paris is stored as +262 (a head office elsewhere is
  common), and a 01... number given for a business in La Réunion is stored as +33.
- "+33 692 ..." is unreachable as dialled; it can only mean the Réunion number, so it is stored
  under +262. An explicit overseas code is kept as typed ("+262 590..." is refused, not moved).
- Prefixes outside that table (09 VoIP, 080x, the 0709x mobiles) are tried in the business's
  overseas region first, then in metropolitan France, then in the other overseas regions; when
  several overseas regions would accept the number and nothing says which, it is refused as
  ambiguous rather than guessed.
- +590 is shared by Guadeloupe, Saint-Barthélemy and Saint-Martin (0590 27... is Saint-Barth):
  a number valid in any of them is accepted; E.164 does not depend on which.
- Other country codes are accepted when phonenumbers finds the number valid (border businesses).

Validity is phonenumbers' own: `_valid_in` applies the patterns of its metadata exactly as its
`is_valid_number_for_region` does (tests check they agree), without building a PhoneNumber object,
which makes the common case about ten times faster (an import parses millions of numbers).
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING

from outreach.domain.invalid import InvalidValue

if TYPE_CHECKING:
    import phonenumbers

# Regions of the départements (971-976); every other département dials as FR.
DEPARTMENT_REGIONS: dict[str, str] = {
    "971": "GP",
    "972": "MQ",
    "973": "GF",
    "974": "RE",
    "976": "YT",
}
OVERSEAS_REGIONS: tuple[str, ...] = ("RE", "YT", "GP", "MQ", "GF")
# National prefixes that name one overseas territory whatever the département says.
OVERSEAS_PREFIXES: dict[str, str] = {
    "0262": "RE",
    "0692": "RE",
    "0693": "RE",
    "0269": "YT",
    "0639": "YT",
    "0590": "GP",
    "0690": "GP",
    "0691": "GP",
    "0594": "GF",
    "0694": "GF",
    "0596": "MQ",
    "0696": "MQ",
    "0697": "MQ",
}
COUNTRY_CODES: dict[str, int] = {"FR": 33, "RE": 262, "YT": 262, "GP": 590, "MQ": 596, "GF": 594}
# Country codes of the French plan (9 national digits) and the regions that share each.
# +590 also serves Saint-Barthélemy (BL) and Saint-Martin (MF), whose numbers start 0590/0690.
_REGIONS_OF_CODE: dict[int, tuple[str, ...]] = {
    33: ("FR",),
    262: ("RE", "YT"),
    590: ("GP", "BL", "MF"),
    594: ("GF",),
    596: ("MQ",),
}

_SEPARATORS = re.compile(r"[\s.\-/_\u2010-\u2015]+")
_DIGITS = re.compile(r"[0-9]+")
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


class InvalidPhone(InvalidValue):
    """A phone number that cannot be accepted; `reason` says why, in French."""


def region_for_department(department: str | None) -> str:
    """The phonenumbers region a département dials in: GP, MQ, GF, RE, YT, else FR."""
    if department is None:
        return "FR"
    return DEPARTMENT_REGIONS.get(department.strip().upper(), "FR")


def _lib() -> ModuleType:
    """phonenumbers, imported on first use: its import and the validators' regexes cost about
    30 ms, which displaying stored numbers (the agents' app) never needs."""
    import phonenumbers

    return phonenumbers


class _Validator:
    """phonenumbers' validity test for one region, compiled once."""

    __slots__ = ("general", "by_length")

    def __init__(self, region: str) -> None:
        meta = _lib().PhoneMetadata.metadata_for_region(region)
        assert meta is not None, region
        general = meta.general_desc
        assert general is not None and general.national_number_pattern, region
        self.general = re.compile(str(general.national_number_pattern))
        self.by_length: dict[int, re.Pattern[str]] = {}
        for length in general.possible_length:
            patterns = []
            for kind in _TYPES:
                desc = getattr(meta, kind)
                if desc is None or not desc.national_number_pattern:
                    continue
                if desc.possible_length and length not in desc.possible_length:
                    continue
                patterns.append(f"(?:{desc.national_number_pattern})")
            if patterns:
                # the general pattern as a lookahead: both tested by one fullmatch
                self.by_length[length] = re.compile(
                    f"(?=(?:{self.general.pattern})\\Z)(?:{'|'.join(patterns)})"
                )

    def valid(self, nsn: str) -> bool:
        typed = self.by_length.get(len(nsn))
        return typed is not None and typed.fullmatch(nsn) is not None


_CODE_PREFIXES = tuple((str(code), code) for code in _REGIONS_OF_CODE)


class _Validators(dict[str, _Validator]):
    """Region -> its validator, compiled on first use."""

    def __missing__(self, region: str) -> _Validator:
        validator = self[region] = _Validator(region)
        return validator


_VALIDATORS = _Validators()


def _valid_in(region: str, nsn: str) -> bool:
    """True when `nsn` (national significant number) is a valid number of `region`."""
    return _VALIDATORS[region].valid(nsn)


def _valid_code(code: int, nsn: str) -> bool:
    """True when `nsn` is valid under country `code` (in any region sharing it)."""
    return any(_VALIDATORS[region].valid(nsn) for region in _REGIONS_OF_CODE[code])


def _compact(text: str, field: str) -> str:
    raw = text if isinstance(text, str) else str(text)
    compact = _SEPARATORS.sub("", raw)
    if "(" in compact or ")" in compact:
        # "+33 (0)6 ...": the bracketed 0 is the trunk prefix, not part of the number.
        compact = compact.replace("(0)", "").replace("(", "").replace(")", "")
    if not compact:
        raise InvalidPhone(field, raw, "vide")
    return compact


def _bad_character(compact: str) -> str:
    body = compact[1:] if compact.startswith("+") else compact
    return next(ch for ch in body if not ("0" <= ch <= "9"))


def parse_phone(text: str, department: str | None = None, field: str = "phone") -> str:
    """The E.164 form of the number typed in `text`, or InvalidPhone with the reason.

    `department` is the business's département code: it picks the overseas region for the
    numbers whose prefix does not (see the module notes).
    """
    if type(text) is str:
        # the common case, "01 23 45 67 89" for a metropolitan business, decided here: spaces,
        # dots and dashes are separators _compact removes too. Anything else (or a number FR
        # does not accept) takes the full path below, which returns the same for this case.
        digits = text.replace(" ", "").replace(".", "").replace("-", "")
        if (
            len(digits) == 10
            and digits[0] == "0"
            and digits[1] != "0"
            and digits.isascii()
            and digits.isdigit()
            and digits[:4] not in OVERSEAS_PREFIXES
            and region_for_department(department) == "FR"
            and _VALIDATORS["FR"].valid(digits[1:])
        ):
            return "+33" + digits[1:]
    compact = _compact(text, field)
    if compact[0] == "+":
        digits = compact[1:]
        international = True
    else:
        digits = compact
        international = False
    if not digits:
        raise InvalidPhone(field, text, "aucun chiffre")
    if _DIGITS.fullmatch(digits) is None:
        raise InvalidPhone(field, text, f"caractère non autorisé {_bad_character(compact)!r}")
    if not international:
        if digits.startswith("00"):
            digits = digits[2:]
            international = True
        elif len(digits) == 9 and digits[0] != "0":
            digits = "0" + digits  # leading zero dropped by a spreadsheet
        elif (len(digits) == 11 and digits.startswith("33")) or (
            len(digits) == 12 and digits[:3] in ("262", "590", "594", "596")
        ):
            international = True  # "+" dropped by a spreadsheet
    if international:
        return _parse_international(text, digits, department, field)
    if len(digits) != 10:
        raise InvalidPhone(field, text, f"10 chiffres attendus ({len(digits)} reçus)")
    if digits[0] != "0":
        raise InvalidPhone(field, text, "un numéro national commence par 0 (ou +33)")
    return _parse_national(text, digits, department, field)


def _parse_national(text: str, digits: str, department: str | None, field: str) -> str:
    nsn = digits[1:]
    region = OVERSEAS_PREFIXES.get(digits[:4])
    if region is not None:
        code = COUNTRY_CODES[region]
        if _valid_code(code, nsn):
            return f"+{code}{nsn}"
        raise InvalidPhone(field, text, "numéro non attribué")
    first = dict.fromkeys((COUNTRY_CODES[region_for_department(department)], 33))
    for code in first:
        if _valid_code(code, nsn):
            return f"+{code}{nsn}"
    others = [c for c in _REGIONS_OF_CODE if c not in first and _valid_code(c, nsn)]
    if len(others) == 1:
        return f"+{others[0]}{nsn}"
    if others:
        raise InvalidPhone(field, text, "numéro ambigu : précisez le département d'outre-mer")
    raise InvalidPhone(field, text, "numéro non attribué")


def _parse_international(text: str, digits: str, department: str | None, field: str) -> str:
    # The département does not matter here: the code is typed, and E.164 is code + digits.
    for prefix, code in _CODE_PREFIXES:
        if not digits.startswith(prefix):
            continue
        nsn = digits[len(prefix) :]
        if len(nsn) == 10 and nsn[0] == "0":
            nsn = nsn[1:]  # "+33 0 6..." / "+330612...": trunk 0 typed after the code
        if len(nsn) != 9:
            raise InvalidPhone(field, text, f"9 chiffres attendus après +{code} ({len(nsn)} reçus)")
        if code == 33 and "0" + nsn[:3] in OVERSEAS_PREFIXES:
            return _parse_national(text, "0" + nsn, department, field)
        if _valid_code(code, nsn):
            return f"+{code}{nsn}"
        raise InvalidPhone(field, text, "numéro non attribué")
    outcome = _parse_foreign(digits)
    if outcome.startswith("+"):
        return outcome
    raise InvalidPhone(field, text, outcome)


@lru_cache(maxsize=4096)
def _parse_foreign(digits: str) -> str:
    """E.164 of a number under a non-French country code, or the reason it is refused."""
    pn = _lib()
    try:
        number = pn.parse("+" + digits, None)
    except pn.NumberParseException as exc:
        if exc.error_type == pn.NumberParseException.INVALID_COUNTRY_CODE:
            return "indicatif inconnu"
        return "longueur incorrecte"
    if not pn.is_valid_number(number):
        return "numéro non attribué"
    return pn.format_number(number, pn.PhoneNumberFormat.E164)


def is_valid_phone(text: str, department: str | None = None) -> bool:
    try:
        parse_phone(text, department)
    except InvalidPhone:
        return False
    return True


def format_national(e164: str) -> str:
    """Display form of a stored number: "06 12 34 56 78", "0692 12 34 56" overseas.

    Same text as phonenumbers' NATIONAL format; the common French shapes are built directly.
    """
    if len(e164) == 12 and e164.startswith("+33") and e164[3] in "12345679":
        n = e164[3:]
        return f"0{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:9]}"
    if len(e164) == 13 and e164[1:4] in ("262", "590", "594", "596"):
        n = e164[4:]
        return f"0{n[0:3]} {n[3:5]} {n[5:7]} {n[7:9]}"
    return _format_slow(e164)


@lru_cache(maxsize=4096)
def _stored(e164: str) -> phonenumbers.PhoneNumber | None:
    pn = _lib()
    try:
        return pn.parse(e164, None)
    except pn.NumberParseException:
        return None


def _format_slow(e164: str) -> str:
    number = _stored(e164)
    if number is None:
        return e164
    pn = _lib()
    return pn.format_number(number, pn.PhoneNumberFormat.NATIONAL)


def is_mobile(e164: str) -> bool:
    """True for a mobile number (06/07, 0692..., 0690...); False for fixed lines and the rest."""
    number = _stored(e164)
    if number is None:
        return False
    pn = _lib()
    kind = pn.number_type(number)
    return kind in (pn.PhoneNumberType.MOBILE, pn.PhoneNumberType.FIXED_LINE_OR_MOBILE)
