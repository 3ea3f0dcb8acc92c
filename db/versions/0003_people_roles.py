"""people on PostgreSQL: group roles outreach_agent, outreach_supervisor, outreach_admin and
what each may do to each table (nothing on SQLite)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from outreach.db import security as sec

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# agents insert calls and what a call records; supervisors change their chamber's data
_CALLS = sec.Rights(agent="SELECT, INSERT")
_APPEND_ONLY = sec.Rights(agent="SELECT, INSERT", supervisor="SELECT, INSERT")
# a call may flag a phone, mark a business ceased or opposed (the name, address, phones: not)
_BUSINESSES = sec.Rights(
    agent="SELECT, UPDATE (phone_flagged, phone_alt_flagged, status, do_not_call, "
    "do_not_call_at, updated_at)"
)
# everyone reads who is who, but a PIN's hash and lockout are for supervisors and admins
_AGENTS = sec.Rights(
    agent="SELECT (id, login, name, chamber_id, role, has_pin, active, created_at)",
    supervisor="SELECT, UPDATE (pin_hash, failed_pins, locked_until)",
)


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
        *sec.grant("agents", _AGENTS),
        *sec.grant("campaigns", sec.Rights(agent="SELECT")),
        *sec.grant("businesses", _BUSINESSES),
        *sec.grant("call_tasks", sec.Rights(agent="SELECT, INSERT, UPDATE")),
        *sec.grant("calls", _CALLS),
        *sec.grant("referrals", _CALLS),
        *sec.grant("call_answers", _CALLS),
        *sec.grant("audit_log", _APPEND_ONLY),
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
