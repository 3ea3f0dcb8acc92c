"""Goals per scope (set, split, seen by whom, pace) and the funnel equal to its recount, on both
backends, through the services and the `goal` / `rollup --funnel` commands."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import AuditLog, Business, Goal, Referral
from outreach.errors import Forbidden, InvalidInput
from outreach.services import funnel as funnels
from outreach.services.access import require_supervisor, scope_of
from outreach.services.goals import goals_in_scope, list_goals, set_goal
from outreach.services.referrals import change_state
from outreach.services.selection import CallFilter, resolve
from tests.supervision.builders import World, build_world

NOW = datetime(2021, 1, 4, 9, 0, tzinfo=UTC)  # a Monday; the goal runs to 31 March 2021


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


def run(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db_url, *args], obj=AppContext())


def _done_diagnostic(db: Database, w: World, call: int, agent: str) -> int:
    with db.reading() as s:
        rid = s.scalar(
            select(Referral.id).where(
                Referral.call_id == w.call[call], Referral.kind == "digital_diagnostic"
            )
        )
    assert rid is not None
    a = w.agent[agent]
    change_state(db, a, rid, "accepted", now=NOW)
    change_state(db, a, rid, "scheduled", scheduled_at=datetime(2021, 1, 5, 10), now=NOW)
    change_state(db, a, rid, "done", plan={"site": "planned"}, now=datetime(2021, 1, 6, tzinfo=UTC))
    return rid


def test_goals_per_scope_split_and_pace(db: Database, world: World) -> None:
    nat, bre = require_supervisor(db, "sup_nat"), require_supervisor(db, "sup_bre")
    with db.writing() as s:  # closed firms: 3 in BRE, 1 in IDF (the split's weights)
        for key in ("b1", "b2", "b3", "b6"):
            s.execute(
                update(Business)
                .where(Business.id == world.business[key])
                .values(status="closed_admin")
            )
    written = set_goal(
        db,
        nat,
        "diagnostics",
        5000,
        date(2021, 3, 31),
        starts_on=date(2020, 10, 30),
        split=True,
        now=NOW,
    )
    assert [(g.chamber_code, g.target) for g in written] == [
        (None, 5000),
        ("BRE", 3750),
        ("IDF", 1250),
    ]
    _done_diagnostic(db, world, 5, "agent_bre")  # b1, BRE
    national = goals_in_scope(db, scope_of(nat), now=NOW)
    assert [(g.metric, g.chamber_code, g.target, g.done) for g in national] == [
        ("diagnostics_done", None, 5000, 1)
    ]
    # 4,999 to go over 87 days (4 January to 31 March included)
    assert national[0].days_left == 87
    assert national[0].per_week_needed == pytest.approx(7 * 4999 / 87)
    # the regional supervisor sees their chamber's goal, never the national 5,000
    regional = goals_in_scope(db, scope_of(bre), now=NOW)
    assert [(g.chamber_code, g.target, g.done) for g in regional] == [("BRE", 3750, 1)]
    assert [g.chamber_code for g in list_goals(db, nat, now=NOW)] == [None, "BRE", "IDF"]
    assert [g.chamber_code for g in list_goals(db, bre, now=NOW)] == ["BRE"]
    # a regional supervisor sets their own chamber's goal, not the network's nor another's
    set_goal(db, bre, "contacts", 100, date(2021, 3, 31), starts_on=date(2020, 1, 1), now=NOW)
    with pytest.raises(Forbidden):
        set_goal(db, bre, "contacts", 100, date(2021, 3, 31), chamber_code="IDF", now=NOW)
    with pytest.raises(Forbidden, match="CMAF"):
        set_goal(db, bre, "contacts", 100, date(2021, 3, 31), chamber_code="CMAF", now=NOW)
    contacts = goals_in_scope(db, scope_of(bre), metric="contacts", now=NOW)
    assert contacts[0].done == 6  # BRE's calls since 2020-01-01
    # setting again replaces the goal (one per metric and scope), each change audited
    set_goal(db, nat, "diagnostics", 4000, date(2021, 3, 31), starts_on=date(2020, 10, 30), now=NOW)
    with db.reading() as s:
        assert s.scalar(select(Goal.target).where(Goal.chamber_id.is_(None))) == 4000
        audits = s.scalars(select(AuditLog.action).where(AuditLog.entity == "goal")).all()
    assert audits.count("goal.set") == 5
    with pytest.raises(InvalidInput, match="indicateur inconnu"):
        set_goal(db, nat, "cafés", 1, date(2021, 3, 31), now=NOW)
    with pytest.raises(InvalidInput, match="fin précède"):
        set_goal(db, nat, "contacts", 1, date(2020, 1, 1), starts_on=date(2021, 1, 1), now=NOW)
    with pytest.raises(InvalidInput, match="positif"):
        set_goal(db, nat, "contacts", 0, date(2021, 3, 31), now=NOW)


def test_goal_and_rollup_commands(db: Database, db_url: str, world: World) -> None:
    r = run(
        db_url,
        "goal",
        "set",
        "diagnostics",
        "5000",
        "--until",
        "2031-03-31",
        "--since",
        "2020-10-30",
        "--as",
        "sup_nat",
    )
    assert r.exit_code == 0, r.output
    assert "Diagnostics réalisés (national) : 0 sur 5 000" in r.output
    assert "par semaine" in r.output
    r = run(db_url, "goal", "list", "--format", "json", "--as", "sup_nat")
    assert json.loads(r.output)[0]["target"] == 5000
    r = run(db_url, "goal", "list", "--as", "sup_bre")
    assert r.exit_code == 0 and "aucun objectif" in r.output
    r = run(db_url, "rollup", "--as", "sup_nat")
    assert "Diagnostics réalisés (national) : 0 sur 5 000" in r.output
    r = run(db_url, "rollup", "--as", "sup_bre")
    assert "5 000" not in r.output  # not theirs
    r = run(db_url, "goal", "set", "diagnostics", "10", "--until", "31/03/2021", "--as", "sup_nat")
    assert r.exit_code != 0 and "--until" in r.output and "Traceback" not in r.output


def test_funnel_equals_its_recount(db: Database, db_url: str, world: World) -> None:
    _done_diagnostic(db, world, 4, "agent_idf")  # b6, IDF
    with db.reading() as s:
        cc = s.scalar(
            select(Referral.id).where(
                Referral.call_id == world.call[8], Referral.kind == "click_and_collect"
            )
        )
        platform = s.scalar(
            select(Referral.id).where(
                Referral.call_id == world.call[8], Referral.kind == "platform"
            )
        )
    assert cc is not None and platform is not None
    change_state(db, world.agent["agent_idf"], cc, "accepted", now=NOW)
    change_state(db, world.agent["agent_idf"], platform, "declined", now=NOW)
    with db.writing() as s:
        s.execute(
            update(Business)
            .where(Business.id == world.business["b7"])
            .values(sells_online=True, sells_online_verified_at=datetime(2021, 1, 20))
        )
    nat = require_supervisor(db, "sup_nat")
    sel = resolve(db, nat, CallFilter())
    result = funnels.verify(db, sel, ("lockdown", "chamber"))
    rows = {(r["lockdown"], r["chamber"]): r for r in result.rows}
    assert rows[("confinement-1", "IDF")] == {
        "lockdown": "confinement-1",
        "chamber": "IDF",
        "businesses_contacted": 1,
        "businesses_reached": 1,
        "businesses_referred": 1,
        "referrals_accepted": 1,  # the diagnostic (done); the cheque stays proposed
        "diagnostics_done": 1,
        "businesses_verified_online": 0,
    }
    c2 = rows[("confinement-2", "IDF")]
    assert (c2["businesses_referred"], c2["referrals_accepted"]) == (1, 1)  # platform declined
    assert c2["businesses_verified_online"] == 1
    assert result.total == {
        "businesses_contacted": 6,
        "businesses_reached": 5,
        "businesses_referred": 3,
        "referrals_accepted": 2,
        "diagnostics_done": 1,
        "businesses_verified_online": 1,
    }
    assert funnels.verify(db, sel, ()).total == result.total
    r = run(
        db_url,
        "rollup",
        "--funnel",
        "--by",
        "lockdown,chamber",
        "--format",
        "json",
        "--verify",
        "--as",
        "sup_nat",
    )
    assert r.exit_code == 0, r.output
    out = (
        json.loads(r.output.split("\nvérifié")[0])
        if "vérifié" in r.output
        else json.loads(r.output)
    )
    assert out["total"] == result.total
    r = run(db_url, "rollup", "--funnel", "--as", "sup_nat")
    assert "Orientées" in r.output and "Vendent en ligne" in r.output
