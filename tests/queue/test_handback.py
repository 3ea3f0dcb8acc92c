"""Hand-back reasons act as the catalogue says: out of target leaves the campaign and is
counted, a wrong record is flagged to a supervisor (`outreach flags`), "other" needs text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import AuditLog, CallTask, RecordFlag
from outreach.domain.outcomes import HAND_BACKS, REMOVE
from outreach.errors import InvalidInput, NotFound
from outreach.services import flags
from outreach.services.access import require_supervisor
from outreach.services.campaigns import list_campaigns
from outreach.services.queue import claim_next, hand_back
from tests.factories import claim, make_agent, make_business, make_campaign, make_task

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _task(db: Database, task_id: int) -> CallTask:
    with db.reading() as s:
        return s.execute(select(CallTask).where(CallTask.id == task_id)).scalar_one()


def test_out_of_target_leaves_the_campaign_and_is_counted(db: Database) -> None:
    agent, camp = make_agent(db), make_campaign(db, name="Hors cible test")
    make_agent(db, "sup", role="supervisor", chamber="CMAF")
    tid = make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    assert hand_back(db, agent, t.task_id, "not_target", now=NOW)
    task = _task(db, tid)
    assert (task.state, task.end_reason, task.claimed_by) == ("cancelled", "not_target", None)
    # 30 minutes later (the case) it is not offered again
    assert claim_next(db, agent, camp, now=NOW + timedelta(minutes=30)) is None
    info = next(c for c in list_campaigns(db, require_supervisor(db, "sup")) if c.id == camp)
    assert info.removed == {"not_target": 1}
    with db.reading() as s:
        assert s.scalar(select(AuditLog.action).where(AuditLog.entity_id == str(tid))) == (
            "task.remove"
        )


def test_other_needs_text_and_requeues(db: Database) -> None:
    agent, camp = make_agent(db), make_campaign(db)
    tid = make_task(db, camp, make_business(db))
    t = claim(db, agent, camp, now=NOW)
    with pytest.raises(InvalidInput, match="précisez"):
        hand_back(db, agent, t.task_id, "other", "  ", now=NOW)
    with pytest.raises(InvalidInput, match="inconnu"):
        hand_back(db, agent, t.task_id, "bored", now=NOW)
    assert _task(db, tid).claimed_by == agent  # nothing changed
    assert hand_back(db, agent, t.task_id, "other", "le gérant est en congé", now=NOW)
    task = _task(db, tid)
    # back in the queue after the hand-back's delay: waiting until then, then claimed again
    assert task.state == "waiting" and task.claimed_by is None
    assert claim(db, agent, camp, now=NOW + timedelta(days=1)).task_id == tid
    with db.reading() as s:
        detail = s.scalar(select(AuditLog.detail).where(AuditLog.action == "task.release"))
    assert detail is not None and detail["note"] == "le gérant est en congé"
    assert {h.code for h in HAND_BACKS if h.effect == REMOVE} >= {"not_target"}


def test_wrong_record_is_flagged_then_resolved(db: Database, db_url: str) -> None:
    agent, camp = make_agent(db), make_campaign(db, name="Fiches")
    make_agent(db, "sup_idf", role="supervisor", chamber="IDF")
    make_agent(db, "sup_bre", role="supervisor", chamber="BRE")
    bid = make_business(db, "Menuiserie Faussaire", department="75")
    tid = make_task(db, camp, bid)
    t = claim(db, agent, camp, now=NOW)
    assert hand_back(db, agent, t.task_id, "bad_data", "adresse à Lyon, pas Paris", now=NOW)
    assert _task(db, tid).state == "cancelled"
    assert claim_next(db, agent, camp, now=NOW + timedelta(hours=1)) is None
    open_flags = flags.list_flags(db, "sup_idf")
    assert [(f.business, f.note) for f in open_flags] == [
        ("Menuiserie Faussaire", "adresse à Lyon, pas Paris")
    ]
    assert flags.list_flags(db, "sup_bre") == []  # another chamber's supervisor sees nothing
    with pytest.raises(NotFound):
        flags.resolve_flag(db, "sup_bre", open_flags[0].id, "requeue")

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--db", db_url, "flags", *args], obj=AppContext())

    listed = run("list", "--as", "sup_idf")
    assert listed.exit_code == 0, listed.output
    assert "Menuiserie Faussaire" in listed.output and "1 signalement" in listed.output
    no_choice = run("resolve", str(open_flags[0].id), "--as", "sup_idf")
    assert no_choice.exit_code != 0 and "--requeue" in no_choice.output
    done = run(
        "resolve",
        str(open_flags[0].id),
        "--requeue",
        "--note",
        "adresse corrigée",
        "--as",
        "sup_idf",
    )
    assert done.exit_code == 0, done.output
    again = run("resolve", str(open_flags[0].id), "--drop", "--as", "sup_idf")
    assert again.exit_code != 0 and "déjà traité" in again.output
    assert "0 signalement" in run("list", "--as", "sup_idf").output
    task = _task(db, tid)
    assert (task.state, task.end_reason) == ("queued", None)
    assert claim(db, agent, camp, now=NOW + timedelta(hours=1)).task_id == tid
    with db.reading() as s:
        flag = s.execute(select(RecordFlag)).scalar_one()
    assert (flag.resolution, flag.resolution_note) == ("requeue", "adresse corrigée")
