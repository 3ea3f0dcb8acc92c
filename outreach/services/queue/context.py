"""What every queue operation loads first: the agent, the campaign, the agent's scope in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select

from outreach.db.engine import Executor
from outreach.db.models import Agent, Call, Campaign, Chamber
from outreach.domain.windows import InvalidWindow, Window, parse_window
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.agents import works_every_chamber
from outreach.services.lease import lease_until
from outreach.services.types import AgentInfo

# states of a task still to be worked; follow_up belongs to the follow-up team, not the queue.
# "waiting" is "queued" with a later due time (next_attempt_at): every count of open work
# includes it; only the claim tells them apart (see queue.claim).
OPEN_STATES = ("queued", "waiting", "callback")
UNFINISHED_STATES = ("queued", "waiting", "callback", "follow_up")


def queued_state(due: datetime | None, now: datetime) -> str:
    """The state of a task in the queue that is next callable at `due`: waiting until then."""
    return "waiting" if due is not None and due > now else "queued"


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
    purpose: str = "calls"  # or "verification" (outreach.services.verification)

    @property
    def national(self) -> bool:
        return self.chamber_id is None

    def lease_until(self, now: datetime) -> datetime:
        return lease_until(now, self.lease_minutes)

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th unanswered attempt (the last delay repeats)."""
        delays = self.retry_delays or (60,)
        return timedelta(minutes=delays[min(max(attempts, 1), len(delays)) - 1])


@dataclass(frozen=True, slots=True)
class QueueContext:
    agent: AgentInfo
    campaign: CampaignRow
    chamber_id: int | None  # the chambers whose tasks the agent works here: one, or all (None)
    existing_call: int | None = None  # a call already stored with the uuid being recorded
    script: Any = None  # the campaign's script as stored (JSON list of questions)


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


_CAMPAIGN_COLUMNS = (
    "id",
    "name",
    "status",
    "chamber_id",
    "max_attempts",
    "retry_delays",
    "window_days",
    "window_hours",
    "skip_holidays",
    "max_attempts_30d",
    "callback_grace_minutes",
    "lease_minutes",
    "purpose",
)


def _campaign_row(values: dict[str, Any], chamber_code: str | None) -> CampaignRow:
    try:
        window = parse_window(
            values["window_days"], values["window_hours"], bool(values["skip_holidays"])
        )
    except InvalidWindow as exc:
        raise InvalidInput(
            _("campagne « {name} » : plage d'appel invalide ({reason})").format(
                name=values["name"], reason=exc
            )
        ) from None
    return CampaignRow(
        id=values["id"],
        name=values["name"],
        status=values["status"],
        chamber_id=values["chamber_id"],
        chamber_code=chamber_code,
        max_attempts=values["max_attempts"],
        retry_delays=tuple(int(d) for d in (values["retry_delays"] or [60])),
        window=window,
        max_attempts_30d=values["max_attempts_30d"],
        callback_grace_minutes=values["callback_grace_minutes"],
        lease_minutes=values["lease_minutes"],
        purpose=values["purpose"],
    )


@cache
def _campaign_stmt() -> Select[*tuple[Any, ...]]:
    k, kc = Campaign.__table__, Chamber.__table__.alias("kc")
    return (
        select(*(k.c[name] for name in _CAMPAIGN_COLUMNS), kc.c.code.label("k_chamber"))
        .select_from(k.outerjoin(kc, kc.c.id == k.c.chamber_id))
        .where(k.c.id == bindparam("campaign"))
    )


def load_campaign(session: Executor, campaign_id: int) -> CampaignRow:
    row = session.execute(_campaign_stmt(), {"campaign": campaign_id}).first()
    if row is None:
        raise NotFound(_("campagne inconnue : n° {id}").format(id=campaign_id))
    values = row._mapping
    return _campaign_row(dict(values), values["k_chamber"])


@cache
def _context_stmt() -> Select[*tuple[Any, ...]]:
    """Agent, campaign and (for a record) an existing call with the uuid: one round trip."""
    a, ch = Agent.__table__, Chamber.__table__
    k, kc = Campaign.__table__, Chamber.__table__.alias("kc")
    c = Call.__table__
    existing = select(c.c.id).where(c.c.uuid == bindparam("uuid")).scalar_subquery()
    return (
        select(
            a.c.id.label("a_id"),
            a.c.login.label("a_login"),
            a.c.name.label("a_name"),
            a.c.role.label("a_role"),
            a.c.chamber_id.label("a_chamber_id"),
            a.c.has_pin.label("a_has_pin"),
            ch.c.code.label("a_chamber"),
            *(k.c[name] for name in _CAMPAIGN_COLUMNS),
            kc.c.code.label("k_chamber"),
            k.c.script.label("k_script"),
            existing.label("existing_call"),
        )
        .select_from(
            a.join(ch, ch.c.id == a.c.chamber_id)
            .outerjoin(k, k.c.id == bindparam("campaign"))
            .outerjoin(kc, kc.c.id == k.c.chamber_id)
        )
        .where(a.c.id == bindparam("agent"))
    )


def load_context(
    session: Executor, agent_id: int, campaign_id: int, uuid: str | None = None
) -> QueueContext:
    """Agent, campaign and scope in one query; NotFound for an unknown agent or campaign,
    Forbidden for a campaign the agent may not work. With `uuid`, `existing_call` is the id of
    the call already stored with it."""
    row = session.execute(
        _context_stmt(), {"agent": agent_id, "campaign": campaign_id, "uuid": uuid or ""}
    ).first()
    return context_of_row(row, agent_id, campaign_id)


def context_of_row(row: Any, agent_id: int, campaign_id: int) -> QueueContext:
    """The QueueContext of a row of `_context_stmt` (or of a statement with its columns)."""
    if row is None:
        raise NotFound(_("agent inconnu : n° {id}").format(id=agent_id))
    v = row._mapping
    agent = AgentInfo(
        id=v["a_id"],
        login=v["a_login"],
        name=v["a_name"],
        role=v["a_role"],
        chamber_id=v["a_chamber_id"],
        chamber_code=v["a_chamber"],
        has_pin=bool(v["a_has_pin"]),
    )
    if v["id"] is None:
        raise NotFound(_("campagne inconnue : n° {id}").format(id=campaign_id))
    campaign = _campaign_row(dict(v), v["k_chamber"])
    return QueueContext(
        agent, campaign, scope_chamber(agent, campaign), v["existing_call"], v["k_script"]
    )
