"""The e-mails of a supervisor's scope, for `outreach mail list`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from outreach.db.engine import Database
from outreach.db.models import Business, EmailMessage
from outreach.services.access import scope_of
from outreach.services.clock import from_db
from outreach.services.types import AgentInfo


@dataclass(frozen=True, slots=True)
class MessageLine:
    id: int
    created_at: datetime  # aware UTC
    state: str
    kind: str
    siret: str
    to_address: str
    subject: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


def list_messages(
    db: Database, person: AgentInfo, *, state: str | None = None, limit: int = 50
) -> tuple[int, list[MessageLine]]:
    """(how many in all, the newest `limit`) e-mails to businesses of `person`'s scope."""
    scope = scope_of(person)
    where = []
    if scope.chamber_id is not None:
        where.append(Business.chamber_id == scope.chamber_id)
    if state:
        where.append(EmailMessage.state == state)
    base = select(EmailMessage, Business.siret).join(
        Business, Business.id == EmailMessage.business_id
    )
    with db.reading() as session:
        total = session.scalar(
            select(func.count(EmailMessage.id))
            .join(Business, Business.id == EmailMessage.business_id)
            .where(*where)
        )
        rows = session.execute(
            base.where(*where).order_by(EmailMessage.id.desc()).limit(limit)
        ).all()
        return total or 0, [
            MessageLine(
                id=m.id,
                created_at=from_db(m.created_at),
                state=m.state,
                kind=m.kind,
                siret=siret,
                to_address=m.to_address,
                subject=m.subject,
                attempts=m.attempts,
                last_error=m.last_error,
                sent_at=from_db(m.sent_at),
            )
            for m, siret in rows
        ]
