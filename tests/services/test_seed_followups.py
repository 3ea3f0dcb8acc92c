"""Seeded follow-up histories (demo profile, both backends): every state present, each history a
chain the domain allows, booked and done diagnostics with adviser and plan, verification calls,
goals split by chamber, and the funnel and roll-up equal to their recounts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from outreach.db import models as m
from outreach.db.engine import Database
from outreach.domain import lifecycle
from outreach.services import funnel as funnels
from outreach.services import rollup
from outreach.services.access import scope_of
from outreach.services.agents import get_agent
from outreach.services.goals import goals_in_scope
from outreach.services.seeding.seed import seed_demo
from outreach.services.selection import CallFilter, resolve

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_demo_seeds_follow_up_histories_verifications_and_goals(db: Database) -> None:
    seed_demo(db, seed=5, now=NOW)
    with db.reading() as s:
        refs = s.execute(select(m.Referral)).scalars().all()
        events = (
            s.execute(
                select(m.ReferralEvent).order_by(m.ReferralEvent.referral_id, m.ReferralEvent.id)
            )
            .scalars()
            .all()
        )
        actions = s.execute(select(m.ReferralAction)).scalars().all()
        verified = s.execute(
            select(m.Business.id).where(m.Business.sells_online_verified_at.is_not(None))
        ).all()
        checks = s.execute(select(m.Campaign.id).where(m.Campaign.purpose == "verification")).all()
        goals = s.execute(select(m.Goal)).scalars().all()
    states = Counter(r.status for r in refs if r.kind == "digital_diagnostic")
    assert set(lifecycle.STATES) <= set(Counter(r.status for r in refs)), states
    assert states["done"] > 0 and states["scheduled"] > 0
    chains: dict[int, list[m.ReferralEvent]] = {}
    for e in events:
        chains.setdefault(e.referral_id, []).append(e)
    by_id = {r.id: r for r in refs}
    assert set(chains) == set(by_id)
    for rid, chain in chains.items():
        r = by_id[rid]
        assert chain[0].from_state is None
        for before, after in zip(chain, chain[1:], strict=False):
            assert after.from_state == before.to_state
            assert lifecycle.can_move(r.kind, before.to_state, after.to_state), (r.kind, chain)
            assert after.at >= before.at
        assert chain[-1].to_state == r.status
    planned = {a.referral_id for a in actions}
    done_diags = {r.id for r in refs if r.kind == "digital_diagnostic" and r.status == "done"}
    assert planned == done_diags
    for r in refs:
        if r.status == "scheduled":
            assert r.scheduled_at is not None and r.adviser_id is not None
    assert checks and verified
    national = [g for g in goals if g.chamber_id is None]
    assert {g.metric for g in national} == {
        "diagnostics_done",
        "closed_firms_helped",
        "businesses_verified_online",
        "contacts",
    }
    for g in national:  # the chambers' shares add up to the network's goal
        assert sum(c.target for c in goals if c.metric == g.metric and c.chamber_id) == g.target
    sup = get_agent(db, "cmaf.superviseur")
    progress = goals_in_scope(db, scope_of(sup), metric="diagnostics_done", now=NOW)
    assert progress[0].done > 0
    sel = resolve(db, sup, CallFilter())
    funnel = funnels.verify(db, sel, ("lockdown",))
    assert funnel.total["diagnostics_done"] > 0 and funnel.total["businesses_verified_online"] > 0
    rollup.verify(db, sel, ("lockdown", "chamber"))
