"""Queueing an e-mail to a business, in the caller's transaction (the call that asked for it, the
booking of a diagnostic): rendered now, stored in `email_messages`, sent later by the sender.

No address, an address that cannot be one, or an opposition: nothing is queued and the caller
gets the reason to show.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from outreach.db.engine import Executor
from outreach.db.models import Agent, Business, Chamber, EmailMessage
from outreach.domain import mail as rules
from outreach.domain.referrals import PLATFORMS, REFERRAL_KINDS_BY_CODE
from outreach.services.audit import record_audit
from outreach.services.mail.compose import Appointment, MailFacts, mail_language, render

_CATEGORY = dict(PLATFORMS)


@dataclass(frozen=True, slots=True)
class MailDecision:
    """What became of an e-mail asked for: queued to `to`, or not, and why (domain.mail)."""

    queued: bool
    reason: str | None = None  # no_address, bad_address, opposition
    to: str | None = None
    message_id: int | None = None


def _facts_base(session: Executor, business_id: int, agent_id: int | None) -> tuple[Any, str]:
    row = session.execute(
        select(
            Business.name,
            Business.email,
            Business.do_not_call,
            Business.address,
            Business.postcode,
            Business.city,
            Chamber.name.label("chamber_name"),
        )
        .join(Chamber, Chamber.id == Business.chamber_id)
        .where(Business.id == business_id)
    ).one()
    adviser = ""
    if agent_id is not None:
        adviser = session.scalar(select(Agent.name).where(Agent.id == agent_id)) or ""
    return row, adviser


def _refused(biz: Any) -> MailDecision | None:
    """The decision not to write to this business (domain.mail's rule), or None."""
    reason = rules.refusal(biz.email, bool(biz.do_not_call))
    if reason is None:
        return None
    return MailDecision(False, reason, (biz.email or "").strip() or None)


def _store(
    session: Executor,
    *,
    kind: str,
    business_id: int,
    to: str,
    facts: MailFacts,
    agent_id: int | None,
    now: datetime,
    call_id: int | None = None,
    referral_id: int | None = None,
) -> MailDecision:
    language = mail_language()
    message_id = f"<{uuid.uuid4().hex}@outreach.cma>"
    text = render(kind, language, facts, uid=message_id.strip("<>"))
    pk = session.execute(
        insert(EmailMessage.__table__)
        .values(
            message_id=message_id,
            business_id=business_id,
            call_id=call_id,
            referral_id=referral_id,
            agent_id=agent_id,
            kind=kind,
            language=language,
            to_address=to,
            subject=text.subject[:250],
            body_text=text.body,
            ics=text.ics,
            state="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .returning(EmailMessage.__table__.c.id)
    ).scalar_one()
    record_audit(
        session,
        agent_id=agent_id,
        action="email.queued",
        entity="email_message",
        entity_id=pk,
        detail={"kind": kind, "to": to, "business_id": business_id, "call_id": call_id},
        at=now,
    )
    return MailDecision(True, None, to, int(pk))


def queue_referral_email(
    session: Executor,
    *,
    business_id: int,
    call_id: int,
    agent_id: int,
    referrals: Sequence[tuple[str, str | None]],  # (kind, partner)
    now: datetime,
    appointment: Appointment | None = None,
) -> MailDecision:
    """After a reached call with referrals: the autodiagnostic link, the referrals made and the
    labelled platforms picked (and the appointment if one is already booked)."""
    biz, adviser = _facts_base(session, business_id, agent_id)
    if (refused := _refused(biz)) is not None:
        return refused
    english = mail_language() == "en"
    kinds = tuple(
        REFERRAL_KINDS_BY_CODE[k].label("en" if english else "fr")
        for k in dict.fromkeys(kind for kind, _ in referrals)
        if k in REFERRAL_KINDS_BY_CODE
    )
    platforms = tuple(
        (p, _CATEGORY.get(p, "site")) for p in dict.fromkeys(p for _, p in referrals if p)
    )
    facts = MailFacts(
        business_name=biz.name,
        chamber_name=biz.chamber_name,
        adviser_name=adviser,
        kinds=kinds,
        platforms=platforms,
        diagnostic=any(kind == "digital_diagnostic" for kind, _ in referrals),
        appointment=appointment,
    )
    return _store(
        session,
        kind="referral",
        business_id=business_id,
        to=biz.email.strip(),
        facts=facts,
        agent_id=agent_id,
        now=now,
        call_id=call_id,
    )


def queue_appointment_email(
    session: Executor,
    *,
    business_id: int,
    referral_id: int | None,
    agent_id: int | None,
    appointment: Appointment,
    now: datetime,
) -> MailDecision:
    """A diagnostic booked: its date and time, with the .ics invitation."""
    biz, adviser = _facts_base(session, business_id, agent_id)
    if (refused := _refused(biz)) is not None:
        return refused
    location = ", ".join(
        p for p in (biz.address, f"{biz.postcode or ''} {biz.city or ''}".strip()) if p
    )
    facts = MailFacts(
        business_name=biz.name,
        chamber_name=biz.chamber_name,
        adviser_name=appointment.adviser_name or adviser,
        diagnostic=True,
        appointment=Appointment(
            appointment.starts_at,
            appointment.zone,
            appointment.adviser_name or adviser,
            appointment.location or location or None,
        ),
    )
    return _store(
        session,
        kind="appointment",
        business_id=business_id,
        to=biz.email.strip(),
        facts=facts,
        agent_id=agent_id,
        now=now,
        referral_id=referral_id,
    )
