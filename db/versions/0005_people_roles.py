"""people on PostgreSQL: group roles outreach_agent, outreach_supervisor, outreach_admin and
what each may do to each table (nothing on SQLite)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from outreach.db import security as sec

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # whether someone has a PIN, readable by those who may not read the PIN's hash
    pg = op.get_bind().dialect.name == "postgresql"
    # SQLite adds only VIRTUAL generated columns to a table, PostgreSQL 15 has only STORED ones
    computed = sa.Computed("pin_hash IS NOT NULL", persisted=pg)
    op.add_column("agents", sa.Column("has_pin", sa.Boolean(), computed))
    if not pg:
        return
    statements = [
        *sec.create_groups(),
        *sec.reference("alembic_version"),
        *sec.reference("chambers"),
        *sec.reference("departments"),
        *sec.reference("lockdowns"),
        *sec.reference("outcomes"),
        *sec.reference("referral_kinds"),
        *sec.reference("platforms"),
        *sec.reference("pause_reasons"),
        *sec.grant("agents", sec.AGENTS),
        *sec.grant("campaigns", sec.Rights(agent="SELECT")),
        *sec.grant("businesses", sec.BUSINESSES),
        *sec.grant("call_tasks", sec.TASKS),
        *sec.grant("calls", sec.CALLS),
        *sec.grant("referrals", sec.CALLS),
        *sec.grant("call_answers", sec.ANSWERS),
        *sec.grant("audit_log", sec.APPEND_ONLY),
        *sec.grant("agent_state_events", sec.Rights()),
        *sec.grant("email_messages", sec.Rights()),
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("has_pin")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {sec.PEOPLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {sec.PEOPLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {sec.PEOPLE}")
    op.execute(
        "DO $$ BEGIN EXECUTE format('REVOKE ALL ON DATABASE %I FROM "
        f"{sec.PEOPLE}', current_database()); END $$"
    )
