"""The lease rule shared by call tasks and follow-up referrals (DESIGN invariant 1).

A row is held by `claimed_by` while `lease_expires_at` is in the future; a lease that has
expired frees the row for anyone, with no clean-up needed. The claim, the take, the record of a
call and the follow-up worklist all ask these functions rather than restating the rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_


def held_by_other(
    claimed_by: int | None, lease_expires_at: datetime | None, agent_id: int, now: datetime
) -> bool:
    """Someone other than `agent_id` holds the row under a live lease (times naive UTC)."""
    return (
        claimed_by is not None
        and claimed_by != agent_id
        and lease_expires_at is not None
        and lease_expires_at > now
    )


def lease_free(lease_expires_at: Any, now: Any) -> ColumnElement[bool]:
    """SQL: the row's lease has expired or was never taken (claimable by anyone)."""
    return or_(lease_expires_at.is_(None), lease_expires_at <= now)


def lease_until(now: datetime, minutes: int) -> datetime:
    return now + timedelta(minutes=minutes)
