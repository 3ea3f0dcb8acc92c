"""The lockdown calendar of 2020-21 as first written into `lockdowns` (lockdowns are data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Lockdown:
    name: str
    label: str
    starts_on: date
    ends_on: date
    shops_reopened_on: date | None = None


LOCKDOWNS: tuple[Lockdown, ...] = (
    Lockdown("confinement-1", "Confinement 1", date(2020, 3, 17), date(2020, 5, 11)),
    Lockdown(
        "confinement-2", "Confinement 2", date(2020, 10, 30), date(2020, 12, 15), date(2020, 11, 28)
    ),
    Lockdown("confinement-3", "Confinement 3", date(2021, 4, 3), date(2021, 5, 3)),
)
