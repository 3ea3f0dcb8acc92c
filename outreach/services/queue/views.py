"""Rows turned into the dataclasses the call screen shows (business, history, referrals)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.db.models import Agent, Business, Call, CallTask, Campaign, Chamber, Referral
from outreach.domain.geography import timezone_of
from outreach.domain.phones import format_national
from outreach.services.clock import from_db
from outreach.services.types import (
    BusinessView,
    ClaimedTask,
    HistoryItem,
    ReferralView,
    ScriptQuestion,
)

HISTORY_LIMIT = 50

BUSINESS_COLUMNS = (
    Business.id,
    Business.siret,
    Business.name,
    Business.trade_code,
    Business.trade_label,
    Business.address,
    Business.postcode,
    Business.city,
    Business.department,
    Chamber.code.label("chamber_code"),
    Business.phone,
    Business.phone_alt,
    Business.phone_flagged,
    Business.phone_alt_flagged,
    Business.status,
    Business.sells_online,
    Business.do_not_call,
    Business.employees,
    Business.email,
)


def _display(e164: str | None) -> str | None:
    if not e164:
        return None
    try:
        return format_national(e164)
    except ValueError:
        return e164


def business_view(row: Any) -> BusinessView:
    return BusinessView(
        id=row.id,
        siret=row.siret,
        name=row.name,
        trade_code=row.trade_code,
        trade_label=row.trade_label,
        address=row.address,
        postcode=row.postcode,
        city=row.city,
        department=row.department,
        timezone=timezone_of(row.department),
        chamber_code=row.chamber_code,
        phone=row.phone,
        phone_alt=row.phone_alt,
        phone_display=_display(row.phone),
        phone_alt_display=_display(row.phone_alt),
        phone_flagged=bool(row.phone_flagged),
        phone_alt_flagged=bool(row.phone_alt_flagged),
        status=row.status,
        sells_online=bool(row.sells_online),
        do_not_call=bool(row.do_not_call),
        employees=row.employees,
        email=row.email,
    )


def business_query():  # type: ignore[no-untyped-def]
    return select(*BUSINESS_COLUMNS).join(Chamber, Chamber.id == Business.chamber_id)


def load_business_views(session: Session, ids: list[int]) -> dict[int, BusinessView]:
    if not ids:
        return {}
    rows = session.execute(business_query().where(Business.id.in_(ids))).all()
    return {r.id: business_view(r) for r in rows}


def history(session: Session, business_id: int) -> tuple[HistoryItem, ...]:
    """Earlier calls of the business in every campaign, newest first."""
    calls = session.execute(
        select(
            Call.id,
            Call.started_at,
            Agent.login,
            Agent.name,
            Campaign.name.label("campaign"),
            Call.outcome,
            Call.notes,
        )
        .join(Agent, Agent.id == Call.agent_id)
        .join(Campaign, Campaign.id == Call.campaign_id)
        .where(Call.business_id == business_id)
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    kinds: dict[int, list[str]] = {}
    if calls:
        for call_id, kind in session.execute(
            select(Referral.call_id, Referral.kind)
            .where(Referral.call_id.in_([c.id for c in calls]))
            .order_by(Referral.id)
        ):
            kinds.setdefault(call_id, []).append(kind)
    return tuple(
        HistoryItem(
            started_at=from_db(c.started_at),  # type: ignore[arg-type]
            agent_login=c.login,
            agent_name=c.name,
            campaign=c.campaign,
            outcome=c.outcome,
            notes=c.notes,
            referral_kinds=tuple(kinds.get(c.id, ())),
        )
        for c in calls
    )


def referrals(session: Session, business_id: int) -> tuple[ReferralView, ...]:
    rows = session.execute(
        select(
            Referral.created_at,
            Referral.kind,
            Referral.partner,
            Referral.status,
            Campaign.name,
        )
        .join(Call, Call.id == Referral.call_id)
        .join(Campaign, Campaign.id == Call.campaign_id)
        .where(Referral.business_id == business_id)
        .order_by(Referral.created_at.desc(), Referral.id.desc())
    ).all()
    return tuple(
        ReferralView(at=from_db(r[0]), kind=r[1], partner=r[2], status=r[3], campaign=r[4])  # type: ignore[arg-type]
        for r in rows
    )


def script_of(raw: Any) -> tuple[ScriptQuestion, ...]:
    out = []
    for q in raw or []:
        if not isinstance(q, dict) or not q.get("key"):
            continue
        choices = q.get("choices") or ()
        out.append(
            ScriptQuestion(
                key=str(q["key"]),
                text=str(q.get("text") or q["key"]),
                choices=tuple(str(c) for c in choices),
            )
        )
    return tuple(out)


def claimed_task(session: Session, task_id: int) -> ClaimedTask:
    """Everything the call screen shows for a task just claimed (read after the claim)."""
    t = session.execute(
        select(
            CallTask,
            Campaign.name,
            Campaign.script,
            Campaign.script_intro,
        )
        .join(Campaign, Campaign.id == CallTask.campaign_id)
        .where(CallTask.id == task_id)
    ).one()
    task, campaign_name, script, intro = t
    business = load_business_views(session, [task.business_id])[task.business_id]
    phone = business.phone_alt if task.phone_index == 1 and business.phone_alt else business.phone
    return ClaimedTask(
        task_id=task.id,
        campaign_id=task.campaign_id,
        campaign_name=campaign_name,
        business=business,
        phone_to_call=phone,
        attempts=task.attempts,
        lease_expires_at=from_db(task.lease_expires_at),  # type: ignore[arg-type]
        is_callback=task.state == "callback",
        callback_at=from_db(task.next_attempt_at) if task.state == "callback" else None,
        history=history(session, task.business_id),
        referrals=referrals(session, task.business_id),
        script=script_of(script),
        script_intro=intro,
    )
