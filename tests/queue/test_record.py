"""Recording calls: outcome rules from the catalogue, replay, lost leases, errors writing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from outreach.db.engine import Database
from outreach.db.models import AuditLog, Base, Business, Call, CallAnswer, CallTask, Referral
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.services.queue import (
    claim_next,
    lift_do_not_call,
    my_callbacks,
    record_call,
)
from outreach.services.types import CallInput, ClaimedTask, ReferralInput
from tests.factories import call_on, claim, make_agent, make_business, make_campaign, make_task

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _call(agent: int, task: ClaimedTask, outcome: str, at: datetime = NOW, **kw: Any) -> CallInput:
    return call_on(agent, task, outcome, at, **kw)


def _task(db: Database, task_id: int) -> CallTask:
    with db.reading() as s:
        return s.execute(select(CallTask).where(CallTask.id == task_id)).scalar_one()


def _count(db: Database, model: type[Base]) -> int:
    with db.reading() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _setup(db: Database, **campaign: Any) -> tuple[int, int]:
    agent = make_agent(db)
    camp = make_campaign(db, **campaign)
    return agent, camp


def test_reached_done_with_answers_and_audit(db: Database) -> None:
    agent, camp = _setup(db)
    tid = make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    res = record_call(db, _call(agent, t, "reached", answers={"online": "non"}), now=NOW)
    assert (res.task_state, res.replayed, res.lease_lost) == ("done", False, False)
    task = _task(db, tid)
    assert (task.state, task.attempts, task.claimed_by, task.lease_expires_at) == (
        "done",
        1,
        None,
        None,
    )
    with db.reading() as s:
        call = s.execute(select(Call)).scalar_one()
        assert call.reached and call.outcome == "reached"
        assert s.execute(select(CallAnswer.question, CallAnswer.answer)).all() == [
            ("online", "non")
        ]
        actions = s.execute(select(AuditLog.action)).scalars().all()
    assert "call.record" in actions


def test_referral_with_follow_up_turns_done_into_follow_up(db: Database) -> None:
    agent, camp = _setup(db)
    tid = make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    refs = (ReferralInput("platform", partner="Wizishop"), ReferralInput("click_and_collect"))
    res = record_call(db, _call(agent, t, "reached", referrals=refs), now=NOW)
    assert res.task_state == "follow_up" and _task(db, tid).state == "follow_up"
    assert _count(db, Referral) == 2


def test_retry_delays_grow_then_exhausted(db: Database) -> None:
    agent, camp = _setup(db, max_attempts=3, retry_delays=[60, 240], max_attempts_30d=10)
    tid = make_task(db, camp, make_business(db))
    at = NOW
    expected = [timedelta(minutes=60), timedelta(minutes=240)]
    for outcome, delay in zip(["no_answer", "busy"], expected, strict=True):
        t = claim(db, agent, camp, now=at)
        assert t is not None and t.task_id == tid
        res = record_call(db, _call(agent, t, outcome, at), now=at)
        # waiting for its next attempt, out of the claim's way until then
        assert res.task_state == "waiting" and res.next_attempt_at == at + delay
        assert _task(db, tid).state == "waiting"
        assert claim_next(db, agent, camp, now=at + delay - timedelta(minutes=1)) is None
        at = at + delay
    t = claim(db, agent, camp, now=at)
    res = record_call(db, _call(agent, t, "voicemail", at), now=at)
    assert res.task_state == "exhausted" and _task(db, tid).attempts == 3


def test_wrong_number_tries_alt_then_exhausted_and_flagged(db: Database) -> None:
    agent, camp = _setup(db)
    biz = make_business(db, phone="+33612345678", phone_alt="+33145678901")
    tid = make_task(db, camp, biz)
    t = claim(db, agent, camp, now=NOW)
    assert t.phone_to_call == "+33612345678"
    assert record_call(db, _call(agent, t, "wrong_number"), now=NOW).task_state == "queued"
    t = claim(db, agent, camp, now=NOW)
    assert t.phone_to_call == "+33145678901"
    assert record_call(db, _call(agent, t, "wrong_number"), now=NOW).task_state == "exhausted"
    with db.reading() as s:
        b = s.execute(select(Business).where(Business.id == biz)).scalar_one()
        assert b.phone_flagged and b.phone_alt_flagged
    assert _task(db, tid).phone_index == 1


def test_wrong_number_without_alt_is_exhausted(db: Database) -> None:
    agent, camp = _setup(db)
    biz = make_business(db)
    make_task(db, camp, biz)
    t = claim(db, agent, camp, now=NOW)
    assert record_call(db, _call(agent, t, "wrong_number"), now=NOW).task_state == "exhausted"
    with db.reading() as s:
        assert s.execute(select(Business.phone_flagged).where(Business.id == biz)).scalar()


def test_callback_personal_then_team_after_grace(db: Database) -> None:
    agent, camp = _setup(db, callback_grace_minutes=30)
    other = make_agent(db)
    tid = make_task(db, camp, make_business(db))
    make_task(db, camp, make_business(db), priority=-1)  # a plain queued task, claimed last
    t = claim(db, agent, camp, now=NOW)
    when = NOW + timedelta(hours=2)
    res = record_call(db, _call(agent, t, "callback", callback_at=when), now=NOW)
    assert res.task_state == "callback" and res.next_attempt_at == when
    # the owner sees it, not yet due; the other agent does not see it
    mine = my_callbacks(db, agent, camp, now=NOW)
    assert [(c.task_id, c.personal, c.due) for c in mine] == [(tid, True, False)]
    assert my_callbacks(db, other, camp, now=NOW) == []
    # due: the owner gets it first; the other agent gets the plain task
    due = when + timedelta(minutes=1)
    got = claim_next(db, other, camp, now=due)
    assert got is not None and got.task_id != tid
    got = claim_next(db, agent, camp, now=due)
    assert got is not None and got.task_id == tid and got.is_callback and got.callback_at == when


def test_personal_callback_opens_to_team_after_grace(db: Database) -> None:
    agent, camp = _setup(db, callback_grace_minutes=30)
    other = make_agent(db)
    tid = make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    when = NOW + timedelta(hours=2)
    record_call(db, _call(agent, t, "callback", callback_at=when), now=NOW)
    assert claim_next(db, other, camp, now=when + timedelta(minutes=29)) is None
    later = when + timedelta(minutes=31)
    assert [c.personal for c in my_callbacks(db, other, camp, now=later)] == [False]
    got = claim_next(db, other, camp, now=later)
    assert got is not None and got.task_id == tid


def test_team_callback_open_to_all_when_due(db: Database) -> None:
    agent, camp = _setup(db)
    other = make_agent(db)
    tid = make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    when = NOW + timedelta(hours=1)
    record_call(db, _call(agent, t, "callback", callback_at=when, callback_personal=False), now=NOW)
    got = claim_next(db, other, camp, now=when)
    assert got is not None and got.task_id == tid


def test_ceased_marks_business(db: Database) -> None:
    agent, camp = _setup(db)
    biz = make_business(db)
    make_task(db, camp, biz)
    t = claim(db, agent, camp, now=NOW)
    assert record_call(db, _call(agent, t, "ceased"), now=NOW).task_state == "done"
    with db.reading() as s:
        assert s.execute(select(Business.status).where(Business.id == biz)).scalar() == "ceased"


def test_do_not_call_everywhere_and_only_supervisor_lifts(db: Database) -> None:
    agent, camp = _setup(db)
    other_camp = make_campaign(db, chamber="IDF")
    sup = make_agent(db, role="supervisor")
    biz = make_business(db)
    tid = make_task(db, camp, biz)
    elsewhere = make_task(db, other_camp, biz)
    t = claim(db, agent, camp, now=NOW)
    assert record_call(db, _call(agent, t, "do_not_call"), now=NOW).task_state == "done"
    assert _task(db, tid).state == "done"
    assert _task(db, elsewhere).state == "cancelled"
    with db.reading() as s:
        assert s.execute(select(Business.do_not_call).where(Business.id == biz)).scalar()
    with pytest.raises(Forbidden):
        lift_do_not_call(db, agent, biz, "erreur")
    assert lift_do_not_call(db, sup, biz, "erreur de saisie")
    with db.reading() as s:
        assert not s.execute(select(Business.do_not_call).where(Business.id == biz)).scalar()
        actions = s.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all()
    assert "business.do_not_call" in actions and "business.do_not_call_lifted" in actions


def test_replay_same_uuid_changes_nothing(db: Database) -> None:
    agent, camp = _setup(db)
    tid = make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    call = _call(agent, t, "no_answer")
    first = record_call(db, call, now=NOW)
    again = record_call(db, call, now=NOW + timedelta(days=3))
    assert again.replayed and not first.replayed
    assert (again.call_id, again.task_state, again.next_attempt_at) == (
        first.call_id,
        first.task_state,
        first.next_attempt_at,
    )
    assert _count(db, Call) == 1 and _task(db, tid).attempts == 1


def test_lost_lease_still_saves_call(db: Database) -> None:
    a1, camp = _setup(db)
    a2 = make_agent(db)
    tid = make_task(db, camp, make_business(db))
    t1 = claim(db, a1, camp, now=NOW)
    later = NOW + timedelta(minutes=20)
    t2 = claim(db, a2, camp, now=later)
    assert t2 is not None and t2.task_id == tid
    res = record_call(db, _call(a1, t1, "reached", later), now=later)
    assert res.lease_lost and not res.replayed
    task = _task(db, tid)
    # a2 still holds it, its state is a2's to decide
    assert (task.state, task.claimed_by) == ("queued", a2)
    assert _count(db, Call) == 1
    res2 = record_call(db, _call(a2, t2, "refused", later), now=later)
    assert not res2.lease_lost and res2.task_state == "done"


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"outcome": "hung_up"}, InvalidInput, "résultat d'appel inconnu"),
        ({"agent_id": 9999}, NotFound, "agent inconnu"),
        ({"campaign_id": 9999}, NotFound, "campagne inconnue"),
        ({"outcome": "callback"}, InvalidInput, "rappel"),
        (
            {"outcome": "callback", "callback_at": NOW - timedelta(minutes=1)},
            InvalidInput,
            "passées",
        ),
        ({"referrals": (ReferralInput("magic"),)}, InvalidInput, "orientation inconnu"),
        (
            {"outcome": "busy", "referrals": (ReferralInput("website"),)},
            InvalidInput,
            "orientation",
        ),
    ],
)
def test_bad_input_writes_nothing(
    db: Database, change: dict[str, Any], error: type[Exception], message: str
) -> None:
    agent, camp = _setup(db)
    tid = make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    call = _call(agent, t, "reached")
    from dataclasses import replace

    audit_before = _count(db, AuditLog)
    with pytest.raises(error, match=message):
        record_call(db, replace(call, **change), now=NOW)
    assert _count(db, Call) == 0 and _count(db, Referral) == 0
    assert _count(db, AuditLog) == audit_before
    task = _task(db, tid)
    assert (task.state, task.attempts, task.claimed_by) == ("queued", 0, agent)


def test_thirty_day_cap_across_campaigns(db: Database) -> None:
    agent = make_agent(db)
    c1 = make_campaign(db, max_attempts_30d=2, max_attempts=10)
    c2 = make_campaign(db, max_attempts_30d=2, max_attempts=10)
    biz = make_business(db)
    make_task(db, c1, biz)
    t2 = make_task(db, c2, biz)
    t = claim(db, agent, c1, now=NOW)
    record_call(db, _call(agent, t, "no_answer"), now=NOW)
    day2 = NOW + timedelta(days=2)
    t = claim(db, agent, c1, now=day2)
    record_call(db, _call(agent, t, "no_answer", day2), now=day2)
    # two calls in 30 days: the other campaign may not call it before the first one ages out
    day3 = NOW + timedelta(days=3)
    assert claim_next(db, agent, c2, now=day3) is None
    assert _task(db, t2).next_attempt_at == (NOW + timedelta(days=30)).replace(tzinfo=None)
    got = claim_next(db, agent, c2, now=NOW + timedelta(days=30, minutes=1))
    assert got is not None and got.task_id == t2


def test_callback_replayed_after_its_time_is_still_saved(db: Database) -> None:
    """Invariant 2: a callback recorded while the database was away (outbox) replays later,
    even once its time has passed; it is then simply due."""
    agent, camp = _setup(db)
    tid = make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    when = NOW + timedelta(minutes=30)
    call = _call(agent, t, "callback", callback_at=when)
    replay_at = NOW + timedelta(hours=3)
    res = record_call(db, call, now=replay_at)
    assert not res.replayed and res.task_state == "callback"
    assert _count(db, Call) == 1
    assert _task(db, tid).next_attempt_at == when.replace(tzinfo=None)
    again = record_call(db, call, now=replay_at + timedelta(minutes=1))
    assert again.replayed and again.call_id == res.call_id and _count(db, Call) == 1
