"""Callbacks to raise on an adviser's screen: their own callbacks now due, and team callbacks
(including others' personal ones past their grace) now due, not held by anyone at the moment.

The list is `queue.my_callbacks`' (the same scope and rules as the callbacks screen), kept to the
due ones whose task nobody holds under a live lease.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from outreach.db.engine import Database
from outreach.db.models import CallTask
from outreach.services.clock import to_db, utcnow
from outreach.services.queue import my_callbacks
from outreach.services.types import CallbackItem


def due_callbacks(
    db: Database, agent_id: int, campaign_id: int | None = None, now: datetime | None = None
) -> list[CallbackItem]:
    """The due callbacks the adviser may take now, personal ones first, oldest first."""
    at = to_db(now) if now is not None else utcnow()
    due = [c for c in my_callbacks(db, agent_id, campaign_id, now=at) if c.due]
    if not due:
        return []
    with db.reading() as s:
        held = set(
            s.scalars(
                select(CallTask.id).where(
                    CallTask.id.in_([c.task_id for c in due]),
                    CallTask.claimed_by.is_not(None),
                    CallTask.lease_expires_at > at,
                )
            )
        )
    free = [c for c in due if c.task_id not in held]
    return sorted(free, key=lambda c: (not c.personal, c.callback_at, c.task_id))
