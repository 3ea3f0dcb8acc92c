"""Search for inbound calls, take/release, campaigns list and why a queue is empty."""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from outreach.db.engine import Database
from outreach.db.models import AuditLog, CallTask
from outreach.errors import Forbidden, InvalidInput
from outreach.services.queue import (
    campaigns_for_agent,
    claim_next,
    record_call,
    release_task,
    search_businesses,
    take_task,
    why_empty,
)
from outreach.services.types import CallInput, ClaimedTask
from tests.factories import claim, make_agent, make_business, make_campaign, make_siret, make_task

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_search_by_siret_phone_and_name(db: Database) -> None:
    agent = make_agent(db, chamber="IDF")
    siret = make_siret()
    biz = make_business(db, "Boulangerie L'Épi d'Or", siret=siret, phone="+33612345678")
    make_business(db, "Pâtisserie du Marché", phone_alt="+33145678901")
    make_business(db, "Boulangerie de Rennes", department="35")  # another chamber
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    assert [h.business.id for h in search_businesses(db, agent, spaced)] == [biz]
    for typed in ("06 12 34 56 78", "+33 (0)6.12.34.56.78", "0033612345678", "06-12-34-56-78"):
        assert [h.business.id for h in search_businesses(db, agent, typed)] == [biz], typed
    assert [h.business.name for h in search_businesses(db, agent, "01 45 67 89 01")] == [
        "Pâtisserie du Marché"
    ]
    assert [h.business.name for h in search_businesses(db, agent, "boulang")] == [
        "Boulangerie L'Épi d'Or"
    ]
    assert [h.business.name for h in search_businesses(db, agent, "EPI D'OR")] == [
        "Boulangerie L'Épi d'Or"
    ]
    head = make_agent(db, chamber="CMAF", role="supervisor")
    assert len(search_businesses(db, head, "Boulangerie")) == 2
    with pytest.raises(InvalidInput):
        search_businesses(db, agent, "  ")


def test_search_overseas_phone_and_campaigns(db: Database) -> None:
    agent = make_agent(db, chamber="REU")
    biz = make_business(db, "Ti Boulangerie", department="974", phone="+262692123456")
    camp = make_campaign(db)
    make_task(db, camp, biz)
    hits = search_businesses(db, agent, "0692 12 34 56")
    assert [h.business.id for h in hits] == [biz]
    assert hits[0].business.phone_display is not None
    assert hits[0].campaigns[0][0] == camp


def test_take_found_business_for_inbound_call(db: Database) -> None:
    agent = make_agent(db)
    camp = make_campaign(db)
    biz = make_business(db)
    claimed = take_task(db, agent, camp, business_id=biz, now=NOW)  # not yet in the campaign
    with db.reading() as s:
        task = s.execute(select(CallTask).where(CallTask.id == claimed.task_id)).scalar_one()
    assert (task.business_id, task.claimed_by) == (biz, agent)
    res = record_call(
        db,
        CallInput(
            uuid=str(uuidlib.uuid4()),
            agent_id=agent,
            campaign_id=camp,
            business_id=biz,
            task_id=None,
            outcome="reached",
            started_at=NOW,
            ended_at=NOW,
        ),
        now=NOW,
    )
    assert res.task_state == "done" and not res.lease_lost
    other = make_agent(db)
    t2 = take_task(db, agent, camp, business_id=make_business(db), now=NOW)
    with pytest.raises(Forbidden, match="autre conseiller"):
        take_task(db, other, camp, task_id=t2.task_id, now=NOW)
    far = make_business(db, department="35")
    with pytest.raises(Forbidden, match="périmètre"):
        take_task(db, agent, camp, business_id=far, now=NOW)


def test_release_with_reason_is_audited_and_delayed(db: Database) -> None:
    agent = make_agent(db)
    camp = make_campaign(db)
    tid = make_task(db, camp, make_business(db))
    make_task(db, camp, make_business(db))
    assert claim(db, agent, camp, now=NOW).task_id == tid
    with pytest.raises(InvalidInput):
        release_task(db, agent, tid, " ", now=NOW)
    assert release_task(db, agent, tid, "numéro occupé en permanence", now=NOW)
    assert not release_task(db, agent, tid, "deux fois", now=NOW)
    with db.reading() as s:
        detail = s.execute(
            select(AuditLog.detail).where(AuditLog.action == "task.release")
        ).scalar_one()
    assert detail["reason"] == "numéro occupé en permanence"
    assert claim(db, agent, camp, now=NOW).task_id != tid


