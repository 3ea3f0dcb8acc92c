"""The call a benchmark records for the task it just claimed (one shape for every measure)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from outreach.services.types import CallInput, ClaimedTask, ReferralInput


def call_on(
    task: ClaimedTask,
    agent_id: int,
    outcome: str,
    *,
    referrals: tuple[ReferralInput, ...] = (),
    answers: Mapping[str, str] | None = None,
) -> CallInput:
    """A 30-second call ending now on `task`, with a callback tomorrow when asked for."""
    now = datetime.now(UTC)
    return CallInput(
        uuid=str(uuid.uuid4()),
        agent_id=agent_id,
        campaign_id=task.campaign_id,
        business_id=task.business.id,
        task_id=task.task_id,
        outcome=outcome,
        started_at=now - timedelta(seconds=30),
        ended_at=now,
        callback_at=now + timedelta(days=1) if outcome == "callback" else None,
        referrals=referrals,
        answers=dict(answers or {}),
    )
