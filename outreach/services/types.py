"""Plain dataclasses the services hand to the TUI, the CLI and the scripts (never ORM rows).

Times are timezone-aware UTC datetimes; the UI converts them for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AgentInfo:
    id: int
    login: str
    name: str
    role: str  # agent, supervisor, admin
    chamber_id: int
    chamber_code: str
    has_pin: bool = False

    @property
    def is_supervisor(self) -> bool:
        return self.role in ("supervisor", "admin")


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    id: int
    name: str
    status: str
    lockdown: str | None  # lockdown name, e.g. confinement-2
    chamber_code: str | None  # None: national
    queued: int  # tasks the agent could be offered (queued or callback, not finished)
    due_callbacks: int  # callbacks due now that the agent may take
    my_calls_today: int
    my_reached_today: int


@dataclass(frozen=True, slots=True)
class BusinessView:
    id: int
    siret: str
    name: str
    trade_code: str | None
    trade_label: str | None
    address: str | None
    postcode: str | None
    city: str | None
    department: str
    timezone: str
    chamber_code: str
    phone: str | None  # E.164
    phone_alt: str | None
    phone_display: str | None  # national format, e.g. 06 12 34 56 78
    phone_alt_display: str | None
    phone_flagged: bool
    phone_alt_flagged: bool
    status: str  # open, closed_admin, ceased
    sells_online: bool
    do_not_call: bool
    employees: int | None = None
    email: str | None = None
    contact_name: str | None = None  # the person to ask for (dirigeant, gérant...)


@dataclass(frozen=True, slots=True)
class ReferralView:
    at: datetime
    kind: str
    partner: str | None
    status: str
    campaign: str


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One earlier call of the business, in any campaign."""

    started_at: datetime
    agent_login: str
    agent_name: str
    campaign: str
    outcome: str
    notes: str | None
    referral_kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScriptQuestion:
    key: str
    text: str
    choices: tuple[str, ...] = ()
    other: bool = False  # with choices: another answer may be typed


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    """A business handed to an agent under a lease, with all the call screen shows."""

    task_id: int
    campaign_id: int
    campaign_name: str
    business: BusinessView
    phone_to_call: str | None  # E.164 of the number to dial now (main or alt)
    attempts: int
    lease_expires_at: datetime
    is_callback: bool
    callback_at: datetime | None
    history: tuple[HistoryItem, ...]
    referrals: tuple[ReferralView, ...]
    script: tuple[ScriptQuestion, ...]
    script_intro: str | None = None
    # the campaign's calling window (campaigns.window_days, window_hours, skip_holidays)
    window: tuple[str, str, bool] | None = None


def without_nul(text: str | None) -> str | None:
    """`text` without U+0000: PostgreSQL text cannot hold it (pasted text may carry one), so it
    is dropped on every backend rather than making a call impossible to save."""
    return text.replace("\x00", "") if text and "\x00" in text else text


@dataclass(frozen=True, slots=True)
class ReferralInput:
    kind: str  # a code of outreach.domain.referrals.REFERRAL_KINDS
    partner: str | None = None
    notes: str | None = None
    status: str = "proposed"
    email: bool = False  # send the firm an e-mail about the call's referrals (one per call)

    def __post_init__(self) -> None:
        for name in ("partner", "notes"):
            object.__setattr__(self, name, without_nul(getattr(self, name)))


@dataclass(frozen=True, slots=True)
class CallInput:
    """What the agent recorded. `uuid` is made by the client so a replay changes nothing."""

    uuid: str
    agent_id: int
    campaign_id: int
    business_id: int
    task_id: int | None
    outcome: str
    started_at: datetime
    ended_at: datetime
    phone: str | None = None
    notes: str | None = None
    callback_at: datetime | None = None
    callback_personal: bool = True
    referrals: tuple[ReferralInput, ...] = ()
    answers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "notes", without_nul(self.notes))
        if any("\x00" in (v or "") for v in self.answers.values()):
            object.__setattr__(
                self, "answers", {k: without_nul(v) for k, v in self.answers.items()}
            )


@dataclass(frozen=True, slots=True)
class RecordResult:
    call_id: int
    uuid: str
    replayed: bool  # this uuid was already stored: nothing changed, the first result is returned
    lease_lost: bool  # the agent's lease had gone: the call is saved, the task left consistent
    task_state: str | None
    next_attempt_at: datetime | None
    email_to: str | None = None  # an e-mail was queued to this address
    email_refused: str | None = None  # asked for but not queued: domain.mail's reason


@dataclass(frozen=True, slots=True)
class EmptyQueue:
    """Why nothing can be claimed now."""

    reason: str  # all_done, retry_delay, outside_window, nothing_in_chamber, campaign_paused, ...
    message: str  # for a person, in the current language
    next_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CallbackItem:
    task_id: int
    campaign_id: int
    campaign_name: str
    business_id: int
    business_name: str
    callback_at: datetime
    personal: bool  # owned by this agent (False: open to the team)
    due: bool


@dataclass(frozen=True, slots=True)
class BusinessHit:
    """A search result for an inbound call."""

    business: BusinessView
    campaigns: tuple[tuple[int, str, str], ...]  # (campaign_id, campaign name, task state)


@dataclass(frozen=True, slots=True)
class ReferralEventView:
    at: datetime
    agent_login: str | None
    from_state: str | None  # None: the referral's creation
    to_state: str
    note: str | None


@dataclass(frozen=True, slots=True)
class PlanActionView:
    action: str  # a code of outreach.domain.lifecycle.PLAN_ACTIONS
    status: str  # planned, in_progress, done, dropped


@dataclass(frozen=True, slots=True)
class ReferralDetail:
    """One referral with its history and action plan (times aware UTC)."""

    id: int
    kind: str
    partner: str | None
    state: str
    notes: str | None
    business_id: int
    business_name: str
    timezone: str  # the business's, for showing and booking appointments
    created_at: datetime
    updated_at: datetime | None
    scheduled_at: datetime | None
    adviser_login: str | None
    allowed: tuple[str, ...]  # the states it may move to next
    events: tuple[ReferralEventView, ...]
    actions: tuple[PlanActionView, ...]
    email_to: str | None = None  # a booking's invitation was queued to this address
    email_refused: str | None = None  # ... or was not: domain.mail's reason


@dataclass(frozen=True, slots=True)
class FollowUpItem:
    """One line of the follow-up worklist (times aware UTC)."""

    referral_id: int
    kind: str
    partner: str | None
    state: str
    business_id: int
    business_name: str
    city: str | None
    department: str
    due_at: datetime
    overdue: bool
    held_by: str | None  # login of another adviser working it now, else None
