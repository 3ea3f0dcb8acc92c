"""Rows turned into the dataclasses the call screen shows (business, history, referrals)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from outreach.db.engine import Executor
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

# tables, not ORM entities: plain Core statements run with less overhead
TT = CallTask.__table__
BT = Business.__table__
CH = Chamber.__table__
CL = Call.__table__
AG = Agent.__table__
KG = Campaign.__table__
RF = Referral.__table__

BUSINESS_COLUMNS = (
    BT.c.id,
    BT.c.siret,
    BT.c.name,
    BT.c.trade_code,
    BT.c.trade_label,
    BT.c.address,
    BT.c.postcode,
    BT.c.city,
    BT.c.department,
    CH.c.code.label("chamber_code"),
    BT.c.phone,
    BT.c.phone_alt,
    BT.c.phone_flagged,
    BT.c.phone_alt_flagged,
    BT.c.status,
    BT.c.sells_online,
    BT.c.do_not_call,
    BT.c.employees,
    BT.c.email,
    BT.c.contact_name,
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
        contact_name=row.contact_name,
    )


def business_query() -> Select[*tuple[Any, ...]]:
    return select(*BUSINESS_COLUMNS).join(CH, CH.c.id == BT.c.chamber_id)


def load_business_views(session: Session, ids: list[int]) -> dict[int, BusinessView]:
    if not ids:
        return {}
    rows = session.execute(business_query().where(BT.c.id.in_(ids))).all()
    return {r.id: business_view(r) for r in rows}


@cache
def _history_stmt() -> Select[*tuple[Any, ...]]:
    latest = (
        select(CL.c.id)
        .where(CL.c.business_id == bindparam("business"))
        .order_by(CL.c.started_at.desc(), CL.c.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return (
        select(
            CL.c.id,
            CL.c.started_at,
            AG.c.login,
            AG.c.name,
            KG.c.name.label("campaign"),
            CL.c.outcome,
            CL.c.notes,
            RF.c.created_at.label("r_at"),
            RF.c.kind,
            RF.c.partner,
            RF.c.status,
        )
        .join(AG, AG.c.id == CL.c.agent_id)
        .join(KG, KG.c.id == CL.c.campaign_id)
        .outerjoin(RF, RF.c.call_id == CL.c.id)
        .where(CL.c.id.in_(latest))
        .order_by(CL.c.started_at.desc(), CL.c.id.desc(), RF.c.id)
    )


def history_and_referrals(
    session: Executor, business_id: int
) -> tuple[tuple[HistoryItem, ...], tuple[ReferralView, ...]]:
    """The business's latest calls in every campaign (newest first) and their referrals: one
    query."""
    return history_of_rows(session.execute(_history_stmt(), {"business": business_id}))


# the columns of a history row, in the order of _history_stmt
HISTORY_WIDTH = 11


def history_of_rows(
    rows: Iterable[Any],
) -> tuple[tuple[HistoryItem, ...], tuple[ReferralView, ...]]:
    """History and referrals from rows of (call id, started_at, login, name, campaign, outcome,
    notes, referral created_at, kind, partner, status), newest call first."""
    calls: dict[int, tuple[Any, ...]] = {}
    kinds: dict[int, list[str]] = {}
    refs: list[ReferralView] = []
    for r in rows:
        call_id, kind = r[0], r[8]
        calls.setdefault(call_id, tuple(r))
        if kind is not None:
            kinds.setdefault(call_id, []).append(kind)
            refs.append(
                ReferralView(
                    at=from_db(r[7]),
                    kind=kind,
                    partner=r[9],
                    status=r[10],
                    campaign=r[4],
                )
            )
    history = tuple(
        HistoryItem(
            started_at=from_db(c[1]),
            agent_login=c[2],
            agent_name=c[3],
            campaign=c[4],
            outcome=c[5],
            notes=c[6],
            referral_kinds=tuple(kinds.get(call_id, ())),
        )
        for call_id, c in calls.items()
    )
    refs.sort(key=lambda ref: ref.at, reverse=True)
    return history, tuple(refs)


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
                other=bool(q.get("other")),
            )
        )
    return tuple(out)


@cache
def _task_stmt() -> Select[*tuple[Any, ...]]:
    return (
        select(
            TT.c.id.label("task_id"),
            TT.c.campaign_id,
            TT.c.state,
            TT.c.attempts,
            TT.c.phone_index,
            TT.c.next_attempt_at,
            TT.c.lease_expires_at,
            KG.c.name.label("campaign_name"),
            KG.c.script,
            KG.c.script_intro,
            KG.c.window_days,
            KG.c.window_hours,
            KG.c.skip_holidays,
            *BUSINESS_COLUMNS,
        )
        .select_from(TT)
        .join(KG, KG.c.id == TT.c.campaign_id)
        .join(BT, BT.c.id == TT.c.business_id)
        .join(CH, CH.c.id == BT.c.chamber_id)
        .where(TT.c.id == bindparam("task"))
    )


def claimed_task(session: Executor, task_id: int) -> ClaimedTask:
    """Everything the call screen shows for a task just claimed: two queries."""
    t = session.execute(_task_stmt(), {"task": task_id}).one()
    return claimed_task_of(t, history_and_referrals(session, t.id))


def claimed_task_of(
    t: Any, seen: tuple[tuple[HistoryItem, ...], tuple[ReferralView, ...]]
) -> ClaimedTask:
    """The ClaimedTask of a row with _task_stmt's columns and the business's history."""
    business = business_view(t)
    phone = business.phone_alt if t.phone_index == 1 and business.phone_alt else business.phone
    past, refs = seen
    return ClaimedTask(
        task_id=t.task_id,
        campaign_id=t.campaign_id,
        campaign_name=t.campaign_name,
        business=business,
        phone_to_call=phone,
        attempts=t.attempts,
        lease_expires_at=from_db(t.lease_expires_at),
        is_callback=t.state == "callback",
        callback_at=from_db(t.next_attempt_at) if t.state == "callback" else None,
        history=past,
        referrals=refs,
        script=script_of(t.script),
        script_intro=t.script_intro,
        window=(t.window_days, t.window_hours, bool(t.skip_holidays)),
    )
