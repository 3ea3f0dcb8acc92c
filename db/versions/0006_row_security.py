"""row-level security on PostgreSQL: each chamber's rows to its people; CMA France and admins
see every chamber; audit_log append-only but for admins; an opposition lifted only by the
supervisors (nothing on SQLite)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

"""

from collections.abc import Sequence

from alembic import op

from outreach.db import security as sec

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table whose rows belong to a chamber, one line each: (table, link to its chamber, rights)
PROTECTED: tuple[tuple[str, str, sec.Rights], ...] = (
    ("businesses", "chamber_id", sec.BUSINESSES),
    ("call_tasks", "chamber_id", sec.TASKS),
    ("calls", "chamber_id", sec.CALLS),
    ("referrals", "business_id", sec.CALLS),
    ("call_answers", "call_id", sec.ANSWERS),
    ("agent_state_events", "agent_id", sec.Rights()),
    ("email_messages", "business_id", sec.Rights()),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    statements = [*sec.FUNCTIONS]
    for table, link, rights in PROTECTED:
        statements += sec.protect(table, link, rights)
    statements += sec.audit_log_policies()
    statements += sec.agents_policies()
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in [t for t, _l, _r in PROTECTED] + ["audit_log"]:
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER IF EXISTS opposition_lift ON businesses")
    op.execute("DROP FUNCTION IF EXISTS outreach_opposition_lift()")
