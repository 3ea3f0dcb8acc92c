"""The CSV-formula neutralising rule: the Python form, and the SQL form built from the same
constants giving the same text on SQLite and PostgreSQL (the calls export neutralises in SQL
for PostgreSQL's COPY)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, literal, select, union_all

from outreach.db.engine import Database
from outreach.services.neutralise import DIGITS, TRIGGERS, neutralise, neutralised_sql


def test_neutralise_rule() -> None:
    assert neutralise('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert neutralise("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert neutralise("-2+3+cmd|' /C calc'!A0") == "'-2+3+cmd|' /C calc'!A0"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"
    assert neutralise("+33612345678") == "+33612345678"  # a signed number, not a formula
    assert neutralise("Boulangerie = pain") == "Boulangerie = pain"
    assert neutralise("+") == "'+" and neutralise("-") == "'-" and neutralise("") == ""
    assert neutralise("+١٢") == "'+١٢"  # digits of another script are no number here
    assert neutralise("+12\n") == "'+12\n"


# text PostgreSQL can hold (no NUL, no lone surrogate), often starting like a formula or a number
_ANY = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=8)
_START = st.sampled_from(["", *TRIGGERS, "'", "a", "é", "1", " ", "١"])
_TAIL = st.one_of(st.text(alphabet=DIGITS + "+-=. \n", max_size=6), _ANY)
TEXTS = st.builds(lambda a, b: a + b, _START, _TAIL)

FIXED = ["", "+", "-", "+1", "-0", "+1a", "=1", "@", "\t", "\r\n", "'=", "+١٢", "+12\n", "x=1"]


def _in_sql(db: Database, texts: list[str | None]) -> list[str | None]:
    """`neutralised_sql` of each text, given as a column (as the export does)."""
    given_texts = union_all(
        *(select(literal(n).label("n"), literal(t, String).label("t")) for n, t in enumerate(texts))
    ).subquery("given")
    stmt = select(neutralised_sql(given_texts.c.t)).order_by(given_texts.c.n)
    with db.reading() as session:
        return list(session.scalars(stmt))


def test_sql_form_fixed_cases(db: Database) -> None:
    assert _in_sql(db, [*FIXED, None]) == [*(neutralise(t) for t in FIXED), None]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(TEXTS, min_size=1, max_size=30))
def test_sql_form_equals_python_form(db: Database, texts: list[str]) -> None:
    assert _in_sql(db, list(texts)) == [neutralise(t) for t in texts]
