"""Messages the thread workers post back to the screens: small dataclasses, nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from outreach.services.sessions import OpenedSession
from outreach.services.types import (
    AgentInfo,
    BusinessHit,
    BusinessView,
    CallbackItem,
    CallInput,
    CampaignSummary,
    ClaimedTask,
    EmptyQueue,
    FollowUpItem,
    RecordResult,
    ReferralDetail,
)


@dataclass
class LoggedIn(Message):
    agent: AgentInfo
    campaigns: list[CampaignSummary] | None = None  # read with the login (None: not read)
    session: OpenedSession | None = None  # this run's agent session (None: not opened)


@dataclass
class SessionTaken(Message):
    """This agent's session was ended by a newer one (another window or host)."""


@dataclass
class LoginRefused(Message):
    message: str
    ask_pin: bool = True


@dataclass
class LoginNeeded(Message):
    """`--agent LOGIN` cannot go straight in: the login form, with why (None: a PIN is needed)."""

    login: str
    error: str | None = None


@dataclass
class CampaignsLoaded(Message):
    campaigns: list[CampaignSummary]


@dataclass
class TaskReady(Message):
    """The business to call now, or None with why the queue is empty (None when offline)."""

    task: ClaimedTask | None
    empty: EmptyQueue | None = None
    offline: str | None = None  # why the database could not be reached
    waiting: int = 0  # then: this agent's calls in the outbox


@dataclass
class CallSaved(Message):
    """An outcome was saved (result) or kept in the outbox (result None)."""

    outcome: str
    result: RecordResult | None
    call: CallInput | None = None
    damaged: str | None = None  # kept in the outbox as the database was found damaged: why


@dataclass
class CallUndone(Message):
    """The call just saved was undone: its business is shown again, held by the agent."""

    task: ClaimedTask
    call: CallInput


@dataclass
class LeaseLost(Message):
    task_id: int


@dataclass
class OutboxChanged(Message):
    waiting: int
    replayed: int = 0
    error: str | None = None
    refused: int = 0
    quarantined: int = 0  # unreadable lines moved aside by this replay
    quarantine: str | None = None  # the file they went to


@dataclass
class CallbacksLoaded(Message):
    items: list[CallbackItem]


@dataclass
class SearchDone(Message):
    query: str
    hits: list[BusinessHit]


if TYPE_CHECKING:
    from outreach.services.agent_times import MyDay


@dataclass
class MyDayLoaded(Message):
    day: MyDay
    waiting: int  # calls of mine still in the outbox


@dataclass
class FollowUpsLoaded(Message):
    items: list[FollowUpItem]


@dataclass
class FollowUpReady(Message):
    """The referral worked on the follow-up screen, after its claim or a change."""

    detail: ReferralDetail
    business: BusinessView | None


@dataclass
class FollowUpFailed(Message):
    error: str
    leave: bool = False  # the referral could not be taken: back to the list


# -- what a screen asks of the app (posted on the screen, they bubble up to it) ----------------


@dataclass
class CampaignEntered(Message):
    """The campaign worked now, for the status line ("" on the campaigns list)."""

    name: str


@dataclass
class CampaignsShown(Message):
    """The agent's active campaigns as just shown (the search picks among them), with today's
    own counts."""

    campaigns: list[CampaignSummary]


@dataclass
class OpenCampaign(Message):
    """The agent picked a campaign: its call screen."""

    campaign: CampaignSummary


@dataclass
class CallCounted(Message):
    """Today's own counts: +1 for a call saved, -1 (`step`) for a call undone."""

    reached: bool
    step: int = 1
