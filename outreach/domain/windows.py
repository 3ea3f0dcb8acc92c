"""Calling windows: the days and hours a campaign may call, in the business's own time zone.

A window is ISO weekdays ("12345" = Monday to Friday) and "HH:MM-HH:MM" ranges
("10:00-13:00,14:00-20:00"), evaluated in the time zone of the business's département, skipping
French public holidays (with Alsace-Moselle's and each overseas département's own) when asked.
Pure: no I/O; `open_departments` is cached per minute because every claim asks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from outreach.domain.geography import DEPARTMENTS, timezone_of
from outreach.domain.public_holidays import public_holidays


class InvalidWindow(ValueError):
    """A window that cannot be read; the message says which part, in French."""


@dataclass(frozen=True, slots=True)
class Window:
    days: frozenset[int]  # ISO weekdays, 1 = Monday
    ranges: tuple[tuple[time, time], ...]  # [start, end) local times
    skip_holidays: bool = True


def _parse_time(text: str, spec: str) -> time:
    try:
        hh, mm = text.strip().split(":")
        if len(mm) != 2:
            raise ValueError
        hour, minute = int(hh), int(mm)
        if hour == 24 and minute == 0:
            return time.max
        return time(hour, minute)
    except ValueError:
        raise InvalidWindow(f"heure illisible {text.strip()!r} dans {spec!r} (HH:MM)") from None


@lru_cache(maxsize=256)
def parse_window(days: str, hours: str, skip_holidays: bool = True) -> Window:
    """The window of a campaign's `window_days` and `window_hours`, or InvalidWindow."""
    day_set: set[int] = set()
    for ch in days.strip():
        if ch not in "1234567":
            raise InvalidWindow(f"jour {ch!r} invalide dans {days!r} (1 = lundi ... 7 = dimanche)")
        day_set.add(int(ch))
    if not day_set:
        raise InvalidWindow("aucun jour d'appel")
    ranges: list[tuple[time, time]] = []
    for part in hours.split(","):
        if not part.strip():
            continue
        if "-" not in part:
            raise InvalidWindow(f"plage {part.strip()!r} invalide (HH:MM-HH:MM)")
        start_text, end_text = part.split("-", 1)
        start, end = _parse_time(start_text, hours), _parse_time(end_text, hours)
        if end <= start:
            raise InvalidWindow(f"plage {part.strip()!r} : la fin précède le début")
        ranges.append((start, end))
    if not ranges:
        raise InvalidWindow("aucune plage horaire")
    return Window(frozenset(day_set), tuple(sorted(ranges)), skip_holidays)


def holiday_subdivision(department: str) -> str | None:
    """The `holidays` subdivision whose calendar applies to the département, if any."""
    if department == "57":
        return "57"
    if department in ("67", "68"):
        return "6AE"
    if department in ("971", "972", "973", "974", "976"):
        return department
    return None


def is_holiday(department: str, day: date) -> bool:
    return day in public_holidays(day.year, holiday_subdivision(department))


def _open_local(window: Window, department: str, local: datetime) -> bool:
    if local.isoweekday() not in window.days:
        return False
    if window.skip_holidays and is_holiday(department, local.date()):
        return False
    t = local.time()
    return any(start <= t < end for start, end in window.ranges)


def _aware(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def is_open(window: Window, department: str, now: datetime) -> bool:
    """Whether a business of `department` may be called at `now` (aware, or naive UTC)."""
    local = _aware(now).astimezone(ZoneInfo(timezone_of(department)))
    return _open_local(window, department, local)


@lru_cache(maxsize=128)
def _open_at_minute(window: Window, minute: datetime) -> frozenset[str]:
    return frozenset(d.code for d in DEPARTMENTS if is_open(window, d.code, minute))


def open_departments(window: Window, now: datetime) -> frozenset[str]:
    """The départements (of all 101) whose businesses may be called at `now`; cached per minute."""
    minute = _aware(now).astimezone(UTC).replace(second=0, microsecond=0)
    return _open_at_minute(window, minute)


def next_opening(window: Window, department: str, now: datetime) -> datetime | None:
    """When the window next opens (aware UTC) for `department`: `now` if open; None if never
    within 400 days (e.g. only holidays)."""
    zone = ZoneInfo(timezone_of(department))
    local = _aware(now).astimezone(zone)
    if _open_local(window, department, local):
        return _aware(now).astimezone(UTC)
    day = local.date()
    for _offset in range(400):
        for start, _end in window.ranges:
            candidate = datetime.combine(day, start, tzinfo=zone)
            # a start inside a DST gap moves forward; check it round-trips as open
            if candidate > local and _open_local(window, department, candidate):
                return candidate.astimezone(UTC)
        day += timedelta(days=1)
    return None
