"""agent states: agent_state_events and the pause_reasons catalogue

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from outreach.domain.agent_states import PAUSE_REASONS

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    reasons = op.create_table(
        "pause_reasons",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=1), nullable=False),
        sa.Column("label_fr", sa.String(length=80), nullable=False),
        sa.Column("label_en", sa.String(length=80), nullable=False),
        sa.Column("max_minutes", sa.Integer(), nullable=True),
        sa.Column("needs_note", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_pause_reasons")),
    )
    op.create_table(
        "agent_state_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("business_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('ready', 'on_call', 'wrap_up', 'paused', 'logged_out')",
            name=op.f("ck_agent_state_events_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_state_events_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_agent_state_events_business_id_businesses"),
        ),
        sa.ForeignKeyConstraint(
            ["reason"],
            ["pause_reasons.code"],
            name=op.f("fk_agent_state_events_reason_pause_reasons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_events")),
    )
    with op.batch_alter_table("agent_state_events", schema=None) as batch_op:
        batch_op.create_index("ix_agent_state_events_agent_at", ["agent_id", "at"], unique=False)
        batch_op.create_index("ix_agent_state_events_at", ["at"], unique=False)
        batch_op.create_index(
            "ix_agent_state_events_open",
            ["agent_id"],
            unique=False,
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        )
    op.bulk_insert(
        reasons,
        [
            {
                "code": r.code,
                "key": r.key,
                "label_fr": r.label_fr,
                "label_en": r.label_en,
                "max_minutes": r.max_minutes,
                "needs_note": r.needs_note,
                "active": True,
            }
            for r in PAUSE_REASONS
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("agent_state_events", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_state_events_open")
        batch_op.drop_index("ix_agent_state_events_at")
        batch_op.drop_index("ix_agent_state_events_agent_at")
    op.drop_table("agent_state_events")
    op.drop_table("pause_reasons")
