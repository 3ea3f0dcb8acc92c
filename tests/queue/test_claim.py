"""Claim order, scope, leases, windows and do-not-call, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from outreach.db.engine import Database
from outreach.db.models import CallTask
from outreach.errors import Forbidden, NotFound
from outreach.services.queue import (
    claim_next,
    release_task,
    renew_lease,
    set_do_not_call,
    take_task,
)
from tests.factories import claim, make_agent, make_business, make_campaign, make_task

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday


def _task(db: Database, task_id: int) -> CallTask:
    with db.reading() as s:
        return s.execute(select(CallTask).where(CallTask.id == task_id)).scalar_one()


def test_claim_order_priority_attempts_oldest(db: Database) -> None:
    agent = make_agent(db)
    camp = make_campaign(db)
    low = make_task(db, camp, make_business(db), priority=0)
    tried = make_task(db, camp, make_business(db), priority=5, attempts=2)
    fresh_old = make_task(db, camp, make_business(db), priority=5, attempts=0)
    fresh_new = make_task(db, camp, make_business(db), priority=5, attempts=0)
    order = []
    for _ in range(4):
        claimed = claim_next(db, agent, camp, now=NOW)
        assert claimed is not None
        order.append(claimed.task_id)
        assert release_task(db, agent, claimed.task_id, "test", delay_minutes=60, now=NOW)
    assert order == [fresh_old, fresh_new, tried, low]
    assert claim_next(db, agent, camp, now=NOW) is None


def test_claim_returns_the_task_already_held(db: Database) -> None:
    agent = make_agent(db)
    camp = make_campaign(db)
    make_task(db, camp, make_business(db))
    make_task(db, camp, make_business(db))
    first = claim_next(db, agent, camp, now=NOW)
    again = claim_next(db, agent, camp, now=NOW + timedelta(minutes=1))
    assert first is not None and again is not None
    assert again.task_id == first.task_id


def test_claimed_task_carries_business_and_script(db: Database) -> None:
    agent = make_agent(db)
    camp = make_campaign(db)
    biz = make_business(db, "Boulangerie de l'Épi", phone="+33612345678")
    make_task(db, camp, biz)
    claimed = claim_next(db, agent, camp, now=NOW)
    assert claimed is not None
    assert claimed.business.name == "Boulangerie de l'Épi"
    assert claimed.business.phone_display == "06 12 34 56 78"
    assert claimed.phone_to_call == "+33612345678"
    assert [q.key for q in claimed.script] == ["online", "needs"]
    assert claimed.script[0].choices == ("oui", "non")
    assert claimed.lease_expires_at == NOW + timedelta(minutes=15)


def test_held_task_not_offered_to_another_until_lease_expires(db: Database) -> None:
    a1, a2 = make_agent(db), make_agent(db)
    camp = make_campaign(db)
    tid = make_task(db, camp, make_business(db))
    assert claim(db, a1, camp, now=NOW).task_id == tid
    assert claim_next(db, a2, camp, now=NOW + timedelta(minutes=14)) is None
    # a1 vanished: after 15 minutes the task returns to the queue
    got = claim_next(db, a2, camp, now=NOW + timedelta(minutes=16))
    assert got is not None and got.task_id == tid
    assert renew_lease(db, a1, tid, now=NOW + timedelta(minutes=17)) is None
    renewed = renew_lease(db, a2, tid, now=NOW + timedelta(minutes=20))
    assert renewed == NOW + timedelta(minutes=35)


def test_chamber_scope(db: Database) -> None:
    idf = make_agent(db, chamber="IDF")
    bre = make_agent(db, chamber="BRE")
    head = make_agent(db, chamber="CMAF", role="supervisor")
    camp = make_campaign(db)  # national
    paris = make_task(db, camp, make_business(db, department="75"))
    rennes = make_task(db, camp, make_business(db, department="35"))
    assert claim(db, bre, camp, now=NOW).task_id == rennes
    assert claim(db, idf, camp, now=NOW).task_id == paris
    # CMA France works every chamber of a national campaign (here: both are held)
    assert claim_next(db, head, camp, now=NOW) is None
    regional = make_campaign(db, chamber="BRE")
    make_task(db, regional, make_business(db, department="29"))
    with pytest.raises(Forbidden):
        claim_next(db, idf, regional, now=NOW)
    assert claim_next(db, bre, regional, now=NOW) is not None


def test_do_not_call_business_never_offered(db: Database) -> None:
    agent = make_agent(db)
    sup = make_agent(db, role="supervisor")
    c1, c2 = make_campaign(db), make_campaign(db)
    biz = make_business(db)
    t1, t2 = make_task(db, c1, biz), make_task(db, c2, biz)
    assert set_do_not_call(db, sup, biz, "courrier reçu") == 2
    assert _task(db, t1).state == "cancelled" and _task(db, t2).state == "cancelled"
    assert claim_next(db, agent, c1, now=NOW) is None
    with db.writing() as s:  # even a task left queued by hand is skipped
        s.execute(update(CallTask).where(CallTask.id == t1).values(state="queued"))
    assert claim_next(db, agent, c1, now=NOW) is None
    with pytest.raises(Forbidden):
        take_task(db, agent, c1, task_id=t1, now=NOW)


def test_unknown_agent_or_campaign(db: Database) -> None:
    agent = make_agent(db)
    with pytest.raises(NotFound, match="campagne inconnue"):
        claim_next(db, agent, 999, now=NOW)
    camp = make_campaign(db)
    with pytest.raises(NotFound, match="agent inconnu"):
        claim_next(db, 999, camp, now=NOW)
