"""row-level security on campaigns (each chamber's campaigns to its people, the national ones
read by everyone), and outreach_sirets_elsewhere() for an import under a regional role
(nothing on SQLite)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

"""

from collections.abc import Sequence

from alembic import op

from outreach.db import security as sec

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in [*sec.campaigns_policies(), *sec.sirets_elsewhere()]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS outreach_sirets_elsewhere(text[])")
    for name in ("chamber", "change_new", "change", "change_delete", "agents_verification"):
        op.execute(f"DROP POLICY IF EXISTS {name} ON campaigns")
    op.execute("ALTER TABLE campaigns DISABLE ROW LEVEL SECURITY")
