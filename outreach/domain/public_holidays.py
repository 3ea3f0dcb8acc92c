"""French public holidays, as the calling window skips them: the national ones, Alsace-Moselle's
(Good Friday, 26 December) and each overseas département's (abolition of slavery, Victor
Schoelcher, Guadeloupe's Mi-Carême).

Computed here, from 1990 on, because importing the `holidays` package (its registry, every
calendar, dateutil) cost the agents' app more at start than the rest of the calling rules; older
years (never a call) are asked of that package. tests/domain/test_public_holidays.py checks the
two agree day by day over 1990-2060 for every subdivision used.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

FIRST_YEAR = 1990  # computed here from this year on
# subdivision (holidays' codes, see windows.holiday_subdivision) -> (month, day) of its own
# fixed-date holidays
_FIXED: dict[str | None, tuple[tuple[int, int], ...]] = {
    None: ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)),
    "57": ((12, 26),),
    "6AE": ((12, 26),),
    "971": ((5, 27), (7, 21)),
    "972": ((5, 22), (7, 21)),
    "973": ((6, 10),),
    "974": ((12, 20),),
    "976": ((4, 27),),
}
# subdivision -> its own holidays, in days from Easter Sunday
_FROM_EASTER: dict[str | None, tuple[int, ...]] = {
    None: (1, 39),  # Easter Monday, Ascension (Whit Monday: see below)
    "57": (-2,),  # Good Friday
    "6AE": (-2,),
    "971": (-2, -24),  # Good Friday, Mi-Carême
}


def easter(year: int) -> date:
    """Easter Sunday (Gregorian calendar; the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def public_holidays(year: int, subdivision: str | None = None) -> frozenset[date]:
    """The public holidays of `year` in France (and in `subdivision`: "57", "6AE", "971",
    "972", "973", "974", "976")."""
    if year < FIRST_YEAR:
        import holidays  # only for years long gone: the package, slow to import

        return frozenset(holidays.France(subdiv=subdivision, years=year))
    sunday = easter(year)
    days = {date(year, m, d) for m, d in _FIXED[None]}
    days.update(sunday + timedelta(days=n) for n in _FROM_EASTER[None])
    if year not in (2005, 2006, 2007):  # Whit Monday (the "journée de solidarité" years aside)
        days.add(sunday + timedelta(days=50))
    if subdivision is not None:
        days.update(date(year, m, d) for m, d in _FIXED[subdivision])
        days.update(sunday + timedelta(days=n) for n in _FROM_EASTER.get(subdivision, ()))
    return frozenset(days)
