"""maximum wrap-up time: campaigns.max_wrap_up_seconds (120 by default) and the campaign of an
adviser's on-call and wrap-up states (agent_state_events.campaign_id), so the time roll-up
counts the wrap-up time past the campaign's limit

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("max_wrap_up_seconds", sa.Integer(), nullable=False, server_default="120")
        )
    with op.batch_alter_table("agent_state_events") as batch:
        batch.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_agent_state_events_campaign_id_campaigns"),
            "campaigns",
            ["campaign_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_state_events") as batch:
        batch.drop_constraint(
            op.f("fk_agent_state_events_campaign_id_campaigns"), type_="foreignkey"
        )
        batch.drop_column("campaign_id")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("max_wrap_up_seconds")
