"""The CSV-formula neutralising rule, written once: `neutralise` in Python, and `neutralised_sql`,
the same rule built from the same constants for the database (PostgreSQL's COPY writes the calls
export without Python touching a cell; SQLite runs it too, so both backends are tested equal to
the Python form in tests/services/test_neutralise.py).

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
apostrophe, so a spreadsheet shows it instead of running it (business names and notes come from
outside). One exception, by choice: a sign followed only by ASCII digits ("+33612345678", "-12")
is a number, not a formula; nothing can be hidden in it, and an E.164 phone must stay E.164.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal_column, not_, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TRIGGER_SET = frozenset(TRIGGERS)
SIGNS = ("+", "-")  # a trigger unless only ASCII digits follow
DIGITS = "0123456789"
_SIGNED_NUMBER = re.compile(f"[{re.escape(''.join(SIGNS))}][{DIGITS}]+")


def neutralise(text: str) -> str:
    """`text`, made inert for a spreadsheet (see the module docstring)."""
    if text and text[0] in TRIGGER_SET and not _SIGNED_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _FirstCode(FunctionElement[int]):
    """The code point of a text's first character: ascii() on PostgreSQL (0 for ''), unicode()
    on SQLite (NULL for ''); either way '' is no trigger."""

    type = Integer()
    name = "first_code"
    inherit_cache = True


@compiles(_FirstCode)
def _first_code(element: _FirstCode, compiler: SQLCompiler, **kw: Any) -> str:
    return f"ascii({compiler.process(element.clauses, **kw)})"


@compiles(_FirstCode, "sqlite")
def _first_code_sqlite(element: _FirstCode, compiler: SQLCompiler, **kw: Any) -> str:
    return f"unicode({compiler.process(element.clauses, **kw)})"


def neutralised_sql(text: ColumnElement[Any]) -> ColumnElement[Any]:
    """`neutralise(text)` in SQL (PostgreSQL and SQLite); NULL stays NULL. Cheap in the common
    case, one look at the first character's code (why: the calls export neutralises ~12 cells a
    row in COPY). `text` appears several times: give it a column, not a subquery."""
    first = _FirstCode(text)
    # a sign then ASCII digits only, like _SIGNED_NUMBER
    signed = and_(
        func.length(text) > literal_column("1"),
        func.ltrim(func.substr(text, 2), literal_column(f"'{DIGITS}'")) == literal_column("''"),
    )
    neutral = or_(
        first.in_([literal_column(str(ord(c))) for c in TRIGGERS if c not in SIGNS]),
        and_(first.in_([literal_column(str(ord(c))) for c in SIGNS]), not_(signed)),
    )
    return case((neutral, literal_column("''''").concat(text)), else_=text)
