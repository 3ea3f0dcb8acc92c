"""Paris time for exports: `iso` (the reference), `iso_text` (SQLite's stored text, an hour at a
time) and `iso_sql` (PostgreSQL, for COPY) give the same text for the same stored UTC time."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime, Integer, column, select, values
from sqlalchemy.dialects import sqlite

from outreach.db.engine import Database
from outreach.services.paris_time import SET_ZONE, iso, iso_sql, iso_text

_SQLITE = sqlite.dialect()
_STORE = DateTime().dialect_impl(_SQLITE).bind_processor(_SQLITE)


def _stored(moment: datetime) -> str:
    """The text SQLite holds for `moment` (SQLAlchemy's DateTime, as the models write it)."""
    assert _STORE is not None
    return str(_STORE(moment))


def test_iso_times_follow_paris_summer_time() -> None:
    assert iso(datetime(2021, 3, 28, 0, 59, 30)) == "2021-03-28T01:59:30+01:00"
    assert iso(datetime(2021, 3, 28, 1, 0)) == "2021-03-28T03:00:00+02:00"
    assert iso(datetime(2020, 10, 25, 0, 30)) == "2020-10-25T02:30:00+02:00"
    assert iso(datetime(2020, 10, 25, 1, 30, 0, 5)) == "2020-10-25T02:30:00.000005+01:00"
    assert iso(None) is None


def test_iso_text_is_iso_of_the_stored_text() -> None:
    """The same strings as `iso` on each side of both summer-time changes, with and without
    microseconds, and for a time before 1911, when Paris was not a whole number of hours off
    UTC."""
    moments = [
        datetime(2021, 3, 28, 0, 59, 59),
        datetime(2021, 3, 28, 1, 0),
        datetime(2021, 3, 28, 1, 0, 0, 1),
        datetime(2020, 10, 25, 0, 30),
        datetime(2020, 10, 25, 0, 59, 59, 999999),
        datetime(2020, 10, 25, 1, 0),
        datetime(2020, 10, 25, 1, 30, 0, 5),
        datetime(2020, 12, 31, 23, 59, 59),
        datetime(1900, 6, 1, 12, 0, 30),
    ]
    for moment in moments:
        for stored in (f"{moment:%Y-%m-%d %H:%M:%S.%f}", f"{moment:%Y-%m-%d %H:%M:%S}"):
            expected = iso(moment if stored[19:] else moment.replace(microsecond=0))
            assert iso_text(stored) == expected, stored
    assert iso_text("2020-10-25 01:30:00.000005") == "2020-10-25T02:30:00.000005+01:00"
    assert iso_text("1900-06-01 12:00:30.000000") == "1900-06-01T12:09:51+00:09:21"
    assert iso_text(None) is None


# France's summer time as it is now began in 1976; the years before it are left out of the
# comparison with PostgreSQL, whose copy of the time zone database may date differently
MOMENTS = st.datetimes(min_value=datetime(1976, 1, 1), max_value=datetime(2037, 12, 31))
# hours around the changes of 2020 and 2021 drawn often
NEAR_CHANGES = st.sampled_from(
    [datetime(2020, 3, 29, 0), datetime(2020, 10, 25, 0), datetime(2021, 3, 28, 0)]
).flatmap(lambda at: st.datetimes(min_value=at, max_value=at.replace(hour=2)))


@given(st.one_of(MOMENTS, NEAR_CHANGES))
def test_iso_text_equals_iso(moment: datetime) -> None:
    assert iso_text(_stored(moment)) == iso(moment)


@pytest.mark.postgresql
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(MOMENTS, NEAR_CHANGES), min_size=1, max_size=30))
def test_iso_sql_equals_iso(pg_db: Database, moments: list[datetime]) -> None:
    given_times = values(column("n", Integer), column("at", DateTime), name="given").data(
        list(enumerate(moments))
    )
    stmt = select(iso_sql(given_times.c.at)).order_by(given_times.c.n)
    with pg_db.reading() as session:
        session.connection().exec_driver_sql(SET_ZONE)
        assert list(session.scalars(stmt)) == [iso(m) for m in moments]
