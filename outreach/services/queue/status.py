"""What the agent sees before claiming: the campaigns they may work, and why a queue is empty."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import Business, Call, CallTask, Campaign, Lockdown
from outreach.domain.geography import PARIS, timezone_of
from outreach.domain.windows import next_opening, open_departments
from outreach.i18n import _
from outreach.services.agents import load_agent, works_every_chamber
from outreach.services.clock import from_db, to_db, utcnow
from outreach.services.queue.claim import CAP_WINDOW
from outreach.services.queue.context import (
    OPEN_STATES,
    CampaignRow,
    load_campaign,
    load_context,
    scope_chamber,
)
from outreach.services.types import AgentInfo, CampaignSummary, EmptyQueue

T = CallTask.__table__


def workable_campaigns(session: Session, agent: AgentInfo) -> list[CampaignRow]:
    """Active campaigns the agent may work: national ones and their chamber's (all for CMA
    France and admins)."""
    stmt = select(Campaign.id).where(Campaign.status == "active").order_by(Campaign.id)
    if not works_every_chamber(agent):
        stmt = stmt.where(
            or_(Campaign.chamber_id.is_(None), Campaign.chamber_id == agent.chamber_id)
        )
    return [load_campaign(session, cid) for cid in session.execute(stmt).scalars()]


def _day_start(agent: AgentInfo, now: datetime) -> datetime:
    """Midnight of the agent's day, as naive UTC (the agent's zone: their chamber's)."""
    from outreach.domain.geography import DEPARTMENTS

    zone = next((d.timezone for d in DEPARTMENTS if d.chamber == agent.chamber_code), PARIS)
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return to_db(midnight)


def campaigns_for_agent(
    db: Database, agent_id: int, now: datetime | None = None
) -> list[CampaignSummary]:
    """The active campaigns the agent may work, with counts for the agent's scope."""
    at = to_db(now) if now else utcnow()
    with db.reading() as session:
        agent = load_agent(session, agent_id)
        day = _day_start(agent, at)
        out = []
        for c in workable_campaigns(session, agent):
            chamber = scope_chamber(agent, c)
            scope = [T.c.campaign_id == c.id]
            if chamber is not None:
                scope.append(T.c.chamber_id == chamber)
            queued = session.execute(
                select(func.count()).select_from(T).where(*scope, T.c.state.in_(OPEN_STATES))
            ).scalar_one()
            due = session.execute(
                select(func.count())
                .select_from(T)
                .where(
                    T.c.campaign_id == c.id,
                    T.c.state == "callback",
                    T.c.next_attempt_at <= at,
                    or_(
                        T.c.callback_agent_id == agent.id,
                        and_(T.c.callback_team_at <= at, *scope[1:]),
                    ),
                )
            ).scalar_one()
            calls, reached = session.execute(
                select(func.count(), func.count().filter(Call.reached.is_(True))).where(
                    Call.agent_id == agent.id, Call.campaign_id == c.id, Call.started_at >= day
                )
            ).one()
            lockdown = session.execute(
                select(Lockdown.name)
                .join(Campaign, Campaign.lockdown_id == Lockdown.id)
                .where(Campaign.id == c.id)
            ).scalar()
            out.append(
                CampaignSummary(
                    id=c.id,
                    name=c.name,
                    status=c.status,
                    lockdown=lockdown,
                    chamber_code=c.chamber_code,
                    queued=int(queued),
                    due_callbacks=int(due),
                    my_calls_today=int(calls),
                    my_reached_today=int(reached or 0),
                )
            )
    return out


