"""The callbacks an agent may take: their own (due or not) and those open to the team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select

from outreach.db.engine import Database
from outreach.db.models import Business, CallTask, Campaign
from outreach.errors import Forbidden
from outreach.services.agents import load_agent
from outreach.services.clock import from_db, to_db, utcnow
from outreach.services.queue.context import load_campaign, scope_chamber
from outreach.services.queue.status import workable_campaigns
from outreach.services.types import CallbackItem

LIMIT = 500


def my_callbacks(
    db: Database, agent_id: int, campaign_id: int | None = None, now: datetime | None = None
) -> list[CallbackItem]:
    """The agent's personal callbacks (due or not) and the team callbacks open now (team ones,
    and personal ones of others past their grace period), in the agent's scope, by time."""
    at = to_db(now) if now else utcnow()
    with db.reading() as session:
        agent = load_agent(session, agent_id)
        if campaign_id is not None:
            campaigns = [load_campaign(session, campaign_id)]
        else:
            campaigns = workable_campaigns(session, agent)
        conds = []
        for c in campaigns:
            try:
                chamber = scope_chamber(agent, c)
            except Forbidden:  # a regional campaign of another chamber lists nothing
                continue
            team = CallTask.callback_team_at <= at
            if chamber is not None:
                team = and_(team, CallTask.chamber_id == chamber)
            conds.append(
                and_(
                    CallTask.campaign_id == c.id, or_(CallTask.callback_agent_id == agent.id, team)
                )
            )
        if not conds:
            return []
        rows = session.execute(
            select(
                CallTask.id,
                CallTask.campaign_id,
                Campaign.name,
                CallTask.business_id,
                Business.name,
                CallTask.next_attempt_at,
                CallTask.callback_agent_id,
            )
            .join(Campaign, Campaign.id == CallTask.campaign_id)
            .join(Business, Business.id == CallTask.business_id)
            .where(CallTask.state == "callback", or_(*conds))
            .where(Business.do_not_call.is_(False))
            .order_by(CallTask.next_attempt_at, CallTask.id)
            .limit(LIMIT)
        ).all()
    items = []
    for r in rows:
        due_at = r[5]
        assert due_at is not None  # a task in the callback state is always due at a time
        items.append(
            CallbackItem(
                task_id=r[0],
                campaign_id=r[1],
                campaign_name=r[2],
                business_id=r[3],
                business_name=r[4],
                callback_at=from_db(due_at),
                personal=r[6] == agent.id,
                due=due_at <= at,
            )
        )
    return items
