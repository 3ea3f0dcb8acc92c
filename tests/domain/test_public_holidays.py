"""The calling window's public holidays, computed by outreach, equal the `holidays` package's
calendar of France, day by day, for every subdivision the window uses."""

from __future__ import annotations

from datetime import date

import holidays
import pytest

from outreach.domain.public_holidays import FIRST_YEAR, easter, public_holidays
from outreach.domain.windows import holiday_subdivision, is_holiday

SUBDIVISIONS = [None, "57", "6AE", "971", "972", "973", "974", "976"]


@pytest.mark.parametrize("subdivision", SUBDIVISIONS)
def test_equal_to_the_holidays_package(subdivision: str | None) -> None:
    years = range(FIRST_YEAR, 2061)
    theirs = holidays.France(subdiv=subdivision, years=years)
    for year in years:
        expected = {d for d in theirs if d.year == year}
        assert public_holidays(year, subdivision) == expected, (subdivision, year)


def test_easter_and_older_years() -> None:
    assert [easter(y) for y in (2020, 2021, 2024, 2038)] == [
        date(2020, 4, 12),
        date(2021, 4, 4),
        date(2024, 3, 31),
        date(2038, 4, 25),
    ]
    assert public_holidays(1985, "974") == frozenset(holidays.France(subdiv="974", years=1985))


def test_departements_get_their_own() -> None:
    assert holiday_subdivision("67") == "6AE" and holiday_subdivision("75") is None
    assert is_holiday("57", date(2021, 4, 2)) and not is_holiday("75", date(2021, 4, 2))
    assert is_holiday("974", date(2020, 12, 21)) is False
    assert is_holiday("974", date(2020, 12, 20)) and not is_holiday("971", date(2020, 12, 20))
    assert not is_holiday("75", date(2006, 6, 5))  # Whit Monday, 2005-2007: a working day
