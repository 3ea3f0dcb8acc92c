"""The follow-up worklist of a chamber's digital advisers: open referrals by due date, and the
lease that keeps one adviser on one referral at a time (the same rule as call tasks:
outreach.services.lease).

Due date: a booked referral is due at its appointment; any other open referral is due
`lifecycle.DUE_AFTER[state]` after its last change of state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from outreach.db.engine import Database, retry_busy, rowcount
from outreach.db.models import Agent, Business, Referral
from outreach.domain import lifecycle
from outreach.domain.referrals import REFERRAL_KINDS_BY_CODE
from outreach.errors import Forbidden, InvalidInput
from outreach.i18n import _
from outreach.services.agents import load_agent, works_every_chamber
from outreach.services.clock import from_db, to_db, utcnow
from outreach.services.lease import held_by_other, lease_free, lease_until
from outreach.services.queue.views import business_query
from outreach.services.queue.views import business_view as _business_view
from outreach.services.referrals import _check_scope, _locked, load_detail
from outreach.services.types import BusinessView, FollowUpItem, ReferralDetail

LEASE_MINUTES = 15
WORKLIST_LIMIT = 500


def _bad_filter(name: str, values: Iterable[str], valid: Iterable[str]) -> None:
    bad = sorted(set(values) - set(valid))
    if bad:
        raise InvalidInput(
            _("{name} inconnu : {bad} (au choix : {valid})").format(
                name=name, bad=", ".join(bad), valid=", ".join(valid)
            )
        )


def _due(state: str, updated: datetime | None, created: datetime) -> datetime:
    return (updated or created) + lifecycle.DUE_AFTER.get(state, lifecycle.DUE_AFTER["proposed"])


def worklist(
    db: Database,
    agent_id: int,
    *,
    kinds: tuple[str, ...] = (),
    states: tuple[str, ...] = (),
    now: datetime | None = None,
    limit: int = WORKLIST_LIMIT,
) -> list[FollowUpItem]:
    """The open referrals of the agent's chamber (every chamber for CMA France and admins),
    soonest due first, filtered by kinds and states (empty: all kinds, every open state)."""
    at = to_db(now) if now is not None else utcnow()
    _bad_filter(_("type d'orientation"), kinds, REFERRAL_KINDS_BY_CODE)
    _bad_filter(_("état"), states, lifecycle.OPEN_STATES)
    with db.reading() as session:
        agent = load_agent(session, agent_id)
        holder = Agent.__table__.alias("holder")
        stmt = (
            select(
                Referral.id,
                Referral.kind,
                Referral.partner,
                Referral.status,
                Referral.created_at,
                Referral.updated_at,
                Referral.scheduled_at,
                Referral.claimed_by,
                Referral.lease_expires_at,
                Business.id.label("business_id"),
                Business.name,
                Business.city,
                Business.department,
                holder.c.login.label("holder"),
            )
            .join(Business, Business.id == Referral.business_id)
            .outerjoin(holder, holder.c.id == Referral.claimed_by)
            .where(Referral.status.in_(states or lifecycle.OPEN_STATES))
        )
        if kinds:
            stmt = stmt.where(Referral.kind.in_(kinds))
        if not works_every_chamber(agent):
            stmt = stmt.where(Business.chamber_id == agent.chamber_id)
        # the order of due dates, in SQL so the limit keeps the soonest: scheduled ones by
        # their appointment, the others by their last change (their delay is added below)
        stmt = stmt.order_by(
            case(
                (Referral.status == lifecycle.SCHEDULED, Referral.scheduled_at),
                else_=func.coalesce(Referral.updated_at, Referral.created_at),
            ),
            Referral.id,
        ).limit(limit * 2)
        rows = session.execute(stmt).all()
    items = []
    for r in rows:
        due = (
            r.scheduled_at
            if r.status == lifecycle.SCHEDULED and r.scheduled_at
            else _due(r.status, r.updated_at, r.created_at)
        )
        held = held_by_other(r.claimed_by, r.lease_expires_at, agent_id, at)
        items.append(
            FollowUpItem(
                referral_id=r.id,
                kind=r.kind,
                partner=r.partner,
                state=r.status,
                business_id=r.business_id,
                business_name=r.name,
                city=r.city,
                department=r.department,
                due_at=from_db(due),
                overdue=due <= at,
                held_by=r.holder if held else None,
            )
        )
    items.sort(key=lambda i: (i.due_at, i.referral_id))
    return items[:limit]


def claim_referral(
    db: Database, agent_id: int, referral_id: int, *, now: datetime | None = None
) -> tuple[ReferralDetail, BusinessView, datetime]:
    """Hold the referral under a lease to work it (the detail, its business, the lease's end);
    Forbidden while another adviser holds it. A second claim by the holder renews the lease."""
    at = to_db(now) if now is not None else utcnow()

    def run() -> tuple[ReferralDetail, BusinessView, datetime]:
        with db.writing() as session:
            actor = load_agent(session, agent_id)
            row = _locked(session, referral_id, db.is_postgresql)
            _check_scope(actor, row.chamber_id, row.name)
            if held_by_other(row.claimed_by, row.lease_expires_at, actor.id, at):
                raise Forbidden(
                    _(
                        "l'orientation n° {id} est en cours de traitement par un autre conseiller"
                    ).format(id=referral_id)
                )
            until = lease_until(at, LEASE_MINUTES)
            # one referral at a time per adviser: taking this one hands back any other
            session.execute(
                update(Referral)
                .where(Referral.claimed_by == actor.id, Referral.id != referral_id)
                .values(claimed_by=None, claimed_at=None, lease_expires_at=None)
            )
            taken = rowcount(
                session.execute(
                    update(Referral)
                    .where(
                        Referral.id == referral_id,
                        # the lease rule again in the statement: on SQLite nothing was locked by
                        # the read above, so the write itself must still find the lease free
                        or_(
                            Referral.claimed_by == actor.id,
                            lease_free(Referral.lease_expires_at, at),
                        ),
                    )
                    .values(claimed_by=actor.id, claimed_at=at, lease_expires_at=until)
                )
            )
            if not taken:
                raise Forbidden(
                    _(
                        "l'orientation n° {id} est en cours de traitement par un autre conseiller"
                    ).format(id=referral_id)
                )
            biz = session.execute(
                business_query().where(Business.__table__.c.id == row.business_id)
            ).one()
            return load_detail(session, referral_id), _business_view(biz), from_db(until)

    return retry_busy(run)


def release_all_referrals(session: Session, agent_id: int) -> list[int]:
    """In the caller's transaction: every referral `agent_id` holds is free again at once (an
    admin disabling them). The referrals' ids."""
    released = session.execute(
        update(Referral)
        .where(Referral.claimed_by == agent_id)
        .values(claimed_by=None, claimed_at=None, lease_expires_at=None)
        .returning(Referral.id)
    ).all()
    return sorted(int(r[0]) for r in released)


def release_referral(db: Database, agent_id: int, referral_id: int) -> bool:
    """Hand the referral back (True if the agent held it)."""

    def run() -> bool:
        with db.writing() as session:
            done = rowcount(
                session.execute(
                    update(Referral)
                    .where(Referral.id == referral_id, Referral.claimed_by == agent_id)
                    .values(claimed_by=None, claimed_at=None, lease_expires_at=None)
                )
            )
            return bool(done)

    return retry_busy(run)
