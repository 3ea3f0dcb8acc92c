"""Calling windows in the business's own time zone, with French public holidays."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outreach.db.engine import Database
from outreach.domain.windows import (
    InvalidWindow,
    is_open,
    next_opening,
    open_departments,
    parse_window,
)
from outreach.services.queue import claim_next, why_empty
from tests.factories import make_agent, make_business, make_campaign, make_task

DEFAULT = parse_window("12345", "10:00-13:00,14:00-20:00")
# Wednesday 25 November 2026 (winter: Paris UTC+1, Réunion UTC+4, Guadeloupe UTC-4)
REUNION_MORNING = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)  # Paris 07:30, Réunion 10:30
GUADELOUPE_EVENING = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)  # Paris 23:00, Pointe-à-Pitre 18:00


def test_window_hours_and_days() -> None:
    assert is_open(DEFAULT, "75", datetime(2026, 11, 25, 9, 0, tzinfo=UTC))  # 10:00 Paris
    assert not is_open(DEFAULT, "75", datetime(2026, 11, 25, 12, 30, tzinfo=UTC))  # lunch
    assert not is_open(DEFAULT, "75", datetime(2026, 11, 25, 19, 0, tzinfo=UTC))  # 20:00
    assert not is_open(DEFAULT, "75", datetime(2026, 11, 28, 10, 0, tzinfo=UTC))  # Saturday


def test_overseas_time_zones() -> None:
    assert open_departments(DEFAULT, REUNION_MORNING) == {"974"}
    assert open_departments(DEFAULT, GUADELOUPE_EVENING) == {"971", "972", "973"}
    assert next_opening(DEFAULT, "75", REUNION_MORNING) == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert next_opening(DEFAULT, "971", REUNION_MORNING) == datetime(
        2026, 11, 25, 14, 0, tzinfo=UTC
    )


def test_holidays_regional_calendars() -> None:
    # 27 May: abolition of slavery in Guadeloupe only
    abolition = datetime(2026, 5, 27, 15, 0, tzinfo=UTC)  # 11:00 in Guadeloupe
    assert not is_open(DEFAULT, "971", abolition)
    assert is_open(DEFAULT, "972", abolition)
    # Good Friday 3 April 2026: a holiday in Alsace-Moselle only
    good_friday = datetime(2026, 4, 3, 9, 0, tzinfo=UTC)  # 11:00 Paris (summer time)
    assert not is_open(DEFAULT, "67", good_friday) and not is_open(DEFAULT, "57", good_friday)
    assert is_open(DEFAULT, "75", good_friday)
    # 11 November everywhere, unless the campaign calls on holidays
    armistice = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)
    assert not is_open(DEFAULT, "75", armistice)
    assert is_open(parse_window("12345", "10:00-13:00,14:00-20:00", False), "75", armistice)
    assert next_opening(DEFAULT, "75", armistice) == datetime(2026, 11, 12, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("days", "hours"),
    [("", "10:00-12:00"), ("8", "10:00-12:00"), ("1", "12:00-10:00"), ("1", "10h")],
)
def test_bad_windows(days: str, hours: str) -> None:
    with pytest.raises(InvalidWindow):
        parse_window(days, hours)


def _window_campaign(db: Database) -> int:
    return make_campaign(
        db, window_days="12345", window_hours="10:00-13:00,14:00-20:00", skip_holidays=True
    )


def test_claim_follows_business_time_zone(db: Database) -> None:
    camp = _window_campaign(db)
    head = make_agent(db, chamber="CMAF", role="supervisor")  # works every chamber
    paris = make_task(db, camp, make_business(db, department="75"), priority=9)
    reunion = make_task(db, camp, make_business(db, department="974"))
    guadeloupe = make_task(db, camp, make_business(db, department="971"))
    got = claim_next(db, head, camp, now=REUNION_MORNING)
    assert got is not None and got.task_id == reunion  # Paris has priority but is asleep
    assert got.business.timezone == "Indian/Reunion"
    other = make_agent(db, chamber="CMAF", role="supervisor")
    got = claim_next(db, other, camp, now=GUADELOUPE_EVENING)
    assert got is not None and got.task_id == guadeloupe
    third = make_agent(db, chamber="CMAF", role="supervisor")
    paris_open = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    got = claim_next(db, third, camp, now=paris_open)
    assert got is not None and got.task_id == paris


def test_overseas_agents_work_their_own_hours(db: Database) -> None:
    camp = _window_campaign(db)
    reu_agent = make_agent(db, chamber="REU")
    glp_agent = make_agent(db, chamber="GLP")
    make_task(db, camp, make_business(db, department="974"))
    make_task(db, camp, make_business(db, department="971"))
    assert claim_next(db, glp_agent, camp, now=REUNION_MORNING) is None
    empty = why_empty(db, glp_agent, camp, now=REUNION_MORNING)
    assert empty.reason == "outside_window"
    assert empty.next_at == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert "25/11/2026 10:00" in empty.message  # local time in Guadeloupe
    assert claim_next(db, reu_agent, camp, now=REUNION_MORNING) is not None
    assert claim_next(db, glp_agent, camp, now=GUADELOUPE_EVENING) is not None


def test_holiday_blocks_claim(db: Database) -> None:
    camp = _window_campaign(db)
    agent = make_agent(db, chamber="ALS")
    make_task(db, camp, make_business(db, department="67"))
    good_friday = datetime(2026, 4, 3, 9, 0, tzinfo=UTC)
    assert claim_next(db, agent, camp, now=good_friday) is None
    assert why_empty(db, agent, camp, now=good_friday).reason == "outside_window"
    assert claim_next(db, agent, camp, now=datetime(2026, 4, 2, 9, 0, tzinfo=UTC)) is not None
