"""Phones as people type them: E.164 out, national format back, a reason when refused."""

from __future__ import annotations

import itertools
import random

import phonenumbers
import pytest

from outreach.domain.phones import (
    _REGIONS_OF_CODE,
    InvalidPhone,
    _valid_in,
    format_national,
    is_mobile,
    is_valid_phone,
    parse_phone,
    region_for_department,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("06-12-34-56-78", "+33612345678"),
        ("06/12/34/56/78", "+33612345678"),
        ("06\u00a012\u00a034\u00a056\u00a078", "+33612345678"),
        ("06\u202f12\u202f34\u202f56\u202f78", "+33612345678"),
        ("  01 23 45 67 89\t", "+33123456789"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33612345678", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("+33(0)612345678", "+33612345678"),
        ("+33 0 6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("00 33 (0)1 23 45 67 89", "+33123456789"),
        ("(01) 23 45 67 89", "+33123456789"),
        ("07 58 12 34 56", "+33758123456"),
        ("09 70 12 34 56", "+33970123456"),
        ("0 800 12 34 56", "+33800123456"),
        # What spreadsheets leave: the leading 0 or the "+" dropped.
        ("612345678", "+33612345678"),
        ("33612345678", "+33612345678"),
        ("262692123456", "+262692123456"),
    ],
)
def test_metropolitan_forms(typed: str, expected: str) -> None:
    assert parse_phone(typed) == expected
    assert parse_phone(typed, "75") == expected


@pytest.mark.parametrize(
    ("typed", "department", "expected", "national"),
    [
        # La Réunion: fixed 0262, mobiles 0692/0693.
        ("0692 12 34 56", "974", "+262692123456", "0692 12 34 56"),
        ("0692.12.34.56", "974", "+262692123456", "0692 12 34 56"),
        ("0693 40 12 34", "974", "+262693401234", "0693 40 12 34"),
        ("0262 20 12 34", "974", "+262262201234", "0262 20 12 34"),
        ("+262 692 12 34 56", "974", "+262692123456", "0692 12 34 56"),
        ("00262 692 12 34 56", None, "+262692123456", "0692 12 34 56"),
        ("+262 (0)692 12 34 56", None, "+262692123456", "0692 12 34 56"),
        # Mayotte: fixed 0269, mobile 0639, country code shared with La Réunion.
        ("0269 61 12 34", "976", "+262269611234", "0269 61 12 34"),
        ("0639 01 12 34", "976", "+262639011234", "0639 01 12 34"),
        # Guadeloupe: fixed 0590, mobiles 0690/0691.
        ("0590 82 12 34", "971", "+590590821234", "0590 82 12 34"),
        ("0690 12 34 56", "971", "+590690123456", "0690 12 34 56"),
        ("0691 22 12 34", "971", "+590691221234", "0691 22 12 34"),
        # Saint-Barthélemy shares +590 and the 0590 prefix.
        ("0590 27 12 34", "971", "+590590271234", "0590 27 12 34"),
        # Guyane: fixed 0594, mobile 0694.
        ("0594 30 12 34", "973", "+594594301234", "0594 30 12 34"),
        ("0694 20 12 34", "973", "+594694201234", "0694 20 12 34"),
        # Martinique: fixed 0596, mobiles 0696/0697.
        ("0596 70 12 34", "972", "+596596701234", "0596 70 12 34"),
        ("0696 20 12 34", "972", "+596696201234", "0696 20 12 34"),
        ("0697 20 12 34", "972", "+596697201234", "0697 20 12 34"),
    ],
)
def test_overseas_numbers_get_their_own_country_code(
    typed: str, department: str | None, expected: str, national: str
) -> None:
    e164 = parse_phone(typed, department)
    assert e164 == expected
    assert format_national(e164) == national
    assert phonenumbers.is_valid_number(phonenumbers.parse(e164))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0692 12 34 56", "+262692123456"),
        ("0590 82 12 34", "+590590821234"),
        ("0694 20 12 34", "+594694201234"),
        ("0696 20 12 34", "+596696201234"),
    ],
)
def test_overseas_numbers_fail_as_french(typed: str, expected: str) -> None:
    assert not phonenumbers.is_valid_number(phonenumbers.parse(typed, "FR"))
    assert parse_phone(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("0269 61 12 34", "+262269611234"), ("0596 70 12 34", "+596596701234")],
)
def test_prefix_table_wins_where_phonenumbers_fr_also_accepts(typed: str, expected: str) -> None:
    # phonenumbers' FR metadata takes 26[013-9] and 59[1-35-9] as metropolitan fixed lines; the
    # numbering plan gives 0269 to Mayotte and 0596 to Martinique: the prefix table follows it.
    assert phonenumbers.is_valid_number(phonenumbers.parse(typed, "FR"))
    assert parse_phone(typed) == expected
    assert parse_phone(typed, "75") == expected
    assert parse_phone("+33" + typed[1:]) == expected


