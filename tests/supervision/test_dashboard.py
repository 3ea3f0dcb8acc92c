"""The supervisor's dashboard: equal to the roll-up (and its recount) after a full load and after
incremental refreshes; today's figures per agent and per Paris hour; scope."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outreach.db.engine import Database
from outreach.services import rollup
from outreach.services.access import require_supervisor
from outreach.services.dashboard import Dashboard, DashboardFeed, dashboard
from outreach.services.selection import CallFilter, resolve
from tests.supervision.builders import World, add_business, add_call, build_world

NOW = datetime(2021, 4, 6, 16, 30, tzinfo=UTC)  # 18:30 in Paris (summer time)


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


def assert_matches_rollup(db: Database, login: str, dash: Dashboard) -> None:
    sel = resolve(db, require_supervisor(db, login), CallFilter())
    by_lockdown = rollup.verify(db, sel, ("lockdown",))  # itself checked against the recount
    by_campaign = rollup.verify(db, sel, ("campaign",))
    measures = ("contacts", "businesses_contacted", "businesses_reached", "referrals")

    def rows(r: rollup.Rollup, dim: str) -> list[tuple]:
        return [(row[dim], *(row[m] for m in measures)) for row in r.rows]

    assert [
        (g.key, g.contacts, g.businesses_contacted, g.businesses_reached, g.referrals)
        for g in dash.lockdowns
    ] == rows(by_lockdown, "lockdown")
    assert sorted(
        (g.key, g.contacts, g.businesses_contacted, g.businesses_reached, g.referrals)
        for g in dash.campaigns
    ) == sorted(rows(by_campaign, "campaign"))
    t = dash.total
    assert (t.contacts, t.businesses_contacted, t.businesses_reached, t.referrals) == tuple(
        by_lockdown.total[m] for m in measures
    )
    assert dict(dash.referrals_by_kind) == {k: by_lockdown.total[k] for k in rollup.KINDS}
    assert dash.diagnostics == by_lockdown.total["diagnostics_done"]


def test_full_load_matches_rollup(db: Database, world: World) -> None:
    dash = dashboard(db, require_supervisor(db, "sup_nat"), NOW)
    assert dash.full_load and dash.scope is None
    assert [g.key for g in dash.lockdowns] == ["confinement-1", "confinement-2", None]
    assert dash.total.contacts == 9 and dash.total.businesses_contacted == 6
    assert dash.diagnostics_target == 0 and dash.goals == ()  # no goal set: no 5,000 constant
    assert_matches_rollup(db, "sup_nat", dash)


def test_incremental_refresh_stays_exact(db: Database, world: World) -> None:
    feed = DashboardFeed(db, require_supervisor(db, "sup_nat"))
    feed.refresh(NOW)
    add_business(db, world, "b9", 9, "BRE", "35")
    d = datetime
    # b1 again in lockdown 2 (no new distinct business there), b2 first time in lockdown 2,
    # b6 reached in lockdown 2 for the first time, a new business, a referral
    add_call(db, world, 20, "c2", "b1", "agent_bre", "no_answer", d(2021, 4, 6, 8, 0))
    add_call(
        db,
        world,
        21,
        "c2",
        "b2",
        "agent_bre",
        "reached",
        d(2021, 4, 6, 9, 0),
        ("digital_diagnostic",),
    )
    add_call(db, world, 22, "c2", "b6", "agent_idf", "reached", d(2021, 4, 6, 9, 30))
    add_call(db, world, 23, "c1", "b9", "agent_bre", "busy", d(2021, 4, 6, 15, 10))
    # the same business twice in one refresh, new to lockdown 1: counted once there
    add_call(db, world, 24, "c1", "b3", "agent_bre", "no_answer", d(2021, 4, 6, 15, 20))
    add_call(db, world, 25, "c1", "b3", "agent_bre", "reached", d(2021, 4, 6, 15, 40))
    dash = feed.refresh(NOW)
    assert not dash.full_load
    assert dash.total.contacts == 15 and dash.total.businesses_contacted == 7
    assert_matches_rollup(db, "sup_nat", dash)
    # nothing new: the same figures
    again = feed.refresh(NOW)
    assert again.total == dash.total and again.lockdowns == dash.lockdowns
    # today, in Paris time: 10:00, 11:00, 11:30, 17:10
    assert dash.calls_today == 6
    assert dash.calls_per_hour[10] == 1 and dash.calls_per_hour[11] == 2
    assert dash.calls_per_hour[17] == 3 and sum(dash.calls_per_hour) == 6
    people = {a.login: (a.contacts, a.reached, a.referrals) for a in dash.agents_today}
    assert people == {"agent_bre": (5, 2, 1), "agent_idf": (1, 1, 0)}
    assert [a.login for a in dash.agents_today] == ["agent_bre", "agent_idf"]
    # idf overtakes bre: the order kept between refreshes follows
    for n in range(5):
        add_call(db, world, 30 + n, "c2", "b7", "agent_idf", "busy", d(2021, 4, 6, 12, n))
    later = feed.refresh(NOW)
    assert [(a.login, a.contacts) for a in later.agents_today] == [
        ("agent_idf", 6),
        ("agent_bre", 5),
    ]


def test_regional_dashboard(db: Database, world: World) -> None:
    feed = DashboardFeed(db, require_supervisor(db, "sup_bre"))
    dash = feed.refresh(NOW)
    assert dash.scope == "BRE" and dash.total.contacts == 6
    add_call(db, world, 30, "c2", "b7", "agent_idf", "reached", datetime(2021, 4, 6, 9, 0))
    add_call(db, world, 31, "c2", "b2", "agent_bre", "reached", datetime(2021, 4, 6, 9, 5))
    dash = feed.refresh(NOW)
    assert dash.total.contacts == 7  # the IDF call is not in BRE's scope
    assert [a.login for a in dash.agents_today] == ["agent_bre"]
    assert_matches_rollup(db, "sup_bre", dash)


def test_late_commit_on_postgresql_is_counted(pg_db: Database) -> None:
    """A call whose id is below ids already read (a transaction that committed late)."""
    from sqlalchemy import text

    world = build_world(pg_db)
    feed = DashboardFeed(pg_db, require_supervisor(pg_db, "sup_nat"))
    feed.refresh(NOW)
    with pg_db.writing() as s:
        top = s.execute(text("SELECT max(id) FROM calls")).scalar_one()
        s.execute(text("SELECT setval('calls_id_seq', :v)"), {"v": top + 100})
    add_call(pg_db, world, 40, "c2", "b2", "agent_bre", "reached", datetime(2021, 4, 6, 9, 0))
    assert feed.refresh(NOW).total.contacts == 10
    with pg_db.writing() as s:  # the late one: an id below the one just read
        s.execute(text("SELECT setval('calls_id_seq', :v)"), {"v": top + 50})
    add_call(pg_db, world, 41, "c2", "b5", "agent_bre", "reached", datetime(2021, 4, 6, 9, 5))
    dash = feed.refresh(NOW)
    assert dash.total.contacts == 11
    assert_matches_rollup(pg_db, "sup_nat", dash)
