"""SQLAlchemy 2.x models. Table names are the data contract of DESIGN.md: never rename them.

Times are stored in UTC (naive `DateTime` columns holding UTC on both backends, so SQLite and
PostgreSQL compare them the same way).

The schema itself is Alembic's (db/versions): the partial indexes carry their WHERE for
SQLite here and for both backends in the migration. Naming `postgresql_where` here would import
SQLAlchemy's PostgreSQL dialect (about 30 ms) into every start of the agents' app on SQLite.

The models the agents' app does not read before its first business live in
`outreach.db.models_more`, mapped on first use (`LATER`, the module's `__getattr__`); they are
imported from here as the others are. `load_all()` gives the metadata with every table.
"""

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

AGENT_ROLES = ("agent", "supervisor", "admin")
BUSINESS_STATUSES = ("open", "closed_admin", "ceased")
CAMPAIGN_STATUSES = ("draft", "active", "paused", "closed")
CAMPAIGN_PURPOSES = ("calls", "verification")
# the referral lifecycle's states (outreach.domain.lifecycle.STATES, repeated here so the
# models import nothing of the domain)
REFERRAL_STATES = ("proposed", "accepted", "scheduled", "done", "declined", "no_show", "cancelled")
PLAN_ACTION_STATUSES = ("planned", "in_progress", "done", "dropped")
GOAL_METRICS = ("diagnostics_done", "closed_firms_helped", "businesses_verified_online", "contacts")
# queued: callable now, or held under a lease (claimed_by + lease_expires_at); waiting: queued for
# a later attempt (retry delay, 30-day cap, handed back), due at next_attempt_at, when a claim
# makes it queued again; callback: a callback is set; follow_up: reached with a referral to follow
# up; done, exhausted, cancelled: finished.
TASK_STATES = ("queued", "waiting", "callback", "follow_up", "done", "exhausted", "cancelled")
AGENT_STATES = ("ready", "on_call", "wrap_up", "paused", "logged_out")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        # Every model here is mapped to a Table (SQLAlchemy types it as any FromClause), so
        # `Model.__table__` can be given to insert() and update().
        __table__: ClassVar[Table]


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Chamber(Base):
    __tablename__ = "chambers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))  # head, regional, overseas, local_law


