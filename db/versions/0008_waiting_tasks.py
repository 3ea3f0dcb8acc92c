"""call_tasks.state "waiting": queued tasks due later (retry delay, 30-day cap, handed back)

The claim walks the queued range of ix_call_tasks_claim in claim order; tasks waiting for a
later attempt used to sit in it and every claim stepped over them. They now have a state of
their own, made "queued" again by the claim when due (through ix_call_tasks_due). This revision
widens the state CHECK and moves the queued tasks due later to "waiting"; downgrade moves them
back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "state IN ('queued', 'callback', 'follow_up', 'done', 'exhausted', 'cancelled')"
_NEW = "state IN ('queued', 'waiting', 'callback', 'follow_up', 'done', 'exhausted', 'cancelled')"


_CLAIM_INDEXES = {
    "ix_call_tasks_claim": [
        "campaign_id",
        "state",
        "chamber_id",
        "priority DESC",
        "attempts",
        "id",
    ],
    "ix_call_tasks_claim_all": ["campaign_id", "state", "priority DESC", "attempts", "id"],
}


def _check(condition: str) -> None:
    # SQLite rebuilds the table for a new CHECK; the indexes it copies by reflection lose
    # "priority DESC", so the two claim indexes are dropped before and made again after
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in _CLAIM_INDEXES:
            op.drop_index(name, table_name="call_tasks")
    with op.batch_alter_table("call_tasks", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_call_tasks_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_call_tasks_state"), sa.text(condition))
    if sqlite:
        for name, columns in _CLAIM_INDEXES.items():
            op.create_index(
                name,
                "call_tasks",
                [sa.text(c) if " " in c else c for c in columns],
                unique=False,
            )


def upgrade() -> None:
    _check(_NEW)
    now = datetime.now(UTC).replace(tzinfo=None)  # times are stored as naive UTC
    op.get_bind().execute(
        sa.text(
            "UPDATE call_tasks SET state = 'waiting'"
            " WHERE state = 'queued' AND next_attempt_at > :now"
        ),
        {"now": now},
    )


def downgrade() -> None:
    op.execute("UPDATE call_tasks SET state = 'queued' WHERE state = 'waiting'")
    _check(_OLD)