def test_why_empty_reasons(db: Database) -> None:
    agent = make_agent(db, chamber="IDF")
    camp = make_campaign(db, retry_delays=[60])
    assert why_empty(db, agent, camp, now=NOW).reason == "nothing_in_chamber"
    make_task(db, camp, make_business(db, department="35"))
    assert why_empty(db, agent, camp, now=NOW).reason == "nothing_in_chamber"
    tid = make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    assert t is not None and t.task_id == tid
    other = make_agent(db, chamber="IDF")
    assert why_empty(db, other, camp, now=NOW).reason == "all_held"
    record_call(
        db,
        CallInput(
            uuid=str(uuidlib.uuid4()),
            agent_id=agent,
            campaign_id=camp,
            business_id=t.business.id,
            task_id=tid,
            outcome="no_answer",
            started_at=NOW,
            ended_at=NOW,
        ),
        now=NOW,
    )
    empty = why_empty(db, agent, camp, now=NOW)
    assert empty.reason == "retry_delay" and empty.next_at == NOW + timedelta(minutes=60)
    assert "25/11/2026 12:00" in empty.message  # Paris time
    t = claim(db, agent, camp, now=NOW + timedelta(minutes=61))
    record_call(
        db,
        CallInput(
            uuid=str(uuidlib.uuid4()),
            agent_id=agent,
            campaign_id=camp,
            business_id=t.business.id,
            task_id=tid,
            outcome="reached",
            started_at=NOW,
            ended_at=NOW,
        ),
        now=NOW + timedelta(minutes=61),
    )
    empty = why_empty(db, agent, camp, now=NOW + timedelta(minutes=62))
    assert empty.reason == "all_done" and "traitées" in empty.message
    paused = make_campaign(db, status="paused")
    assert why_empty(db, agent, paused, now=NOW).reason == "campaign_paused"


def test_campaigns_for_agent_counts_scope(db: Database) -> None:
    agent = make_agent(db, chamber="IDF")
    national = make_campaign(db, name="Nationale")
    mine = make_campaign(db, name="Île-de-France", chamber="IDF")
    make_campaign(db, name="Bretagne", chamber="BRE")
    make_campaign(db, name="En pause", status="paused")
    make_task(db, national, make_business(db))
    make_task(db, national, make_business(db, department="35"))
    make_task(db, mine, make_business(db))
    got = {c.name: c for c in campaigns_for_agent(db, agent, now=NOW)}
    assert set(got) == {"Nationale", "Île-de-France"}
    assert got["Nationale"].queued == 1 and got["Nationale"].chamber_code is None
    assert got["Île-de-France"].chamber_code == "IDF"
    t = claim(db, agent, national, now=NOW)
    record_call(
        db,
        CallInput(
            uuid=str(uuidlib.uuid4()),
            agent_id=agent,
            campaign_id=national,
            business_id=t.business.id,
            task_id=t.task_id,
            outcome="reached",
            started_at=NOW,
            ended_at=NOW,
        ),
        now=NOW,
    )
    got = {c.name: c for c in campaigns_for_agent(db, agent, now=NOW)}
    assert (got["Nationale"].queued, got["Nationale"].my_calls_today) == (0, 1)
    assert got["Nationale"].my_reached_today == 1


def _no_answer(db: Database, agent: int, task: ClaimedTask, at: datetime) -> None:
    record_call(
        db,
        CallInput(
            uuid=str(uuidlib.uuid4()),
            agent_id=agent,
            campaign_id=task.campaign_id,
            business_id=task.business.id,
            task_id=task.task_id,
            outcome="no_answer",
            started_at=at,
            ended_at=at,
        ),
        now=at,
    )


def test_why_empty_names_the_30_day_cap(db: Database) -> None:
    agent = make_agent(db, chamber="IDF")
    camp = make_campaign(db, retry_delays=[60], max_attempts_30d=2, max_attempts=10)
    make_task(db, camp, make_business(db))
    for hours in (0, 2):
        at = NOW + timedelta(hours=hours)
        task = claim(db, agent, camp, now=at)
        assert task is not None
        _no_answer(db, agent, task, at)
    later = NOW + timedelta(hours=4)
    assert claim_next(db, agent, camp, now=later) is None  # capped: put back for 30 days
    empty = why_empty(db, agent, camp, now=later)
    assert empty.reason == "cap_30_days", empty
    assert "plafond de 2 appels en 30 jours" in empty.message
    assert empty.next_at == NOW + timedelta(days=30)


def test_why_empty_leaves_others_personal_callbacks_out(db: Database) -> None:
    from sqlalchemy import update

    me = make_agent(db, chamber="IDF")
    colleague = make_agent(db, chamber="IDF")
    camp = make_campaign(db)
    tid = make_task(db, camp, make_business(db))
    with db.writing() as s:  # the colleague's callback, due, in its grace period for 30 minutes
        s.execute(
            update(CallTask)
            .where(CallTask.id == tid)
            .values(
                state="callback",
                callback_agent_id=colleague,
                next_attempt_at=(NOW - timedelta(minutes=5)).replace(tzinfo=None),
                callback_team_at=(NOW + timedelta(minutes=30)).replace(tzinfo=None),
            )
        )
    assert claim_next(db, me, camp, now=NOW) is None
    empty = why_empty(db, me, camp, now=NOW)
    assert empty.reason == "others_callbacks", empty
    assert "d'autres conseillers" in empty.message and "traitement" not in empty.message
    assert empty.next_at == NOW + timedelta(minutes=30)
