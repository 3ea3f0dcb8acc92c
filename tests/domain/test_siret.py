"""SIREN and SIRET as users type them: separators, Luhn key, the La Poste rule, reasons."""

from __future__ import annotations

import pytest

from outreach.domain.invalid import InvalidValue
from outreach.domain.siret import (
    InvalidIdentifier,
    format_siret,
    is_valid_siret,
    luhn_complete,
    luhn_ok,
    parse_siren,
    parse_siret,
    split_siret,
)

# A real SIRET (INSEE's own example).
GOOD = "73282932000074"


@pytest.mark.parametrize(
    "typed",
    [
        "73282932000074",
        "732 829 320 00074",
        "732.829.320.00074",
        "732-829-320-00074",
        "732\u00a0829\u00a0320\u00a000074",
        "732\u202f829\u202f320\u202f00074",
        "  732 829 320 00074\n",
        "732 829-320.00074",
    ],
)
def test_siret_typed_forms(typed: str) -> None:
    assert parse_siret(typed) == GOOD
    assert is_valid_siret(typed)


def test_luhn() -> None:
    assert luhn_ok("732829320")
    assert luhn_ok(GOOD)
    assert not luhn_ok("73282932000075")
    assert not luhn_ok("732829321")
    assert luhn_ok("0")
    assert luhn_complete("73282932") == "732829320"
    assert luhn_complete("7328293200007") == GOOD
    for partial in ("1", "12345678", "9999999999999"):
        completed = luhn_complete(partial)
        assert completed.startswith(partial) and len(completed) == len(partial) + 1
        assert luhn_ok(completed)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "vide"),
        (" . - ", "vide"),
        ("7328293200007", "13 chiffres au lieu de 14"),
        ("732 829 320 000745", "15 chiffres au lieu de 14"),
        ("732829320OOO74", "caractère non autorisé 'O' (chiffres seulement)"),
        ("732/829/320/00074", "caractère non autorisé '/' (chiffres seulement)"),
        ("７３２８２９３２０００７４", "caractère non autorisé '７' (chiffres seulement)"),
        ("73282932000075", "clé de contrôle (Luhn) invalide"),
        # A NIC that completes the Luhn key over 14 digits does not rescue a bad SIREN.
        (
            luhn_complete("7328293210007"),
            "SIREN (9 premiers chiffres) : clé de contrôle (Luhn) invalide",
        ),
    ],
)
def test_siret_reasons(typed: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_siret(typed)
    assert caught.value.reason == reason
    assert caught.value.field == "SIRET"
    assert caught.value.value == typed
    assert isinstance(caught.value, InvalidValue) and isinstance(caught.value, ValueError)
    assert reason in str(caught.value)
    assert not is_valid_siret(typed)


def test_la_poste_rule() -> None:
    # La Poste establishments: the digit sum is a multiple of 5, whatever Luhn says.
    assert not luhn_ok("35600000000001")
    assert parse_siret("356 000 000 00001") == "35600000000001"  # 3+5+6+1 = 15
    assert parse_siret("35600000049837") == "35600000049837"  # 3+5+6+4+9+8+3+7 = 45
    # Luhn-valid but digit sum 19: refused with the La Poste reason.
    assert luhn_ok("35600000000014")
    with pytest.raises(InvalidIdentifier) as caught:
        parse_siret("356 000 000 00014")
    assert caught.value.reason == (
        "clé de contrôle invalide (La Poste : somme des chiffres non multiple de 5)"
    )
    # Its head office keeps the ordinary Luhn key (digit sum 26).
    assert parse_siret("356 000 000 00048") == "35600000000048"


def test_siren() -> None:
    assert parse_siren("732 829 320") == "732829320"
    assert parse_siren("356000000") == "356000000"
    with pytest.raises(InvalidIdentifier) as caught:
        parse_siren("732 829 321")
    assert (caught.value.field, caught.value.reason) == ("SIREN", "clé de contrôle (Luhn) invalide")
    with pytest.raises(InvalidIdentifier) as caught:
        parse_siren(GOOD)
    assert caught.value.reason == "14 chiffres au lieu de 9"


def test_display_and_parts() -> None:
    assert format_siret(GOOD) == "732 829 320 00074"
    assert format_siret("123") == "123"
    parts = split_siret(GOOD)
    assert (parts.siren, parts.nic) == ("732829320", "00074")
