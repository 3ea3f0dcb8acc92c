"""The follow-up side of a seeded history: each follow-up referral's lifecycle (events, booked
and done diagnostics with their action plans, no-shows, cancellations, refusals), verification
calls of the firms helped to sell online, and the goals of the network and of each chamber, in
the seed document's proportions (5,000 diagnostics over four months, 16,000 closed firms).

Runs inside the seed's transaction once every call is written (`seed._finish`), reading back the
referrals it completes; the same random seed gives the same histories.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from outreach.db.models import (
    Business,
    Call,
    CallAnswer,
    CallTask,
    Goal,
    Referral,
    ReferralAction,
    ReferralEvent,
)
from outreach.domain import lifecycle as lc
from outreach.services.goals import split_target
from outreach.services.seeding.plan import Plan
from outreach.services.verification import HOW, QUESTION, VERIFY_KINDS, verification_campaign

FOLLOW_KINDS = (lc.DIAGNOSTIC, *VERIFY_KINDS)
_ACTION_STATUS = ("done",) * 4 + ("in_progress",) * 3 + ("planned",) * 2 + ("dropped",)
_HOW = ("site", "plateforme", "clic et collecte", "réseaux sociaux")
VERIFY_SHARE = 0.7  # of the firms queued for verification, those already called


def _days(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(days=rng.uniform(low, high))


def _on_the_hour(moment: datetime, rng: random.Random) -> datetime:
    """A working-hours appointment that day (08:00-16:00 UTC, on the hour)."""
    return moment.replace(hour=8 + int(rng.random() * 8), minute=0, second=0, microsecond=0)


def _path(kind: str, status: str, created: datetime, now: datetime, rng: random.Random) -> Any:
    """[(state, at)] after the creation, and the appointment (or None)."""
    moves: list[tuple[str, datetime]] = []
    appointment = None
    accepted = created + _days(rng, 0.5, 3)
    if status == lc.DECLINED or (status == lc.PROPOSED and rng.random() < 0.5):
        return [(lc.DECLINED, created + _days(rng, 1, 5))], None
    if status == lc.PROPOSED:
        return [], None
    moves.append((lc.ACCEPTED, accepted))
    if kind != lc.DIAGNOSTIC:
        if status == lc.DONE:
            moves.append((lc.DONE, accepted + _days(rng, 3, 20)))
        elif rng.random() < 0.2:
            moves.append((lc.CANCELLED, accepted + _days(rng, 5, 30)))
        return moves, None
    booked = accepted + _days(rng, 1, 5)
    appointment = _on_the_hour(booked + _days(rng, 7, 20), rng)
    draw = rng.random()
    if status == lc.ACCEPTED and draw < 0.4:  # booked, the appointment still to come
        appointment = _on_the_hour(now + _days(rng, 1, 14), rng)
        moves.append((lc.SCHEDULED, min(booked, now - timedelta(hours=1))))
        return moves, appointment
    if status == lc.ACCEPTED and draw >= 0.6:
        return moves, None
    moves.append((lc.SCHEDULED, booked))
    if appointment >= now:
        return moves, appointment
    if status == lc.DONE:
        moves.append((lc.DONE, appointment + timedelta(hours=2)))
    else:
        moves.append((lc.NO_SHOW, appointment + timedelta(hours=1)))
        if draw < 0.5:
            moves.append((lc.CANCELLED, appointment + _days(rng, 2, 10)))
    return moves, appointment


def seed_followups(conn: Connection, plan: Plan, seed: int, now: datetime, admin: int) -> None:
    """Complete the follow-up referrals' lifecycles, verify the helped firms, set the goals."""
    rng = random.Random(seed * 31 + 7)
    rows = conn.execute(
        select(
            Referral.id,
            Referral.kind,
            Referral.status,
            Referral.created_at,
            Referral.business_id,
            Call.agent_id,
            Call.campaign_id,
        )
        .join(Call, Call.id == Referral.call_id)
        .where(Referral.kind.in_(FOLLOW_KINDS))
        .order_by(Referral.id)
    ).all()
    events: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    to_verify: dict[int, tuple[datetime, int]] = {}  # business -> (done at, agent)
    for r in rows:
        status = lc.ACCEPTED if r.kind == lc.DIAGNOSTIC and r.status == lc.DECLINED else r.status
        moves, appointment = _path(r.kind, status, r.created_at, now, rng)
        events.append(_event(r.id, r.created_at, r.agent_id, None, lc.PROPOSED, None))
        state = lc.PROPOSED
        for to_state, at in moves:
            detail = None
            if to_state == lc.SCHEDULED:
                detail = {"scheduled_at": appointment.isoformat(), "adviser_id": r.agent_id}
            events.append(_event(r.id, at, r.agent_id, state, to_state, detail))
            state = to_state
        last = moves[-1][1] if moves else r.created_at
        changes.append(
            {
                "rid": r.id,
                "status": state,
                "updated_at": last,
                "scheduled_at": appointment,
                "adviser_id": r.agent_id if appointment else None,
            }
        )
        if r.kind == lc.DIAGNOSTIC and state == lc.DONE:
            for code in rng.sample(lc.PLAN_ACTION_CODES, 2 + int(rng.random() * 3)):
                status_now = _ACTION_STATUS[int(rng.random() * len(_ACTION_STATUS))]
                actions.append(
                    {
                        "referral_id": r.id,
                        "action": code,
                        "status": status_now,
                        "updated_at": last,
                        "updated_by": r.agent_id,
                    }
                )
        if r.kind in VERIFY_KINDS and state == lc.DONE:
            to_verify.setdefault(r.business_id, (last, r.agent_id))
    if changes:
        conn.execute(
            update(Referral.__table__)
            .where(Referral.__table__.c.id == _bind("rid"))
            .values(
                status=_bind("status"),
                updated_at=_bind("updated_at"),
                scheduled_at=_bind("scheduled_at"),
                adviser_id=_bind("adviser_id"),
            ),
            changes,
        )
    if events:
        conn.execute(insert(ReferralEvent.__table__), events)
    if actions:
        conn.execute(insert(ReferralAction.__table__), actions)
    _verify(conn, to_verify, now, admin, rng)
    _goals(conn, plan, now, admin)


