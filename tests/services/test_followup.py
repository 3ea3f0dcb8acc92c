"""The follow-up worklist on both backends: scope, filters, due order, and the lease that keeps
two advisers off one referral (the call tasks' rule)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from outreach.db.engine import Database
from outreach.errors import Forbidden, InvalidInput
from outreach.services.followup import LEASE_MINUTES, claim_referral, release_referral, worklist
from outreach.services.referrals import change_state
from tests.factories import make_agent
from tests.services.test_referral_lifecycle import LATER, NOW, refer


def test_worklist_scope_filters_and_due_order(db: Database) -> None:
    idf, bre = make_agent(db), make_agent(db, chamber="BRE")
    national = make_agent(db, chamber="CMAF")
    diag = refer(db, idf)  # proposed: due 2 days after
    cc = refer(db, idf, kind="click_and_collect", status="accepted")  # due 7 days after
    booked = refer(db, idf)
    change_state(db, idf, booked, "accepted", now=NOW)
    change_state(db, idf, booked, "scheduled", scheduled_at=datetime(2026, 11, 26, 9), now=NOW)
    declined = refer(db, idf, status="declined")
    other = refer(db, bre, department="35")
    items = worklist(db, idf, now=NOW)
    assert [i.referral_id for i in items] == [booked, diag, cc]  # soonest first, no final one
    assert items[0].due_at == datetime(2026, 11, 26, 8, tzinfo=UTC)  # 09:00 Paris
    assert items[1].due_at == NOW + timedelta(days=2)
    assert declined not in {i.referral_id for i in items}
    assert [i.referral_id for i in worklist(db, bre, now=NOW)] == [other]
    assert {i.referral_id for i in worklist(db, national, now=NOW)} == {booked, diag, cc, other}
    got = worklist(db, idf, kinds=("click_and_collect",), now=NOW)
    assert [i.referral_id for i in got] == [cc]
    got = worklist(db, idf, states=("scheduled",), now=NOW)
    assert [i.referral_id for i in got] == [booked]
    assert worklist(db, idf, now=NOW + timedelta(days=3))[1].overdue
    with pytest.raises(InvalidInput, match="inconnu"):
        worklist(db, idf, states=("done",), now=NOW)
    with pytest.raises(InvalidInput, match="fusée"):
        worklist(db, idf, kinds=("fusée",), now=NOW)


def test_lease_keeps_a_second_adviser_off(db: Database) -> None:
    a1, a2 = make_agent(db, "adv1"), make_agent(db, "adv2")
    rid = refer(db, a1)
    detail, business, until = claim_referral(db, a1, rid, now=NOW)
    assert detail.id == rid and business.name and until == NOW + timedelta(minutes=LEASE_MINUTES)
    assert worklist(db, a2, now=NOW)[0].held_by == "adv1"
    assert worklist(db, a1, now=NOW)[0].held_by is None  # not shown as "someone else's"
    with pytest.raises(Forbidden, match="autre conseiller"):
        claim_referral(db, a2, rid, now=NOW)
    with pytest.raises(Forbidden, match="autre conseiller"):
        change_state(db, a2, rid, "accepted", now=NOW)
    # the lease expires: the other adviser may take it, as with call tasks
    later = NOW + timedelta(minutes=LEASE_MINUTES + 1)
    claim_referral(db, a2, rid, now=later)
    assert change_state(db, a2, rid, "accepted", now=later).state == "accepted"
    assert not release_referral(db, a1, rid)
    assert release_referral(db, a2, rid)
    claim_referral(db, a1, rid, now=later)


def test_two_advisers_racing_for_one_referral(db: Database) -> None:
    a1, a2 = make_agent(db), make_agent(db)
    rid = refer(db, a1)
    barrier = threading.Barrier(2)
    won: list[int] = []
    lost: list[int] = []

    def go(agent: int) -> None:
        barrier.wait()
        try:
            claim_referral(db, agent, rid, now=NOW)
            won.append(agent)
        except Forbidden:
            lost.append(agent)

    threads = [threading.Thread(target=go, args=(a,)) for a in (a1, a2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(lost) == 1
    # the winner works it; the loser cannot change it while the lease lives
    change_state(db, won[0], rid, "accepted", now=NOW)
    with pytest.raises(Forbidden):
        change_state(db, lost[0], rid, "scheduled", scheduled_at=LATER, now=NOW)
