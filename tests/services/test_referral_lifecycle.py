"""The referral lifecycle on both backends: every allowed and refused transition, events, audit,
appointments in the business's time zone, action plans, scope, and two advisers racing."""

from __future__ import annotations

import threading
import uuid as uuidlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from outreach.db.engine import Database
from outreach.db.models import AuditLog, CallTask, Referral, ReferralAction, ReferralEvent
from outreach.domain import lifecycle
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.services.queue import record_call
from outreach.services.referrals import change_state, referral_detail, set_action_status
from outreach.services.types import CallInput, ReferralInput
from tests.factories import make_agent, make_business, make_campaign

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 2, 9, 30)  # naive: the business's own local time


def refer(
    db: Database,
    agent: int,
    kind: str = "digital_diagnostic",
    status: str = "proposed",
    department: str = "75",
) -> int:
    """A reached call recorded with one referral; the referral's id."""
    camp = make_campaign(db)
    biz = make_business(db, department=department)
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
            ended_at=NOW + timedelta(minutes=3),
            referrals=(ReferralInput(kind, status=status),),
        ),
        now=NOW,
    )
    with db.reading() as s:
        return s.execute(select(Referral.id).where(Referral.call_id == res.call_id)).scalar_one()


def events(db: Database, rid: int) -> list[tuple[str | None, str, str | None]]:
    with db.reading() as s:
        return [
            (from_state, to_state, note)
            for from_state, to_state, note in s.execute(
                select(ReferralEvent.from_state, ReferralEvent.to_state, ReferralEvent.note)
                .where(ReferralEvent.referral_id == rid)
                .order_by(ReferralEvent.id)
            )
        ]


def force(db: Database, rid: int, state: str) -> None:
    with db.writing() as s:
        s.execute(update(Referral).where(Referral.id == rid).values(status=state))


def test_record_starts_the_history_and_a_declined_referral_needs_no_follow_up(
    db: Database,
) -> None:
    agent = make_agent(db)
    rid = refer(db, agent)
    assert events(db, rid) == [(None, "proposed", None)]
    declined = refer(db, agent, status="declined")
    with db.reading() as s:
        task_state = s.scalar(
            select(CallTask.state)
            .join(Referral, Referral.business_id == CallTask.business_id)
            .where(Referral.id == declined)
        )
    assert task_state == "done"  # a declined diagnostic leaves nothing to follow up
    with pytest.raises(InvalidInput, match="impossible lors d'un appel"):
        refer(db, agent, status="done")


def _extras(kind: str, to_state: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if to_state == "scheduled":
        out["scheduled_at"] = LATER
    if lifecycle.needs_plan(kind, to_state):
        out["plan"] = {"site": "planned"}
    return out


@pytest.mark.parametrize("kind", ["digital_diagnostic", "click_and_collect"])
def test_every_transition_allowed_or_refused(db: Database, kind: str) -> None:
    agent = make_agent(db)
    rid = refer(db, agent, kind=kind)
    for src in lifecycle.STATES:
        for dst in lifecycle.STATES:
            force(db, rid, src)
            if lifecycle.can_move(kind, src, dst):
                d = change_state(db, agent, rid, dst, now=NOW, **_extras(kind, dst))
                assert d.state == dst and d.events[-1].from_state == src
            else:
                with pytest.raises(InvalidInput, match="impossible"):
                    change_state(db, agent, rid, dst, now=NOW, **_extras(kind, dst))
    with db.reading() as s:
        moves = s.scalar(
            select(func.count()).select_from(ReferralEvent).where(ReferralEvent.referral_id == rid)
        )
        audits = s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.entity == "referral", AuditLog.entity_id == str(rid))
        )
    allowed = sum(len(lifecycle.allowed(kind, s)) for s in lifecycle.STATES)
    assert moves == allowed + 1  # + the creation event
    assert audits == allowed
    # the rules themselves: a diagnostic is booked before it is done; finals stay final
    assert not lifecycle.can_move("digital_diagnostic", "accepted", "done")
    assert lifecycle.can_move("click_and_collect", "accepted", "done")
    assert all(not lifecycle.allowed(kind, s) for s in lifecycle.FINAL_STATES)
    assert "declined" not in lifecycle.HELPED_STATES