class Department(Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chambers.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(40))


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (CheckConstraint(_in("role", AGENT_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chambers.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="agent")
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    # readable by everyone where the hash is not (PostgreSQL grants: see db/security.py)
    has_pin: Mapped[bool] = mapped_column(Computed("pin_hash IS NOT NULL"))
    failed_pins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Business(Base):
    __tablename__ = "businesses"
    __table_args__ = (
        CheckConstraint(_in("status", BUSINESS_STATUSES), name="status"),
        CheckConstraint("length(siret) = 14", name="siret_length"),
        Index("ix_businesses_chamber_name", "chamber_id", "name_key"),
        # most businesses have no second number: index only those that do (SQLite's planner
        # would otherwise judge the index useless and scan the chamber on a phone search)
        Index(
            "ix_businesses_phone_alt",
            "phone_alt",
            sqlite_where=text("phone_alt IS NOT NULL"),
        ),
        # the few businesses never to call: the claim's anti-join reads this, not the table
        Index(
            "ix_businesses_no_call",
            "id",
            sqlite_where=text("do_not_call OR status = 'ceased'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    siren: Mapped[str] = mapped_column(String(9), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # name folded for search (lower case, no accents, single spaces)
    name_key: Mapped[str] = mapped_column(String(200))
    trade_code: Mapped[str | None] = mapped_column(String(8))  # NAFA, e.g. 10.71CZ
    trade_label: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(250))
    postcode: Mapped[str | None] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(120))
    department: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chambers.id"))
    phone: Mapped[str | None] = mapped_column(String(16), index=True)  # E.164
    phone_alt: Mapped[str | None] = mapped_column(String(16))  # E.164, partial index above
    phone_flagged: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    phone_alt_flagged: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    email: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(120))  # the person to ask for
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    employees: Mapped[int | None] = mapped_column(Integer)
    sells_online: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # when a verification call confirmed it sells online (None: never verified)
    sells_online_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    do_not_call: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    do_not_call_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Lockdown(Base):
    __tablename__ = "lockdowns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(80))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    shops_reopened_on: Mapped[date | None] = mapped_column(Date)


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(_in("status", CAMPAIGN_STATUSES), name="status"),
        CheckConstraint(_in("purpose", CAMPAIGN_PURPOSES), name="purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    lockdown_id: Mapped[int | None] = mapped_column(ForeignKey("lockdowns.id"), index=True)
    chamber_id: Mapped[int | None] = mapped_column(
        ForeignKey("chambers.id"), index=True
    )  # None: national
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    max_attempts: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    # minutes before the next attempt after the 1st, 2nd, ... unanswered attempt (last repeats)
    retry_delays: Mapped[list[int]] = mapped_column(JSON, default=lambda: [60, 240, 1440])
    # calling window: ISO weekdays (1 = Monday) and "HH:MM-HH:MM" ranges, in the business's zone
    window_days: Mapped[str] = mapped_column(String(7), default="12345", server_default="12345")
    window_hours: Mapped[str] = mapped_column(
        String(120), default="10:00-13:00,14:00-20:00", server_default="10:00-13:00,14:00-20:00"
    )
    skip_holidays: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    max_attempts_30d: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    callback_grace_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    lease_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    # the longest a wrap-up should take (outcome key to next business): the call screen's
    # wrap-up timer turns red past it, `rollup --times` counts the seconds over it
    max_wrap_up_seconds: Mapped[int] = mapped_column(Integer, default=120, server_default="120")
    # list of {"key": ..., "text": ..., "choices": [...] | null}
    script: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    script_intro: Mapped[str | None] = mapped_column(Text)
    target: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the segment it was filled from
    # calls: a calling campaign; verification: calls checking a helped firm now sells online
    purpose: Mapped[str] = mapped_column(String(16), default="calls", server_default="calls")
    # days after a referral is accepted before its business is queued for verification
    verify_after_days: Mapped[int] = mapped_column(Integer, default=21, server_default="21")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))


class CallTask(Base):
    __tablename__ = "call_tasks"
    __table_args__ = (
        UniqueConstraint("campaign_id", "business_id", name="uq_call_tasks_campaign_business"),
        CheckConstraint(_in("state", TASK_STATES), name="state"),
        # the claim: one campaign's queue, per chamber, in claim order
        Index(
            "ix_call_tasks_claim",
            "campaign_id",
            "state",
            "chamber_id",
            text("priority DESC"),
            "attempts",
            "id",
        ),
        # the claim of CMA France and admins in a national campaign: every chamber, same order
        Index(
            "ix_call_tasks_claim_all",
            "campaign_id",
            "state",
            text("priority DESC"),
            "attempts",
            "id",
        ),
        Index("ix_call_tasks_due", "campaign_id", "state", "next_attempt_at"),
        # the claim's team callbacks of one chamber, due first: through ix_call_tasks_due it
        # stepped over the due callbacks of every other chamber of a national campaign.
        # Partial on both backends (revision 0014); `postgresql_where` is left out here as for
        # ix_call_tasks_claimed_by: naming it loads SQLAlchemy's PostgreSQL dialect at import
        Index(
            "ix_call_tasks_team_callbacks",
            "campaign_id",
            "chamber_id",
            "next_attempt_at",
            "id",
            sqlite_where=text("state = 'callback'"),
        ),
        Index("ix_call_tasks_callback", "callback_agent_id", "state", "next_attempt_at"),
        Index("ix_call_tasks_business", "business_id"),
        # only held tasks: SQLite's statistics would otherwise see one value (NULL) and scan
        Index(
            "ix_call_tasks_claimed_by",
            "claimed_by",
            sqlite_where=text("claimed_by IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chambers.id"))  # the business's chamber
    department: Mapped[str] = mapped_column(String(3))  # the business's, for its calling window
    state: Mapped[str] = mapped_column(String(16), default="queued", server_default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    callback_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))  # personal owner
    callback_team_at: Mapped[datetime | None] = mapped_column(DateTime)  # opens to the team then
    phone_index: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )  # 0 main, 1 alt
    last_outcome: Mapped[str | None] = mapped_column(String(24))
    last_call_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # why a cancelled task left the campaign: a hand-back reason (not_target), flagged, ...
    end_reason: Mapped[str | None] = mapped_column(String(24))


