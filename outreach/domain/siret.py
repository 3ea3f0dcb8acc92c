"""SIREN and SIRET: the French business identifiers, as users type them.

SIREN is 9 digits with a Luhn check; SIRET is the SIREN plus a 5-digit NIC with a Luhn check over
all 14 digits. La Poste (SIREN 356000000) is the exception: its SIRETs are valid when the digit sum
is a multiple of 5 (all but the head office, 356 000 000 00048, which passes Luhn as usual).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from outreach.domain.invalid import InvalidValue

LA_POSTE_SIREN = "356000000"
# La Poste's head office keeps the ordinary Luhn key (its digit sum, 26, is no multiple of 5).
LA_POSTE_HEAD_OFFICE = "35600000000048"
_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]+")


class InvalidIdentifier(InvalidValue):
    """A SIREN or SIRET that cannot be accepted; `reason` says why, in French."""


# a digit doubled, then its two digits summed (the Luhn step), as a digit again
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")


def luhn_ok(digits: str) -> bool:
    """True when the Luhn sum of the digit string is a multiple of 10."""
    if digits.isascii() and digits.isdigit():
        # the sum of ASCII digits is the sum of their bytes less 48 each: summed in C
        mixed = (digits[-1::-2] + digits[-2::-2].translate(_LUHN_DOUBLED)).encode()
        return (sum(mixed) - 48 * len(mixed)) % 10 == 0
    kept = sum(map(int, digits[-1::-2]))
    doubled = sum(map(int, digits[-2::-2].translate(_LUHN_DOUBLED)))
    return (kept + doubled) % 10 == 0


def luhn_complete(partial: str) -> str:
    """`partial` followed by the one digit that makes it pass the Luhn check."""
    for d in "0123456789":
        if luhn_ok(partial + d):
            return partial + d
    raise AssertionError("unreachable: one Luhn digit always fits")


def _clean(value: str, field: str, length: int) -> str:
    raw = value if isinstance(value, str) else str(value)
    compact = _SEPARATORS.sub("", raw.strip())
    if not compact:
        raise InvalidIdentifier(field, raw, "vide")
    if not compact.isascii() or not compact.isdigit():
        bad = next(ch for ch in compact if not ("0" <= ch <= "9"))
        raise InvalidIdentifier(field, raw, f"caractère non autorisé {bad!r} (chiffres seulement)")
    if len(compact) != length:
        raise InvalidIdentifier(field, raw, f"{len(compact)} chiffres au lieu de {length}")
    return compact


def parse_siren(value: str) -> str:
    """The 9-digit SIREN in `value` (spaces, dots, dashes allowed), or InvalidIdentifier."""
    siren = _clean(value, "SIREN", 9)
    if not luhn_ok(siren):
        raise InvalidIdentifier("SIREN", value, "clé de contrôle (Luhn) invalide")
    return siren


def parse_siret(value: str) -> str:
    """The 14-digit SIRET in `value` (spaces, dots, dashes allowed), or InvalidIdentifier."""
    if type(value) is str and len(value) == 14 and value.isascii() and value.isdigit():
        siret = value  # already clean: what _clean would return (the common case of an import)
    else:
        siret = _clean(value, "SIRET", 14)
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_HEAD_OFFICE:
        if sum(ord(c) - 48 for c in siret) % 5:
            raise InvalidIdentifier(
                "SIRET",
                value,
                "clé de contrôle invalide (La Poste : somme des chiffres non multiple de 5)",
            )
        return siret
    if not luhn_ok(siret[:9]):
        raise InvalidIdentifier(
            "SIRET", value, "SIREN (9 premiers chiffres) : clé de contrôle (Luhn) invalide"
        )
    if not luhn_ok(siret):
        raise InvalidIdentifier("SIRET", value, "clé de contrôle (Luhn) invalide")
    return siret


def is_valid_siret(value: str) -> bool:
    try:
        parse_siret(value)
    except InvalidIdentifier:
        return False
    return True


def format_siret(siret: str) -> str:
    """Display form: 732 829 320 00074."""
    return f"{siret[0:3]} {siret[3:6]} {siret[6:9]} {siret[9:14]}" if len(siret) == 14 else siret


@dataclass(frozen=True, slots=True)
class SiretParts:
    siren: str
    nic: str


def split_siret(siret: str) -> SiretParts:
    return SiretParts(siret[:9], siret[9:])
