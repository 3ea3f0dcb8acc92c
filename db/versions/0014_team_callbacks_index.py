"""call_tasks: ix_call_tasks_team_callbacks, the callbacks of one chamber of a campaign in due order

The claim's team-callback candidate (a chamber's callbacks that are due) went through
ix_call_tasks_due (campaign, state, next_attempt_at): it stepped over the due callbacks of every
other chamber of a national campaign before one of its own. Full scale SQLite after three
simulated days (1,565 callbacks in the campaign, 44 of them in IDF): that candidate 0.70 ms
through ix_call_tasks_due, 0.007 ms through this index. Partial (state = 'callback'): it holds
only callbacks, a few thousand rows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_call_tasks_team_callbacks",
        "call_tasks",
        ["campaign_id", "chamber_id", "next_attempt_at", "id"],
        unique=False,
        sqlite_where=sa.text("state = 'callback'"),
        postgresql_where=sa.text("state = 'callback'"),
    )


def downgrade() -> None:
    op.drop_index("ix_call_tasks_team_callbacks", table_name="call_tasks")
