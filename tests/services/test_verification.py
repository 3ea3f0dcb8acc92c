"""Verification calls on both backends: a done click-and-collect referral queues its business in
its chamber's verification campaign (made on first use), the answer of the call sets
sells_online and feeds the "verified selling online" count; the N-day sweep."""

from __future__ import annotations

import uuid as uuidlib
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select, update

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import Business, CallTask, Campaign
from outreach.services import funnel as funnels
from outreach.services import verification
from outreach.services.access import require_supervisor
from outreach.services.queue import claim_next, record_call
from outreach.services.referrals import change_state
from outreach.services.selection import CallFilter, resolve
from outreach.services.types import CallInput
from tests.factories import make_agent
from tests.services.test_referral_lifecycle import NOW, refer


def _verification_tasks(db: Database) -> list[tuple[int, str, str]]:
    with db.reading() as s:
        return [
            (business_id, state, name)
            for business_id, state, name in s.execute(
                select(CallTask.business_id, CallTask.state, Campaign.name)
                .join(Campaign, Campaign.id == CallTask.campaign_id)
                .where(Campaign.purpose == "verification")
                .order_by(CallTask.id)
            )
        ]


def _business_of(db: Database, rid: int) -> int:
    from outreach.db.models import Referral

    with db.reading() as s:
        return s.execute(select(Referral.business_id).where(Referral.id == rid)).scalar_one()


def test_done_referral_queues_a_verification_call_whose_answer_counts(db: Database) -> None:
    agent = make_agent(db, "conseil")
    make_agent(db, "sup", role="supervisor")
    rid = refer(db, agent, kind="click_and_collect")
    biz = _business_of(db, rid)
    change_state(db, agent, rid, "accepted", now=NOW)
    assert _verification_tasks(db) == []  # accepted is not enough (before the delay)
    change_state(db, agent, rid, "done", now=NOW)
    assert _verification_tasks(db) == [(biz, "queued", "Vérification de la vente en ligne (IDF)")]
    # a second done referral of the same firm does not queue it twice; a diagnostic never does
    again = refer(db, agent, kind="platform")
    with db.writing() as s:
        from outreach.db.models import Referral

        s.execute(update(Referral).where(Referral.id == again).values(business_id=biz))
    change_state(db, agent, again, "accepted", now=NOW)
    change_state(db, agent, again, "done", now=NOW)
    assert len(_verification_tasks(db)) == 1
    with db.reading() as s:
        campaign = s.execute(
            select(Campaign).where(Campaign.purpose == "verification")
        ).scalar_one()
        assert [q["key"] for q in campaign.script] == ["vend_en_ligne", "comment"]
        assert s.scalar(select(func.count()).select_from(Campaign)) == 3  # 2 calls' + 1
    # the verification call: reached, "yes, on a marketplace"
    later = NOW + timedelta(days=28)  # a Wednesday, 11:00 in Paris: inside the window
    task = claim_next(db, agent, campaign.id, now=later)
    assert task is not None and task.business.id == biz
    record_call(
        db,
        CallInput(
            uuid=str(uuidlib.uuid4()),
            agent_id=agent,
            campaign_id=campaign.id,
            business_id=biz,
            task_id=task.task_id,
            outcome="reached",
            started_at=later,
            ended_at=later + timedelta(minutes=3),
            answers={"vend_en_ligne": "oui", "comment": "plateforme"},
        ),
        now=later,
    )
    with db.reading() as s:
        sells, verified_at = s.execute(
            select(Business.sells_online, Business.sells_online_verified_at).where(
                Business.id == biz
            )
        ).one()
    assert sells is True and verified_at is not None
    sel = resolve(db, require_supervisor(db, "sup"), CallFilter())
    assert funnels.verify(db, sel, ()).total["businesses_verified_online"] == 1


def test_opted_out_firm_is_not_queued_and_the_sweep_waits_its_days(db: Database) -> None:
    agent = make_agent(db)
    make_agent(db, "sup_idf", role="supervisor")
    opted = refer(db, agent, kind="click_and_collect")
    with db.writing() as s:
        s.execute(
            update(Business).where(Business.id == _business_of(db, opted)).values(do_not_call=True)
        )
    change_state(db, agent, opted, "accepted", now=NOW)
    change_state(db, agent, opted, "done", now=NOW)
    assert _verification_tasks(db) == []
    waiting = refer(db, agent, kind="click_and_collect")
    change_state(db, agent, waiting, "accepted", now=NOW)
    sup = require_supervisor(db, "sup_idf")
    assert verification.queue_due(db, sup, now=NOW + timedelta(days=20)) == 0
    assert verification.queue_due(db, sup, now=NOW + timedelta(days=21)) == 1
    assert verification.queue_due(db, sup, now=NOW + timedelta(days=22)) == 0  # once only
    # N is set per campaign: 5 days for this one
    quick = refer(db, agent, kind="platform")
    change_state(db, agent, quick, "accepted", now=NOW)
    with db.writing() as s:
        from outreach.db.models import Call, Referral

        campaign_id = s.scalar(
            select(Call.campaign_id)
            .join(Referral, Referral.call_id == Call.id)
            .where(Referral.id == quick)
        )
        s.execute(update(Campaign).where(Campaign.id == campaign_id).values(verify_after_days=5))
    assert verification.queue_due(db, sup, now=NOW + timedelta(days=6)) == 1
    url = db.url.render_as_string(hide_password=False)
    r = CliRunner().invoke(
        cli, ["--db", url, "verification", "queue", "--as", "sup_idf"], obj=AppContext()
    )
    assert r.exit_code == 0, r.output
    assert "0 entreprise mise en file de vérification" in r.output
