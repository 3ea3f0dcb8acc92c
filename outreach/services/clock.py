"""UTC everywhere: the database holds naive UTC datetimes, the services hand out aware ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def utcnow() -> datetime:
    """Now, as stored in the database (naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_db(moment: datetime) -> datetime:
    """An aware datetime (any zone) or a naive UTC one, as the database stores it."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


@overload
def from_db(moment: datetime) -> datetime: ...
@overload
def from_db(moment: None) -> None: ...
@overload
def from_db(moment: datetime | None) -> datetime | None: ...
def from_db(moment: datetime | None) -> datetime | None:
    """A stored naive UTC datetime as an aware UTC one."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