def _bind(name: str) -> Any:
    return bindparam(name)


def _event(
    rid: int, at: datetime, agent: int, src: str | None, dst: str, detail: Any
) -> dict[str, Any]:
    return {
        "referral_id": rid,
        "at": at,
        "agent_id": agent,
        "from_state": src,
        "to_state": dst,
        "note": None,
        "detail": detail,
    }


def _verify(
    conn: Connection,
    to_verify: dict[int, tuple[datetime, int]],
    now: datetime,
    admin: int,
    rng: random.Random,
) -> None:
    """Queue each helped firm in its chamber's verification campaign; most are already called
    (reached), and the answer sets sells_online and its verification time."""
    if not to_verify:
        return
    B = Business.__table__
    firms = conn.execute(
        select(B.c.id, B.c.chamber_id, B.c.department, B.c.phone, B.c.do_not_call, B.c.status)
        .where(B.c.id.in_(sorted(to_verify)))
        .order_by(B.c.id)
    ).all()
    campaigns: dict[int, int] = {}
    tasks: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    answers: list[tuple[int, bool, str]] = []  # (index in calls, online, how)
    verified: list[dict[str, Any]] = []
    for f in firms:
        if f.do_not_call or f.status == "ceased":
            continue
        if f.chamber_id not in campaigns:
            campaigns[f.chamber_id] = verification_campaign(conn, f.chamber_id, now, admin)
        done_at, agent = to_verify[f.id]
        called = rng.random() < VERIFY_SHARE
        started = min(done_at + _days(rng, 21, 40), now - timedelta(days=1))
        task = {
            "campaign_id": campaigns[f.chamber_id],
            "business_id": f.id,
            "chamber_id": f.chamber_id,
            "department": f.department,
            "state": "done" if called else "queued",
            "attempts": 1 if called else 0,
            "last_outcome": "reached" if called else None,
            "last_call_at": started if called else None,
            "created_at": done_at,
            "updated_at": started if called else done_at,
        }
        tasks.append(task)
        if called:
            online = rng.random() < 0.75
            how = _HOW[int(rng.random() * len(_HOW))]
            calls.append(
                {
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "campaign_id": task["campaign_id"],
                    "business_id": f.id,
                    "agent_id": agent,
                    "chamber_id": f.chamber_id,
                    "phone": f.phone,
                    "started_at": started,
                    "ended_at": started + timedelta(minutes=4),
                    "outcome": "reached",
                    "reached": True,
                    "lease_lost": False,
                    "recorded_at": started + timedelta(minutes=4),
                    "task_index": len(tasks) - 1,
                }
            )
            answers.append((len(calls) - 1, online, how))
            verified.append(
                {
                    "bid": f.id,
                    "online": online,
                    "at": started + timedelta(minutes=4) if online else None,
                }
            )
    T, C = CallTask.__table__, Call.__table__
    task_ids = list(
        conn.execute(insert(T).returning(T.c.id, sort_by_parameter_order=True), tasks).scalars()
    )
    for call in calls:
        call["task_id"] = task_ids[call.pop("task_index")]
    call_ids = (
        list(
            conn.execute(insert(C).returning(C.c.id, sort_by_parameter_order=True), calls).scalars()
        )
        if calls
        else []
    )
    rows = []
    for index, online, how in answers:
        rows.append(
            {"call_id": call_ids[index], "question": QUESTION, "answer": "oui" if online else "non"}
        )
        if online:
            rows.append({"call_id": call_ids[index], "question": HOW, "answer": how})
    if rows:
        conn.execute(insert(CallAnswer.__table__), rows)
    if verified:
        conn.execute(
            update(B)
            .where(B.c.id == _bind("bid"))
            .values(sells_online=_bind("online"), sells_online_verified_at=_bind("at")),
            verified,
        )


def _goals(conn: Connection, plan: Plan, now: datetime, admin: int) -> None:
    """The network's goals, each split between the chambers by their closed firms."""
    contacts = plan.l1.calls + plan.l2.calls + plan.cc.calls + plan.l3.calls
    goals = (
        ("diagnostics_done", plan.diagnostics, date(2020, 12, 1), date(2021, 3, 31)),
        ("closed_firms_helped", plan.cc.tasks, date(2020, 10, 30), date(2021, 3, 31)),
        (
            "businesses_verified_online",
            max(1, plan.cc.tasks // 2),
            date(2020, 10, 30),
            date(2021, 6, 30),
        ),
        ("contacts", contacts, date(2020, 3, 17), date(2021, 5, 3)),
    )
    weights = dict(
        conn.execute(
            select(Business.chamber_id, func.count(Business.id))
            .where(Business.status == "closed_admin")
            .group_by(Business.chamber_id)
        ).all()
    )
    rows = []
    for metric, target, starts_on, ends_on in goals:
        shares: list[tuple[int | None, int]] = [(None, target)]
        if weights:
            shares += sorted(split_target(target, weights).items())
        for chamber_id, value in shares:
            rows.append(
                {
                    "metric": metric,
                    "target": value,
                    "starts_on": starts_on,
                    "ends_on": ends_on,
                    "chamber_id": chamber_id,
                    "created_at": now,
                    "created_by": admin,
                }
            )
    conn.execute(insert(Goal.__table__), rows)
