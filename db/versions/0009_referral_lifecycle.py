"""referral lifecycle (referral_events, referral_actions, appointment and lease columns), goals,
verification campaigns

Every referral already stored gets its creation event (from_state NULL) at its creation time,
by the agent of its call, so that each referral's history starts with an event.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from outreach.db import security as sec

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = "('proposed', 'accepted', 'scheduled', 'done', 'declined', 'no_show', 'cancelled')"


def upgrade() -> None:
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("chamber_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "metric IN ('diagnostics_done', 'closed_firms_helped', "
            "'businesses_verified_online', 'contacts')",
            name=op.f("ck_goals_metric"),
        ),
        sa.ForeignKeyConstraint(
            ["chamber_id"], ["chambers.id"], name=op.f("fk_goals_chamber_id_chambers")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["agents.id"], name=op.f("fk_goals_created_by_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
    )
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.create_index("ix_goals_metric_chamber", ["metric", "chamber_id"], unique=False)

    op.create_table(
        "referral_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="planned", nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('planned', 'in_progress', 'done', 'dropped')",
            name=op.f("ck_referral_actions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_actions_referral_id_referrals"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["agents.id"], name=op.f("fk_referral_actions_updated_by_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_actions")),
        sa.UniqueConstraint("referral_id", "action", name="uq_referral_actions_referral_action"),
    )
    op.create_table(
        "referral_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.CheckConstraint(f"to_state IN {STATES}", name=op.f("ck_referral_events_to_state")),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_referral_events_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_events_referral_id_referrals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_events")),
    )
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_events_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index("ix_referral_events_referral", ["referral_id", "at"], unique=False)

    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite: plain ADD COLUMN (its REFERENCES inline). A batch would rebuild campaigns and
    # referrals, which their children's foreign keys forbid while they are enforced (they are,
    # in the migration's transaction); the two CHECKs on existing columns are PostgreSQL's only.
    op.add_column("businesses", sa.Column("sells_online_verified_at", sa.DateTime(), nullable=True))
    op.add_column(
        "campaigns",
        sa.Column("purpose", sa.String(length=16), server_default="calls", nullable=False),
    )
    op.add_column(
        "campaigns",
        sa.Column("verify_after_days", sa.Integer(), server_default="21", nullable=False),
    )
    for name in ("updated_at", "scheduled_at", "claimed_at", "lease_expires_at"):
        op.add_column("referrals", sa.Column(name, sa.DateTime(), nullable=True))
    for name in ("adviser_id", "claimed_by"):
        fk = f"fk_referrals_{name}_agents"
        if sqlite:  # Alembic adds no constraint outside a batch: SQLite's own syntax
            op.execute(
                f"ALTER TABLE referrals ADD COLUMN {name} INTEGER "
                f"CONSTRAINT {fk} REFERENCES agents (id)"
            )
        else:
            op.add_column("referrals", sa.Column(name, sa.Integer(), nullable=True))
            op.create_foreign_key(fk, "referrals", "agents", [name], ["id"])
    op.create_index("ix_referrals_status_kind", "referrals", ["status", "kind"], unique=False)
    if not sqlite:
        op.create_check_constraint("purpose", "campaigns", "purpose IN ('calls', 'verification')")
        op.create_check_constraint("status", "referrals", f"status IN {STATES}")

    op.execute("UPDATE referrals SET updated_at = created_at")
    op.execute(
        "INSERT INTO referral_events (referral_id, at, agent_id, from_state, to_state) "
        "SELECT r.id, r.created_at, c.agent_id, NULL, r.status "
        "FROM referrals r JOIN calls c ON c.id = r.call_id ORDER BY r.id"
    )
    if not sqlite:  # row-level security: each chamber's rows to its people
        for table, link, rights in (
            ("referral_events", "referral_id", sec.Rights()),
            ("referral_actions", "referral_id", sec.Rights()),
            ("goals", "chamber_id", sec.Rights(agent="SELECT")),
        ):
            for statement in sec.protect(table, link, rights):
                op.execute(statement)
        for statement in sec.follow_up_policies():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP POLICY IF EXISTS own_claims ON referrals")  # it reads the lease columns
        op.drop_constraint("status", "referrals", type_="check")
        op.drop_constraint("purpose", "campaigns", type_="check")
        op.drop_constraint("fk_referrals_adviser_id_agents", "referrals", type_="foreignkey")
        op.drop_constraint("fk_referrals_claimed_by_agents", "referrals", type_="foreignkey")
    op.drop_index("ix_referrals_status_kind", "referrals")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        for column in (
            "lease_expires_at",
            "claimed_at",
            "claimed_by",
            "adviser_id",
            "scheduled_at",
            "updated_at",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("verify_after_days")
        batch_op.drop_column("purpose")

    with op.batch_alter_table("businesses", schema=None) as batch_op:
        batch_op.drop_column("sells_online_verified_at")

    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_events_referral")
        batch_op.drop_index(batch_op.f("ix_referral_events_agent_id"))
    op.drop_table("referral_events")
    op.drop_table("referral_actions")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_index("ix_goals_metric_chamber")
    op.drop_table("goals")