def _fmt(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%d/%m/%Y %H:%M")


def why_empty(
    db: Database, agent_id: int, campaign_id: int, now: datetime | None = None
) -> EmptyQueue:
    """Why `claim_next` finds nothing for the agent in the campaign, in French."""
    at = to_db(now) if now else utcnow()
    with db.reading() as session:
        ctx = load_context(session, agent_id, campaign_id)
        c = ctx.campaign
        if c.status != "active":
            msg = {
                "paused": _("la campagne « {name} » est en pause"),
                "closed": _("la campagne « {name} » est close"),
                "draft": _("la campagne « {name} » n'est pas encore ouverte"),
            }.get(c.status, _("la campagne « {name} » n'est pas active"))
            return EmptyQueue(f"campaign_{c.status}", msg.format(name=c.name))
        scope = [T.c.campaign_id == c.id]
        if ctx.chamber_id is not None:
            scope.append(T.c.chamber_id == ctx.chamber_id)
        total = session.execute(select(func.count()).select_from(T).where(*scope)).scalar_one()
        if total == 0:
            return EmptyQueue(
                "nothing_in_chamber",
                _("aucune entreprise de votre chambre dans la campagne « {name} »").format(
                    name=c.name
                ),
            )
        callable_ = ~Business.__table__.c.do_not_call & (Business.__table__.c.status != "ceased")
        open_ = (
            select(T.c.department, T.c.next_attempt_at, T.c.lease_expires_at, T.c.claimed_by)
            .join(Business.__table__, Business.__table__.c.id == T.c.business_id)
            .where(*scope, T.c.state.in_(OPEN_STATES), callable_)
        )
        remaining = session.execute(select(func.count()).select_from(open_.subquery())).scalar_one()
        if remaining == 0:
            return EmptyQueue(
                "all_done",
                _("toutes les entreprises de la campagne « {name} » ont été traitées").format(
                    name=c.name
                ),
            )
        free = or_(T.c.lease_expires_at.is_(None), T.c.lease_expires_at <= at)
        due = or_(T.c.next_attempt_at.is_(None), T.c.next_attempt_at <= at)
        # another adviser's personal callback, not yet open to the team: nobody else's to take
        theirs = and_(
            T.c.state == "callback",
            T.c.callback_agent_id.is_not(None),
            T.c.callback_agent_id != ctx.agent.id,
            T.c.callback_team_at > at,
        )
        # a business called as often as the 30-day cap allows (callbacks are exempt)
        recent_calls = (
            select(func.count())
            .select_from(Call.__table__)
            .where(
                Call.__table__.c.business_id == T.c.business_id,
                Call.__table__.c.started_at > at - CAP_WINDOW,
            )
            .scalar_subquery()
        )
        capped = and_(T.c.state != "callback", recent_calls >= c.max_attempts_30d)
        ready_deps = (
            session.execute(
                open_.with_only_columns(T.c.department)
                .where(free, due, not_(theirs), not_(capped))
                .distinct()
            )
            .scalars()
            .all()
        )
        if ready_deps:
            opened = open_departments(c.window, at)
            closed = [d for d in ready_deps if d not in opened]
            if closed and len(closed) == len(ready_deps):
                openings = [
                    (o, d) for d in closed if (o := next_opening(c.window, d, at)) is not None
                ]
                if openings:
                    first, dep = min(openings)
                    return EmptyQueue(
                        "outside_window",
                        _(
                            "hors plage d'appel : ouverture le {at} (heure locale de l'entreprise)"
                        ).format(at=_fmt(first, timezone_of(dep))),
                        next_at=first,
                    )
                return EmptyQueue("outside_window", _("hors plage d'appel"))
            return EmptyQueue(
                "all_held",
                _(
                    "les entreprises disponibles sont en cours de traitement par d'autres conseillers"
                ),
            )
        if c.max_attempts_30d > 0:
            # the next business to come back: held back by the cap (the claim put it back)?
            soonest = session.execute(
                open_.with_only_columns(T.c.next_attempt_at, capped)
                .where(free, not_(theirs))
                .order_by(T.c.next_attempt_at)
                .limit(1)
            ).first()
            if soonest is not None and soonest[1]:
                back = from_db(soonest[0]) if soonest[0] is not None else None
                return EmptyQueue(
                    "cap_30_days",
                    _(
                        "plafond de {n} appels en 30 jours atteint pour les entreprises "
                        "restantes : la première redevient joignable le {at}"
                    ).format(n=c.max_attempts_30d, at=_fmt(back, PARIS) if back else "-"),
                    next_at=back,
                )
        team_at = session.execute(
            open_.with_only_columns(func.min(T.c.callback_team_at)).where(free, due, theirs)
        ).scalar()
        next_due = session.execute(
            open_.with_only_columns(func.min(T.c.next_attempt_at)).where(
                free, T.c.next_attempt_at > at
            )
        ).scalar()
        if team_at is not None and (next_due is None or team_at <= next_due):
            ta = from_db(team_at)
            assert ta is not None
            return EmptyQueue(
                "others_callbacks",
                _(
                    "les entreprises restantes sont des rappels personnels d'autres conseillers, "
                    "ouverts à l'équipe le {at}"
                ).format(at=_fmt(ta, PARIS)),
                next_at=ta,
            )
        if next_due is not None:
            nd = from_db(next_due)
            assert nd is not None
            return EmptyQueue(
                "retry_delay",
                _(
                    "toutes les entreprises restantes attendent leur prochaine tentative : la première le {at}"
                ).format(at=_fmt(nd, PARIS)),
                next_at=nd,
            )
        return EmptyQueue(
            "all_held",
            _("les entreprises restantes sont en cours de traitement par d'autres conseillers"),
        )
