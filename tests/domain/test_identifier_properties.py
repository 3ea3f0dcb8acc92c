"""Properties of the identifier parsers over generated input (hypothesis).

Whatever is typed, the only error that escapes is the parser's own (InvalidIdentifier,
InvalidPhone); what is accepted parses again to itself. In CI the examples are derandomized so a
run is reproducible; OUTREACH_HYPOTHESIS_EXAMPLES=5000 searches harder (default 300).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import phonenumbers
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from outreach.domain.phones import (
    OVERSEAS_PREFIXES,
    InvalidPhone,
    format_national,
    parse_phone,
)
from outreach.domain.siret import (
    LA_POSTE_SIREN,
    InvalidIdentifier,
    format_siret,
    luhn_complete,
    parse_siren,
    parse_siret,
)

SETTINGS = settings(
    max_examples=int(os.environ.get("OUTREACH_HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)

SEPARATORS = st.sampled_from(["", " ", ".", "-", "\u00a0", "\u202f", "  ", " - "])
DEPARTMENTS = st.one_of(
    st.none(),
    st.sampled_from(["75", "13", "2A", "2B", "971", "972", "973", "974", "976", "975", ""]),
    st.text(max_size=4),
)


def interleave(draw: Callable[[st.SearchStrategy[str]], str], digits: str) -> str:
    """`digits` with separators drawn between some of them."""
    return "".join(ch + draw(SEPARATORS) for ch in digits).strip()


@st.composite
def sirets(draw: st.DrawFn) -> str:
    """A valid SIRET: Luhn SIREN + NIC completing the 14-digit Luhn key, or a La Poste one."""
    if draw(st.integers(0, 9)) == 0:
        head = LA_POSTE_SIREN + draw(st.text("0123456789", min_size=4, max_size=4))
        last = (-sum(int(c) for c in head)) % 5 + 5 * draw(st.integers(0, 1))
        return head + str(last)
    siren = luhn_complete(draw(st.text("0123456789", min_size=8, max_size=8)))
    assume(siren != LA_POSTE_SIREN)
    return luhn_complete(siren + draw(st.text("0123456789", min_size=4, max_size=4)))


@st.composite
def typed_phones(draw: st.DrawFn) -> str:
    """Plausible typing: French-plan digits behind one of the prefixes people use."""
    first = draw(
        st.one_of(
            st.sampled_from(sorted(OVERSEAS_PREFIXES)),
            st.text("0123456789", min_size=4, max_size=4).map(lambda s: "0" + s[1:]),
        )
    )
    digits = first + draw(st.text("0123456789", min_size=6, max_size=6))
    lead = draw(st.sampled_from(["", "+33", "0033", "+33 (0)", "+33(0)", "+262", "+590"]))
    body = digits[1:] if lead else digits  # after a country code the trunk 0 goes
    return lead + draw(SEPARATORS) + interleave(draw, body)


@SETTINGS
@given(st.text())
@example("")
@example("356000000000")
@example("\x00")
def test_siret_and_siren_raise_only_their_own_error(text: str) -> None:
    for parse in (parse_siret, parse_siren):
        try:
            parsed = parse(text)
        except InvalidIdentifier as exc:
            assert exc.reason and exc.value == text
        else:
            assert parsed.isascii() and parsed.isdigit()
            assert parse(parsed) == parsed


@SETTINGS
@given(sirets(), st.data())
def test_every_valid_siret_passes_however_typed(siret: str, data: st.DataObject) -> None:
    assert parse_siret(siret) == siret
    assert parse_siret(format_siret(siret)) == siret
    assert parse_siret(interleave(data.draw, siret)) == siret
    if not siret.startswith(LA_POSTE_SIREN):
        assert parse_siren(siret[:9]) == siret[:9]


@SETTINGS
@given(sirets(), st.integers(0, 13), st.integers(1, 9))
def test_one_wrong_digit_is_caught(siret: str, position: int, shift: int) -> None:
    wrong = siret[:position] + str((int(siret[position]) + shift) % 10) + siret[position + 1 :]
    if wrong.startswith(LA_POSTE_SIREN) != siret.startswith(LA_POSTE_SIREN):
        return  # changed which rule applies: another number, not a typo of this one
    try:
        parse_siret(wrong)
    except InvalidIdentifier:
        return
    # The La Poste digit sum only catches shifts that are not multiples of 5.
    assert siret.startswith(LA_POSTE_SIREN) and shift == 5


@SETTINGS
@given(st.one_of(st.text(), typed_phones()), DEPARTMENTS)
@example("+", None)
@example("00", None)
@example("(0)", None)
@example("+33 (0)", "974")
@example("0" * 300, None)
@example("+" + "9" * 300, None)
def test_parse_phone_raises_only_invalid_phone(text: str, department: str | None) -> None:
    try:
        e164 = parse_phone(text, department)
    except InvalidPhone as exc:
        assert exc.reason and exc.value == text and exc.field == "phone"
        return
    assert e164.startswith("+") and e164[1:].isdigit()
    assert phonenumbers.is_valid_number(phonenumbers.parse(e164))
    assert parse_phone(e164, department) == e164


@SETTINGS
@given(typed_phones(), DEPARTMENTS)
def test_national_display_parses_back(text: str, department: str | None) -> None:
    try:
        e164 = parse_phone(text, department)
    except InvalidPhone:
        return
    if text.startswith(("+", "00")):
        return  # the national display drops a typed country code; only national typing returns
    assert parse_phone(format_national(e164), department) == e164