@pytest.mark.parametrize(
    ("typed", "department", "expected"),
    [
        # The prefix wins over the département, both ways.
        ("0692 12 34 56", "75", "+262692123456"),
        ("0692 12 34 56", None, "+262692123456"),
        ("0590 82 12 34", "974", "+590590821234"),
        ("01 23 45 67 89", "974", "+33123456789"),
        ("06 12 34 56 78", "971", "+33612345678"),
        # "+33" before an overseas prefix can only mean the overseas number.
        ("+33 6 92 12 34 56", None, "+262692123456"),
        ("+33 (0)5 90 82 12 34", "971", "+590590821234"),
        # No prefix rule: the overseas département decides, else metropolitan France.
        ("09 76 22 12 34", "974", "+262976221234"),
        ("09 76 22 12 34", "75", "+33976221234"),
        ("09 76 22 12 34", None, "+33976221234"),
        # New overseas mobiles 0709x: only one territory accepts each, found without a hint.
        ("07 09 31 12 34", None, "+594709311234"),
        ("07 09 11 12 34", "75", "+596709111234"),
        # Codes and spacing of the département are forgiven.
        ("0692 12 34 56", " 974 ", "+262692123456"),
    ],
)
def test_prefix_and_department_rules(typed: str, department: str | None, expected: str) -> None:
    assert parse_phone(typed, department) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "vide"),
        ("  . - ", "vide"),
        ("+", "aucun chiffre"),
        ("06 12 34 56", "10 chiffres attendus (8 reçus)"),
        ("06 12 34 56 78 9", "10 chiffres attendus (11 reçus)"),
        ("1234", "10 chiffres attendus (4 reçus)"),
        ("61 23 45 67 89", "un numéro national commence par 0 (ou +33)"),
        ("06 12 34 56 7x", "caractère non autorisé 'x'"),
        ("06 12 34 56 78 poste 12", "caractère non autorisé 'p'"),
        ("06+12345678", "caractère non autorisé '+'"),
        ("06,12,34,56,78", "caractère non autorisé ','"),
        ("٠٦١٢٣٤٥٦٧٨", "caractère non autorisé '٠'"),
        ("+999 1234 5678", "indicatif inconnu"),
        ("+33 1 23", "9 chiffres attendus après +33 (3 reçus)"),
        ("+262 692 12 34", "9 chiffres attendus après +262 (7 reçus)"),
        ("07 00 00 00 00", "numéro non attribué"),
        ("00 12 34 56 78", "numéro non attribué"),
        ("0692 99 99 99 9", "10 chiffres attendus (11 reçus)"),
        ("0639 88 12 34", "numéro non attribué"),
        ("0694 50 12 34", "numéro non attribué"),
        ("+262 590 82 12 34", "numéro non attribué"),
        ("+33 7 00 12 34 56", "numéro non attribué"),
        ("00 999 12 34 56 78", "indicatif inconnu"),
    ],
)
def test_bad_input_says_why(typed: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        parse_phone(typed, field="phone_alt")
    assert caught.value.reason == reason
    assert caught.value.value == typed
    assert caught.value.field == "phone_alt"
    assert isinstance(caught.value, ValueError)
    assert reason in str(caught.value) and "phone_alt" in str(caught.value)
    assert not is_valid_phone(typed)


def test_default_field_is_phone() -> None:
    with pytest.raises(InvalidPhone) as caught:
        parse_phone("abc")
    assert caught.value.field == "phone"


def test_foreign_numbers_valid_for_phonenumbers_are_kept() -> None:
    assert parse_phone("+32 2 555 12 34") == "+3225551234"
    assert parse_phone("0041 22 345 67 89") == "+41223456789"
    assert format_national("+3225551234") == "02 555 12 34"


@pytest.mark.parametrize(
    ("department", "region"),
    [
        ("971", "GP"),
        ("972", "MQ"),
        ("973", "GF"),
        ("974", "RE"),
        ("976", "YT"),
        ("75", "FR"),
        ("2A", "FR"),
        ("2b", "FR"),
        (None, "FR"),
    ],
)
def test_region_for_department(department: str | None, region: str) -> None:
    assert region_for_department(department) == region


def test_is_mobile() -> None:
    assert is_mobile("+33612345678")
    assert is_mobile("+262692123456")
    assert is_mobile("+590690123456")
    assert not is_mobile("+33123456789")
    assert not is_mobile("+262262201234")
    assert not is_mobile("not a number")


def _sample_nsns(rng: random.Random) -> list[str]:
    """Every 4-digit start of a 9-digit national number, each with random endings."""
    return [
        f"{start:04d}{rng.randrange(100_000):05d}"
        for start in range(10_000)
        for _ in range(3)
        if start >= 1000
    ]


def test_fast_validity_is_phonenumbers_validity() -> None:
    """`_valid_in` must say exactly what phonenumbers says, for every region used."""
    rng = random.Random(20201030)
    nsns = _sample_nsns(rng)
    for code, regions in _REGIONS_OF_CODE.items():
        for region in regions:
            for nsn in nsns:
                number = phonenumbers.PhoneNumber(country_code=code, national_number=int(nsn))
                expected = phonenumbers.is_valid_number_for_region(number, region)
                assert _valid_in(region, nsn) == expected, (region, nsn)


def test_parsed_numbers_are_valid_and_display_as_phonenumbers_does() -> None:
    rng = random.Random(7)
    checked = 0
    for nsn, department in itertools.product(
        _sample_nsns(rng)[::7], (None, "75", "971", "972", "973", "974", "976")
    ):
        try:
            e164 = parse_phone("0" + nsn, department)
        except InvalidPhone:
            continue
        number = phonenumbers.parse(e164)
        assert phonenumbers.is_valid_number(number), (nsn, department, e164)
        assert e164 == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        assert format_national(e164) == phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.NATIONAL
        )
        assert parse_phone(e164, department) == e164
        checked += 1
    assert checked > 1000
