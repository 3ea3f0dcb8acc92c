"""businesses.contact_name: the person to ask for (dirigeant, gérant...), shown on the call
screen's card, read by the import (columns Contact, Dirigeant...), erased under the RGPD

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("businesses") as batch:
        batch.add_column(sa.Column("contact_name", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("businesses") as batch:
        batch.drop_column("contact_name")
