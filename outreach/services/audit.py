"""Invariant 5: every change a person makes leaves an audit row, in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert

from outreach.db.engine import Executor
from outreach.db.models import AuditLog
from outreach.services.clock import to_db, utcnow

_INSERT = insert(AuditLog.__table__)


def record_audit(
    session: Executor,
    *,
    agent_id: int | None,
    action: str,
    entity: str,
    entity_id: object | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Add one audit row to the caller's transaction (committed or rolled back with the change)."""
    # one statement built once (the table, not the ORM entity): the call queue writes one row
    # per recorded call, so this is on the hot path
    session.execute(
        _INSERT,
        {
            "at": to_db(at) if at else utcnow(),
            "agent_id": agent_id,
            "action": action,
            "entity": entity,
            "entity_id": None if entity_id is None else str(entity_id),
            "detail": detail,
        },
    )
