from __future__ import annotations

import sqlalchemy as sa

from outreach.db import migrate
from outreach.db.engine import Database
from outreach.db.models import load_all
from outreach.domain.geography import CHAMBERS, DEPARTMENTS

CONTRACT_TABLES = {
    "chambers",
    "agents",
    "businesses",
    "lockdowns",
    "campaigns",
    "call_tasks",
    "calls",
    "referrals",
    "call_answers",
    "audit_log",
}


def _tables(db: Database) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_downgrade_upgrade(empty_db: Database) -> None:
    assert migrate.current_revision(empty_db) is None
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == migrate.head_revision()
    assert CONTRACT_TABLES <= _tables(empty_db)
    migrate.downgrade(empty_db, "base")
    assert migrate.current_revision(empty_db) is None
    assert _tables(empty_db) <= {"alembic_version"}
    migrate.upgrade(empty_db)
    assert CONTRACT_TABLES <= _tables(empty_db)
    with empty_db.reading() as s:
        assert s.execute(sa.text("SELECT count(*) FROM chambers")).scalar() == 21


def test_models_match_migrations(db: Database) -> None:
    """Alembic owns the schema: after upgrade head, autogenerate finds nothing to add."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), load_all())
    # Alembic cannot compare expression indexes (priority DESC) on SQLite: check them by name.
    expression_indexes = {
        ix.name
        for t in load_all().tables.values()
        for ix in t.indexes
        if any(isinstance(e, sa.TextClause) for e in ix.expressions)
    }
    diff = [d for d in diff if not (d[0].endswith("_index") and d[1].name in expression_indexes)]
    assert diff == []
    inspector = sa.inspect(db.engine)
    present = {ix["name"] for t in inspector.get_table_names() for ix in inspector.get_indexes(t)}
    assert expression_indexes <= present


def test_reference_data(db: Database) -> None:
    with db.reading() as s:
        rows = s.execute(
            sa.text(
                "SELECT d.code, d.timezone, c.code FROM departments d "
                "JOIN chambers c ON c.id = d.chamber_id"
            )
        ).all()
        by_code = {r[0]: (r[1], r[2]) for r in rows}
        assert len(by_code) == len(DEPARTMENTS) == 101
        assert by_code["974"] == ("Indian/Reunion", "REU")
        assert by_code["971"] == ("America/Guadeloupe", "GLP")
        assert by_code["2A"] == ("Europe/Paris", "COR")
        assert by_code["57"][1] == "MOS" and by_code["67"][1] == "ALS"
        assert {r[0] for r in s.execute(sa.text("SELECT code FROM chambers"))} == {
            c.code for c in CHAMBERS
        }
        lockdowns = s.execute(
            sa.text("SELECT name, starts_on FROM lockdowns ORDER BY starts_on")
        ).all()
        assert [r[0] for r in lockdowns] == ["confinement-1", "confinement-2", "confinement-3"]
        outcomes = {r[0]: r[1] for r in s.execute(sa.text("SELECT key, label_fr FROM outcomes"))}
        assert outcomes["1"] == "Joint" and outcomes["9"] == "Opposition (ne plus appeler)"
        assert s.execute(sa.text("SELECT count(*) FROM referral_kinds")).scalar_one() >= 7


def test_head_revision_constant_is_alembic_head(db: Database) -> None:
    """The start-up check reads HEAD_REVISION instead of loading Alembic: keep them equal."""
    from outreach.db.revision import HEAD_REVISION, stored_revision

    assert HEAD_REVISION == migrate.head_revision()
    assert stored_revision(db) == HEAD_REVISION
