"""Script answers checked by the service (listed choices, free text where allowed) and the undo
of a call just recorded (task, business and call put back, audited, within the lease)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from outreach.db.engine import Database
from outreach.db.models import AuditLog, Base, Business, Call, CallAnswer, CallTask, Referral
from outreach.domain.script import check_answer, matching_choice
from outreach.errors import Forbidden, InvalidInput
from outreach.services.campaigns import parse_question
from outreach.services.queue import record_call, undo_call
from outreach.services.types import CallInput, ClaimedTask, ReferralInput
from tests.factories import call_on, claim, make_agent, make_business, make_campaign, make_task

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SCRIPT = [
    {"key": "online", "text": "Vendez-vous en ligne ?", "choices": ["oui", "non", "plus tard"]},
    {"key": "tool", "text": "Quel outil ?", "choices": ["site", "marketplace"], "other": True},
    {"key": "needs", "text": "Vos besoins ?", "choices": None},
]


def _call(agent: int, task: ClaimedTask, outcome: str, **kw: Any) -> CallInput:
    return call_on(agent, task, outcome, NOW, minutes=1, **kw)


def _count(db: Database, model: type[Base]) -> int:
    with db.reading() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def test_choice_rule() -> None:
    choices = ("oui", "non", "plus tard")
    assert matching_choice(choices, "NO") == "non"
    assert matching_choice(choices, "p") == "plus tard"
    assert matching_choice(choices, "x") is None
    assert check_answer(choices, False, "Non") == "non"
    assert check_answer(("Été",), False, "ete") == "Été"
    assert check_answer(choices, True, "peut-être") == "peut-être"
    assert check_answer((), False, "libre") == "libre"
    with pytest.raises(ValueError):
        check_answer(choices, False, "peut-être")
    assert parse_question("q=Texte ?|a|b|*").other
    assert not parse_question("q=Texte ?|a|b").other
    assert parse_question("q=Texte ?|a|b|*").choices == ("a", "b")


def test_answers_must_be_listed_choices(db: Database) -> None:
    agent, camp = make_agent(db), make_campaign(db, script=SCRIPT)
    make_task(db, camp, make_business(db))
    make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    for bad, field in (({"online": "peut-être"}, "online"), ({"ghost": "oui"}, "ghost")):
        with pytest.raises(InvalidInput, match=field):
            record_call(db, _call(agent, t, "reached", answers=bad), now=NOW)
    assert _count(db, Call) == 0
    answers = {"online": "NON", "tool": "un logiciel de caisse", "needs": "un site"}
    record_call(db, _call(agent, t, "reached", answers=answers), now=NOW)
    with db.reading() as s:
        stored = dict(s.execute(select(CallAnswer.question, CallAnswer.answer)).all())
    assert stored == {"online": "non", "tool": "un logiciel de caisse", "needs": "un site"}


def test_undo_puts_everything_back(db: Database) -> None:
    agent, camp = make_agent(db), make_campaign(db, script=SCRIPT)
    first = make_business(db)
    make_task(db, camp, first, priority=10)
    make_task(db, camp, make_business(db), priority=1)
    t = claim(db, agent, camp, now=NOW)
    assert t.business.id == first
    with db.reading() as s:
        before = s.execute(select(CallTask).where(CallTask.id == t.task_id)).scalar_one()
        state_before = (before.state, before.attempts, before.next_attempt_at, before.last_outcome)
    call = _call(
        agent,
        t,
        "ceased",
        answers={"online": "oui"},
        notes="fermé",
    )
    record_call(db, call, now=NOW)
    nxt = claim(db, agent, camp, now=NOW + timedelta(seconds=5))
    assert nxt is not None and nxt.business.id != first

    back = undo_call(db, agent, call.uuid, now=NOW + timedelta(seconds=10))
    assert back.task_id == t.task_id and back.business.status == "open"
    assert _count(db, Call) == 0 and _count(db, CallAnswer) == 0
    with db.reading() as s:
        task = s.execute(select(CallTask).where(CallTask.id == t.task_id)).scalar_one()
        other = s.execute(select(CallTask).where(CallTask.id == nxt.task_id)).scalar_one()
        status = s.scalar(select(Business.status).where(Business.id == first))
        audit = s.execute(select(AuditLog.detail).where(AuditLog.action == "call.undo")).scalar()
    assert (task.state, task.attempts, task.next_attempt_at, task.last_outcome) == state_before
    assert task.claimed_by == agent and task.lease_expires_at is not None
    assert other.claimed_by is None  # the business shown since was handed back
    assert status == "open"
    assert audit is not None
    assert audit["uuid"] == call.uuid and audit["outcome"] == "ceased"
    # the same business again: a new outcome records normally
    record_call(db, _call(agent, back, "no_answer"), now=NOW + timedelta(seconds=20))
    assert _count(db, Call) == 1


def test_undo_refused_cases(db: Database) -> None:
    agent, camp = make_agent(db), make_campaign(db)
    other_agent = make_agent(db)
    for _ in range(3):
        make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    call = _call(agent, t, "reached", referrals=(ReferralInput("website"),))
    record_call(db, call, now=NOW)
    with pytest.raises(Forbidden):
        undo_call(db, other_agent, call.uuid, now=NOW)
    with pytest.raises(InvalidInput, match="tard"):
        undo_call(db, agent, call.uuid, now=NOW + timedelta(minutes=3))
    t2 = claim(db, agent, camp, now=NOW)
    dnc = _call(agent, t2, "do_not_call")
    record_call(db, dnc, now=NOW)
    with pytest.raises(InvalidInput, match="opposition"):
        undo_call(db, agent, dnc.uuid, now=NOW)
    assert _count(db, Call) == 2 and _count(db, Referral) == 1


def test_dashboard_drops_an_undone_call(db: Database) -> None:
    from outreach.services.access import require_supervisor
    from outreach.services.dashboard import DashboardFeed

    agent, camp = make_agent(db), make_campaign(db)
    make_agent(db, "sup", role="supervisor", chamber="CMAF")
    for _ in range(2):
        make_task(db, camp, make_business(db))
    feed = DashboardFeed(db, require_supervisor(db, "sup"))
    feed.refresh(NOW)
    t = claim(db, agent, camp, now=NOW)
    call = _call(agent, t, "reached")
    record_call(db, call, now=NOW)
    assert feed.refresh(NOW).total.contacts == 1
    undo_call(db, agent, call.uuid, now=NOW)
    after = feed.refresh(NOW)
    assert after.total.contacts == 0 and after.full_load
    assert not feed.refresh(NOW).full_load