class AgentSession(Base):
    """One run of the agents' app (terminal or browser): one live session per agent."""

    __tablename__ = "agent_sessions"
    __table_args__ = (Index("ix_agent_sessions_live", "agent_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    host: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # terminal, browser
    started_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)  # the heartbeat
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_business_started", "business_id", "started_at"),
        Index("ix_calls_campaign_started", "campaign_id", "started_at"),
        Index("ix_calls_agent_started", "agent_id", "started_at"),
        Index("ix_calls_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # made by the client
    task_id: Mapped[int | None] = mapped_column(ForeignKey("call_tasks.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chambers.id"))  # the business's chamber
    phone: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(24))
    reached: Mapped[bool] = mapped_column(Boolean)  # from the catalogue, kept for roll-ups
    notes: Mapped[str | None] = mapped_column(Text)
    callback_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_lost: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)  # when the server stored it


class Referral(Base):
    """A referral made during a call; its `status` moves only by outreach.domain.lifecycle and
    each move is a row of referral_events."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(_in("status", REFERRAL_STATES), name="status"),
        Index("ix_referrals_status_kind", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    kind: Mapped[str] = mapped_column(ForeignKey("referral_kinds.code"), index=True)
    partner: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="proposed", server_default="proposed")
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)  # its last change of state
    # a booked appointment (scheduled): when (UTC) and with which adviser
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime)
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # the follow-up worklist's lease, as on call_tasks: one adviser works a referral at a time
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    action: Mapped[str] = mapped_column(String(48))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # JSON: values of any type


class ReferralKindRow(Base):
    __tablename__ = "referral_kinds"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_fr: Mapped[str] = mapped_column(String(80))
    label_en: Mapped[str] = mapped_column(String(80))
    follow_up: Mapped[bool] = mapped_column(Boolean)


class PauseReasonRow(Base):
    """The pause-reason catalogue (data: seeded from `outreach.domain.agent_states`)."""

    __tablename__ = "pause_reasons"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(1))
    label_fr: Mapped[str] = mapped_column(String(80))
    label_en: Mapped[str] = mapped_column(String(80))
    max_minutes: Mapped[int | None] = mapped_column(Integer)
    needs_note: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class AgentStateEvent(Base):
    """One change of an adviser's state. The open row (ended_at NULL) is the current state; a
    live app pushes `expires_at` forward (heartbeat), so a crashed app's state ends there."""

    __tablename__ = "agent_state_events"
    __table_args__ = (
        CheckConstraint(_in("state", AGENT_STATES), name="state"),
        Index("ix_agent_state_events_agent_at", "agent_id", "at"),
        Index("ix_agent_state_events_at", "at"),
        # the current states only (one per adviser): what the live board reads
        Index(
            "ix_agent_state_events_open",
            "agent_id",
            sqlite_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(ForeignKey("pause_reasons.code"))
    note: Mapped[str | None] = mapped_column(String(200))
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"))
    # the campaign worked (on_call, wrap_up): its max_wrap_up_seconds for the time roll-up
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)  # the next state's `at`
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)  # lease; None: logged_out


# queued: waiting for its send time; sending: held by one sender; sent; failed: given up (or
# interrupted while sending: never retried, so a message is never sent twice); cancelled: the
# business opposed before it went.
EMAIL_STATES = ("queued", "sending", "sent", "failed", "cancelled")


# -- the models loaded on first use (outreach.db.models_more) ---------------------------------

LATER = (
    "CallAnswer",
    "EmailMessage",
    "Goal",
    "OutcomeRow",
    "Platform",
    "RecordFlag",
    "ReferralAction",
    "ReferralEvent",
)

if TYPE_CHECKING:
    from outreach.db.models_more import (
        CallAnswer as CallAnswer,
    )
    from outreach.db.models_more import (
        EmailMessage as EmailMessage,
    )
    from outreach.db.models_more import (
        Goal as Goal,
    )
    from outreach.db.models_more import (
        OutcomeRow as OutcomeRow,
    )
    from outreach.db.models_more import (
        Platform as Platform,
    )
    from outreach.db.models_more import (
        RecordFlag as RecordFlag,
    )
    from outreach.db.models_more import (
        ReferralAction as ReferralAction,
    )
    from outreach.db.models_more import (
        ReferralEvent as ReferralEvent,
    )


def __getattr__(name: str) -> Any:
    if name in LATER:
        from outreach.db import models_more

        return getattr(models_more, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_all() -> MetaData:
    """`Base.metadata` with every table of the schema in it (the later models loaded)."""
    import outreach.db.models_more  # noqa: F401

    return Base.metadata
