"""hand-backs and sessions: call_tasks.end_reason, record_flags (records reported wrong, for a
supervisor), agent_sessions (one live session per agent)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from outreach.db import security as sec

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_tasks") as batch:
        batch.add_column(sa.Column("end_reason", sa.String(24), nullable=True))
    op.create_table(
        "record_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("chamber_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(16), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"], name="fk_record_flags_business_id_businesses"
        ),
        sa.ForeignKeyConstraint(
            ["chamber_id"], ["chambers.id"], name="fk_record_flags_chamber_id_chambers"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_record_flags_campaign_id_campaigns"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["call_tasks.id"], name="fk_record_flags_task_id_call_tasks"
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_record_flags_agent_id_agents"
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["agents.id"], name="fk_record_flags_resolved_by_agents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_record_flags"),
    )
    op.create_index("ix_record_flags_business_id", "record_flags", ["business_id"])
    op.create_index("ix_record_flags_open", "record_flags", ["resolved_at", "chamber_id"])
    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_agent_sessions_agent_id_agents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agent_sessions"),
    )
    op.create_index("ix_agent_sessions_live", "agent_sessions", ["agent_id", "ended_at"])
    if op.get_bind().dialect.name == "postgresql":  # each chamber's rows to its people
        for table, link in (("record_flags", "chamber_id"), ("agent_sessions", "agent_id")):
            for statement in sec.protect(table, link):
                op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_agent_sessions_live", table_name="agent_sessions")
    op.drop_table("agent_sessions")
    op.drop_index("ix_record_flags_open", table_name="record_flags")
    op.drop_index("ix_record_flags_business_id", table_name="record_flags")
    op.drop_table("record_flags")
    with op.batch_alter_table("call_tasks") as batch:
        batch.drop_column("end_reason")
