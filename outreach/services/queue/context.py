"""What every queue operation loads first: the agent, the campaign, the agent's scope in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db.models import Campaign, Chamber
from outreach.domain.windows import InvalidWindow, Window, parse_window
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.agents import load_agent, works_every_chamber
from outreach.services.types import AgentInfo

# states of a task still to be worked; follow_up belongs to the follow-up team, not the queue
OPEN_STATES = ("queued", "callback")
UNFINISHED_STATES = ("queued", "callback", "follow_up")


@dataclass(frozen=True, slots=True)
class CampaignRow:
    id: int
    name: str
    status: str
    chamber_id: int | None
    chamber_code: str | None
    max_attempts: int
    retry_delays: tuple[int, ...]
    window: Window
    max_attempts_30d: int
    callback_grace_minutes: int
    lease_minutes: int

    @property
    def national(self) -> bool:
        return self.chamber_id is None

    def lease_until(self, now: datetime) -> datetime:
        return now + timedelta(minutes=self.lease_minutes)

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th unanswered attempt (the last delay repeats)."""
        delays = self.retry_delays or (60,)
        return timedelta(minutes=delays[min(max(attempts, 1), len(delays)) - 1])


@dataclass(frozen=True, slots=True)
class QueueContext:
    agent: AgentInfo
    campaign: CampaignRow
    chamber_id: int | None  # the chambers whose tasks the agent works here: one, or all (None)


def load_campaign(session: Session, campaign_id: int) -> CampaignRow:
    row = session.execute(
        select(Campaign, Chamber.code)
        .outerjoin(Chamber, Chamber.id == Campaign.chamber_id)
        .where(Campaign.id == campaign_id)
    ).first()
    if row is None:
        raise NotFound(_("campagne inconnue : n° {id}").format(id=campaign_id))
    c, code = row
    try:
        window = parse_window(c.window_days, c.window_hours, bool(c.skip_holidays))
    except InvalidWindow as exc:
        raise InvalidInput(
            _("campagne « {name} » : plage d'appel invalide ({reason})").format(
                name=c.name, reason=exc
            )
        ) from None
    return CampaignRow(
        id=c.id,
        name=c.name,
        status=c.status,
        chamber_id=c.chamber_id,
        chamber_code=code,
        max_attempts=c.max_attempts,
        retry_delays=tuple(int(d) for d in (c.retry_delays or [60])),
        window=window,
        max_attempts_30d=c.max_attempts_30d,
        callback_grace_minutes=c.callback_grace_minutes,
        lease_minutes=c.lease_minutes,
    )


def scope_chamber(agent: AgentInfo, campaign: CampaignRow) -> int | None:
    """The chamber the agent works in this campaign (None: every chamber), or Forbidden.

    A regional campaign is worked by its chamber's agents (and by CMA France and admins, for
    that chamber only). A national campaign is worked by every agent for their own chamber;
    CMA France members and admins work all chambers of it (`works_every_chamber`).
    """
    if campaign.chamber_id is not None:
        if agent.chamber_id != campaign.chamber_id and not works_every_chamber(agent):
            raise Forbidden(
                _("la campagne « {name} » est réservée à la chambre {chamber}").format(
                    name=campaign.name, chamber=campaign.chamber_code
                )
            )
        return campaign.chamber_id
    return None if works_every_chamber(agent) else agent.chamber_id


def load_context(session: Session, agent_id: int, campaign_id: int) -> QueueContext:
    agent = load_agent(session, agent_id)
    campaign = load_campaign(session, campaign_id)
    return QueueContext(agent, campaign, scope_chamber(agent, campaign))
