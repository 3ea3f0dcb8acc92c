"""Records reported wrong by an adviser (hand-back "Fiche erronée"), for a supervisor to fix.

A flagged business leaves the campaign's queue until a supervisor of its chamber (or of CMA
France, or an admin) resolves the flag: `requeue` puts the task back in the queue, `drop` leaves
it out of the campaign. Each resolution is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from outreach.db.engine import Database
from outreach.db.models import Agent, Business, CallTask, Campaign, Chamber, RecordFlag
from outreach.errors import InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.access import chamber_scope, require_supervisor
from outreach.services.audit import record_audit
from outreach.services.clock import from_db, to_db, utcnow

RESOLUTIONS = ("requeue", "drop")


@dataclass(frozen=True, slots=True)
class FlagView:
    id: int
    at: datetime
    siret: str
    business: str
    chamber_code: str
    campaign: str | None
    agent_login: str
    reason: str
    note: str | None
    resolved_at: datetime | None
    resolution: str | None


def list_flags(
    db: Database, login: str, *, include_resolved: bool = False, chamber: str | None = None
) -> list[FlagView]:
    """The flags in the supervisor's scope (or one chamber of it), open ones only unless
    `include_resolved`, oldest first."""
    person = require_supervisor(db, login)
    scope = chamber_scope(db, person, chamber)
    f = RecordFlag
    stmt = (
        select(
            f.id,
            f.at,
            Business.siret,
            Business.name,
            Chamber.code,
            Campaign.name.label("campaign"),
            Agent.login,
            f.reason,
            f.note,
            f.resolved_at,
            f.resolution,
        )
        .join(Business, Business.id == f.business_id)
        .join(Chamber, Chamber.id == f.chamber_id)
        .join(Agent, Agent.id == f.agent_id)
        .outerjoin(Campaign, Campaign.id == f.campaign_id)
        .order_by(f.at, f.id)
    )
    if not include_resolved:
        stmt = stmt.where(f.resolved_at.is_(None))
    if scope.chamber_id is not None:
        stmt = stmt.where(f.chamber_id == scope.chamber_id)
    with db.reading() as s:
        return [
            FlagView(
                r.id,
                from_db(r.at),
                r.siret,
                r.name,
                r.code,
                r.campaign,
                r.login,
                r.reason,
                r.note,
                from_db(r.resolved_at),
                r.resolution,
            )
            for r in s.execute(stmt)
        ]


def resolve_flag(
    db: Database,
    login: str,
    flag_id: int,
    resolution: str,
    note: str | None = None,
    now: datetime | None = None,
) -> FlagView:
    """Close flag `flag_id`: `requeue` puts its task back in the queue at once, `drop` leaves
    it out of the campaign. NotFound outside the supervisor's scope; InvalidInput when the
    flag is already resolved or the resolution is unknown."""
    if resolution not in RESOLUTIONS:
        raise InvalidInput(
            _("résolution inconnue : {value} (au choix : {valid})").format(
                value=resolution, valid=", ".join(RESOLUTIONS)
            )
        )
    person = require_supervisor(db, login)
    scope = chamber_scope(db, person, None)
    at = to_db(now) if now is not None else utcnow()
    with db.writing() as s:
        flag = s.execute(select(RecordFlag).where(RecordFlag.id == flag_id)).scalar_one_or_none()
        if flag is None or (scope.chamber_id is not None and flag.chamber_id != scope.chamber_id):
            raise NotFound(_("signalement inconnu : n° {id}").format(id=flag_id))
        if flag.resolved_at is not None:
            raise InvalidInput(_("signalement n° {id} déjà traité").format(id=flag_id))
        flag.resolved_at, flag.resolved_by = at, person.id
        flag.resolution, flag.resolution_note = resolution, (note or "").strip() or None
        if resolution == "requeue" and flag.task_id is not None:
            s.execute(
                update(CallTask)
                .where(CallTask.id == flag.task_id, CallTask.state == "cancelled")
                .values(state="queued", end_reason=None, next_attempt_at=None, updated_at=at)
            )
        record_audit(
            s,
            agent_id=person.id,
            action="record.flag.resolve",
            entity="record_flag",
            entity_id=flag.id,
            detail={"resolution": resolution, "note": flag.resolution_note},
            at=at,
        )
    return next(v for v in list_flags(db, login, include_resolved=True) if v.id == flag_id)