def test_the_diagnostic_path_with_appointment_and_plan(db: Database) -> None:
    agent = make_agent(db, "conseil.num", chamber="REU")
    rid = refer(db, agent, department="974")
    change_state(db, agent, rid, "accepted", note="intéressée", now=NOW)
    with pytest.raises(InvalidInput, match="date et l'heure"):
        change_state(db, agent, rid, "scheduled", now=NOW)
    with pytest.raises(InvalidInput, match="déjà passées"):
        change_state(db, agent, rid, "scheduled", scheduled_at=datetime(2026, 11, 1, 9), now=NOW)
    with pytest.raises(NotFound, match="personne"):
        change_state(
            db, agent, rid, "scheduled", scheduled_at=LATER, adviser_login="personne", now=NOW
        )
    d = change_state(db, agent, rid, "scheduled", scheduled_at=LATER, now=NOW)
    # 09:30 in La Réunion (UTC+4) is 05:30 UTC
    assert d.scheduled_at == datetime(2026, 12, 2, 5, 30, tzinfo=UTC)
    assert d.adviser_login == "conseil.num" and d.timezone == "Indian/Reunion"
    with pytest.raises(InvalidInput, match="au moins une action"):
        change_state(db, agent, rid, "done", now=NOW)
    with pytest.raises(InvalidInput, match="action inconnue"):
        change_state(db, agent, rid, "done", plan={"fusée": "planned"}, now=NOW)
    d = change_state(
        db,
        agent,
        rid,
        "done",
        plan={"site": "planned", "payment": "in_progress", "cheque_numerique": "planned"},
        note="plan remis",
        now=NOW,
    )
    assert d.state == "done" and d.allowed == ()
    assert [(a.action, a.status) for a in d.actions] == [
        ("site", "planned"),
        ("payment", "in_progress"),
        ("cheque_numerique", "planned"),
    ]
    d = set_action_status(db, agent, rid, "site", "done", now=NOW)
    assert ("site", "done") in [(a.action, a.status) for a in d.actions]
    with pytest.raises(NotFound):
        set_action_status(db, agent, rid, "training", "done", now=NOW)
    assert events(db, rid) == [
        (None, "proposed", None),
        ("proposed", "accepted", "intéressée"),
        ("accepted", "scheduled", None),
        ("scheduled", "done", "plan remis"),
    ]
    with db.reading() as s:
        plan_audit = s.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "referral.plan")
        )
        assert s.scalar(select(func.count()).select_from(ReferralAction)) == 3
    assert plan_audit == 1
    assert [e.to_state for e in referral_detail(db, agent, rid).events][-1] == "done"


def test_refusals_write_nothing(db: Database) -> None:
    agent = make_agent(db)
    other = make_agent(db, chamber="BRE")
    rid = refer(db, agent, kind="click_and_collect")
    with pytest.raises(Forbidden, match="périmètre"):
        change_state(db, other, rid, "accepted", now=NOW)
    with pytest.raises(InvalidInput, match="entre-temps"):
        change_state(db, agent, rid, "declined", expected_state="accepted", now=NOW)
    with pytest.raises(InvalidInput, match="état d'orientation inconnu"):
        change_state(db, agent, rid, "helped", now=NOW)
    with pytest.raises(InvalidInput, match="plan d'action va avec"):
        change_state(db, agent, rid, "accepted", plan={"site": "planned"}, now=NOW)
    with pytest.raises(NotFound):
        change_state(db, agent, 999_999, "accepted", now=NOW)
    assert events(db, rid) == [(None, "proposed", None)]


def test_two_advisers_racing_one_wins(db: Database) -> None:
    """Both saw the diagnostic scheduled and press "done" together: one change is stored, the
    other is refused (its move is no longer allowed), never two events."""
    a1, a2 = make_agent(db), make_agent(db)
    rid = refer(db, a1)
    change_state(db, a1, rid, "accepted", now=NOW)
    change_state(db, a1, rid, "scheduled", scheduled_at=LATER, now=NOW)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def go(agent: int) -> None:
        barrier.wait()
        try:
            results.append(
                change_state(
                    db, agent, rid, "done", plan={"site": "planned"}, expected_state="scheduled"
                ).state
            )
        except InvalidInput as exc:
            results.append(exc)

    threads = [threading.Thread(target=go, args=(a,)) for a in (a1, a2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(type, results), key=str) == sorted([str, InvalidInput], key=str)
    assert [e[1] for e in events(db, rid)].count("done") == 1
