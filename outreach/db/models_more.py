"""The models the agents' app does not read before its first business: record flags, referral
events and action plans, goals, call answers, the outcome catalogue, platforms, e-mails.

Imported on first use through `outreach.db.models` (its module `__getattr__`): every
`from outreach.db.models import CallAnswer` works as before. Why: SQLAlchemy's declarative
mapping costs about 0.2 ms a column at import, and these 8 tables have 67 of the 226; the
agents' app starts about 15 ms sooner without them (full-scale SQLite, 8 starts alternating
with and without: median 0.679 -> 0.664 s).
Whatever needs every table in `Base.metadata` (Alembic, the schema tests) calls
`outreach.db.models.load_all()`.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from outreach.db.models import (
    EMAIL_STATES,
    GOAL_METRICS,
    PLAN_ACTION_STATUSES,
    REFERRAL_STATES,
    Base,
    _in,
)


class RecordFlag(Base):
    """A business record an adviser reported wrong (hand-back), for a supervisor to resolve."""

    __tablename__ = "record_flags"
    __table_args__ = (Index("ix_record_flags_open", "resolved_at", "chamber_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chambers.id"))  # the business's chamber
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("call_tasks.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    resolution: Mapped[str | None] = mapped_column(String(16))  # requeue, drop
    resolution_note: Mapped[str | None] = mapped_column(Text)


class ReferralEvent(Base):
    """One change of a referral's state (from_state None: the referral's creation)."""

    __tablename__ = "referral_events"
    __table_args__ = (
        CheckConstraint(_in("to_state", REFERRAL_STATES), name="to_state"),
        Index("ix_referral_events_referral", "referral_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    # the appointment booked, the action plan set...: what else this change carried
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReferralAction(Base):
    """One action of a done diagnostic's action plan (outreach.domain.lifecycle.PLAN_ACTIONS)."""

    __tablename__ = "referral_actions"
    __table_args__ = (
        UniqueConstraint("referral_id", "action", name="uq_referral_actions_referral_action"),
        CheckConstraint(_in("status", PLAN_ACTION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="planned", server_default="planned")
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))


class Goal(Base):
    """A dated target of a scope: the network (chamber_id None) or one chamber."""

    __tablename__ = "goals"
    __table_args__ = (
        CheckConstraint(_in("metric", GOAL_METRICS), name="metric"),
        Index("ix_goals_metric_chamber", "metric", "chamber_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(32))
    target: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    chamber_id: Mapped[int | None] = mapped_column(ForeignKey("chambers.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))


class CallAnswer(Base):
    __tablename__ = "call_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    question: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str | None] = mapped_column(Text)


class OutcomeRow(Base):
    """The outcome catalogue, mirrored from `outreach.domain.outcomes` for BI tools."""

    __tablename__ = "outcomes"

    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    key: Mapped[str] = mapped_column(String(1), unique=True)
    label_fr: Mapped[str] = mapped_column(String(80))
    label_en: Mapped[str] = mapped_column(String(80))
    reached: Mapped[bool] = mapped_column(Boolean)
    effect: Mapped[str] = mapped_column(String(16))


class Platform(Base):
    """Labelled online-sales solutions ("clique mon commerce")."""

    __tablename__ = "platforms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[str] = mapped_column(String(32))


class EmailMessage(Base):
    """One e-mail to a business, rendered and queued in the transaction that asked for it and
    sent by `outreach mail send` or the worker of `outreach serve` (outreach.services.mail)."""

    __tablename__ = "email_messages"
    __table_args__ = (
        CheckConstraint(_in("state", EMAIL_STATES), name="state"),
        Index("ix_email_messages_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)  # the Message-ID header
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))  # who asked for it
    kind: Mapped[str] = mapped_column(String(24))  # referral, appointment
    language: Mapped[str] = mapped_column(String(2))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(250))
    body_text: Mapped[str] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)  # the appointment, as an iCalendar attachment
    state: Mapped[str] = mapped_column(String(12), default="queued", server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
