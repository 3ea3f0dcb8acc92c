"""reference data: the 21 CMA establishments, départements, lockdowns, outcome catalogue,
referral kinds and labelled platforms

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from outreach.domain.geography import CHAMBERS, DEPARTMENTS
from outreach.domain.lockdowns import LOCKDOWNS
from outreach.domain.outcomes import OUTCOMES
from outreach.domain.referrals import PLATFORMS, REFERRAL_KINDS

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    meta = sa.MetaData()
    chambers = sa.Table("chambers", meta, autoload_with=op.get_bind())
    departments = sa.Table("departments", meta, autoload_with=op.get_bind())
    lockdowns = sa.Table("lockdowns", meta, autoload_with=op.get_bind())
    outcomes = sa.Table("outcomes", meta, autoload_with=op.get_bind())
    kinds = sa.Table("referral_kinds", meta, autoload_with=op.get_bind())
    platforms = sa.Table("platforms", meta, autoload_with=op.get_bind())

    op.bulk_insert(
        chambers,
        [
            {"id": i, "code": c.code, "name": c.name, "region": c.region, "kind": c.kind}
            for i, c in enumerate(CHAMBERS, start=1)
        ],
    )
    chamber_id = {c.code: i for i, c in enumerate(CHAMBERS, start=1)}
    op.bulk_insert(
        departments,
        [
            {
                "code": d.code,
                "name": d.name,
                "chamber_id": chamber_id[d.chamber],
                "timezone": d.timezone,
            }
            for d in DEPARTMENTS
        ],
    )
    op.bulk_insert(
        lockdowns,
        [
            {
                "id": i,
                "name": lk.name,
                "label": lk.label,
                "starts_on": lk.starts_on,
                "ends_on": lk.ends_on,
                "shops_reopened_on": lk.shops_reopened_on,
            }
            for i, lk in enumerate(LOCKDOWNS, start=1)
        ],
    )
    op.bulk_insert(
        outcomes,
        [
            {
                "code": o.code,
                "key": o.key,
                "label_fr": o.label_fr,
                "label_en": o.label_en,
                "reached": o.reached,
                "effect": o.effect,
            }
            for o in OUTCOMES
        ],
    )
    op.bulk_insert(
        kinds,
        [
            {
                "code": k.code,
                "label_fr": k.label_fr,
                "label_en": k.label_en,
                "follow_up": k.follow_up,
            }
            for k in REFERRAL_KINDS
        ],
    )
    op.bulk_insert(
        platforms,
        [{"id": i, "name": n, "category": c} for i, (n, c) in enumerate(PLATFORMS, start=1)],
    )
    if op.get_bind().dialect.name == "postgresql":
        # explicit ids above: move the sequences past them
        for table in ("chambers", "lockdowns", "platforms"):
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )


def downgrade() -> None:
    for table in (
        "platforms",
        "referral_kinds",
        "outcomes",
        "lockdowns",
        "departments",
        "chambers",
    ):
        op.execute(f"DELETE FROM {table}")
