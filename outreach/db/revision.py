"""The schema revision this code expects, readable without importing Alembic (start-up time).

tests/db/test_migrations.py checks it is Alembic's head: bump it with every new revision.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from outreach.db.engine import Database

HEAD_REVISION = "0014"


def stored_revision(db: Database) -> str | None:
    """The database's revision, or None when it cannot be read here (no table, no server):
    the caller then asks Alembic, which says precisely what is wrong."""
    try:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None
