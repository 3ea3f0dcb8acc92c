"""Invariant 5: every change a person makes, through any service, leaves an audit row saying who
(agent_id) and what (action, entity, entity id or detail), written with the change."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from outreach.db.engine import Database
from outreach.db.models import AuditLog, Business
from outreach.errors import Forbidden
from outreach.services import auth, campaigns, export, gdpr, importer
from outreach.services.agents import get_agent
from outreach.services.queue import (
    lift_do_not_call,
    record_call,
    release_task,
    set_do_not_call,
    take_task,
)
from outreach.services.seeding import seed_profile
from outreach.services.types import CallInput
from tests.factories import (
    call_on,
    make_agent,
    make_business,
    make_campaign,
    make_phone,
    make_siret,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


class Trail:
    """The audit rows written since the last look."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.mark = self._last()

    def _last(self) -> int:
        with self.db.reading() as s:
            return int(s.scalar(select(func.max(AuditLog.id))) or 0)

    def new(self) -> list[AuditLog]:
        with self.db.reading() as s:
            rows = list(
                s.scalars(select(AuditLog).where(AuditLog.id > self.mark).order_by(AuditLog.id))
            )
        self.mark = self._last()
        return rows

    def expect(self, action: str, who: int | None, entity: str, entity_id: Any = None) -> AuditLog:
        rows = self.new()
        found = [r for r in rows if r.action == action]
        assert found, f"no audit row {action!r}; written: {[r.action for r in rows]}"
        row = found[0]
        assert row.agent_id == who, (action, row.agent_id, who)
        assert row.entity == entity, (action, row.entity)
        assert row.at is not None
        if entity_id is not None:
            assert row.entity_id == str(entity_id), (action, row.entity_id, entity_id)
        else:
            assert row.entity_id is not None or row.detail, f"{action}: says nothing of what"
        return row


def _call(agent: int, task: Any, outcome: str, **kw: Any) -> CallInput:
    return call_on(agent, task, outcome, NOW, **kw)


def test_every_mutating_service_leaves_an_audit_row(db: Database, tmp_path: Path) -> None:
    agent = make_agent(db, "agent_a")
    sup = make_agent(db, "sup_a", role="supervisor")
    sup_info = get_agent(db, "sup_a")
    camp = make_campaign(db, "Audit")
    b1, b2, b3 = (make_business(db, f"Entreprise audit {i}") for i in range(3))
    trail = Trail(db)

    # the call queue: take (creates the task), record, release
    t = take_task(db, agent, camp, business_id=b1, now=NOW)
    trail.expect("task.create", agent, "call_task", t.task_id)
    res = record_call(db, _call(agent, t, "reached", notes="ok"), now=NOW)
    row = trail.expect("call.record", agent, "call", res.call_id)
    assert row.detail and row.detail["outcome"] == "reached"
    t2 = take_task(db, agent, camp, business_id=b2, now=NOW)
    trail.new()
    assert release_task(db, agent, t2.task_id, "occupé", now=NOW)
    trail.expect("task.release", agent, "call_task", t2.task_id)
    # a call that changes the business (ceased) and one that opts it out
    t3 = take_task(db, agent, camp, business_id=b3, now=NOW)
    trail.new()
    record_call(db, _call(agent, t3, "ceased"), now=NOW)
    trail.new()  # call.record
    with db.reading() as s:
        assert s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "business.update", AuditLog.entity_id == str(b3))
        )

    # do-not-call set and lifted by a supervisor
    set_do_not_call(db, sup, b2, "courrier du gérant", now=NOW)
    trail.expect("business.do_not_call", sup, "business", b2)
    assert lift_do_not_call(db, sup, b2, "erreur de saisie", now=NOW)
    trail.expect("business.do_not_call_lifted", sup, "business", b2)

    # campaigns: create, pause, resume, close... and fill
    info = campaigns.create_campaign(db, sup_info, campaigns.CampaignSpec("Audit 2"))
    trail.expect("campaign_create", sup, "campaign", info.id)
    campaigns.fill(db, sup_info, "Audit 2", campaigns.Segment())
    trail.expect("campaign_fill", sup, "campaign", info.id)
    for action in ("pause", "resume", "close"):
        campaigns.change_status(db, sup_info, "Audit 2", action)
        trail.expect(f"campaign_{action}", sup, "campaign", info.id)

    # import and export
    csv = tmp_path / "liste.csv"
    siret = make_siret()
    csv.write_text(
        "siret;raison sociale;code postal;telephone\n"
        f"{siret};Nouvelle entreprise;75011;{make_phone('75')}\n",
        encoding="utf-8",
    )
    summary = importer.import_businesses(db, sup_info, csv)
    assert summary.read == 1 and summary.rejected == 0, summary.first_rejects
    rows = trail.new()
    assert any(r.action == "import" and r.agent_id == sup and r.detail for r in rows)
    assert any(
        r.action == "import.batch"
        and r.agent_id == sup
        and siret in list((r.detail or {})["sirets"])
        for r in rows
    ), [r.action for r in rows]
    out = export.export(db, sup_info, export.ExportRequest("calls", "csv", tmp_path / "c.csv"))
    row = trail.expect("export", sup, "calls")
    assert row.detail and row.detail["rows"] == out.rows == 2

    # PINs and logins
    auth.set_pin(db, "agent_a", "2580", actor_id=sup)
    trail.expect("set_pin", sup, "agent", agent)
    with pytest.raises(Forbidden):
        auth.verify_login(db, "agent_a", "0000")
    trail.expect("login_failed", agent, "agent", agent)
    auth.verify_login(db, "agent_a", "2580")
    trail.expect("login", agent, "agent", agent)
    # removing a PIN: a supervisor proven by their own PIN (on SQLite)
    auth.set_pin(db, "sup_a", "1357", actor_id=sup)
    trail.expect("set_pin", sup, "agent", sup)
    auth.set_pin(db, "agent_a", None, actor_id=sup)
    trail.expect("clear_pin", sup, "agent", agent)

    # RGPD
    with db.reading() as s:
        siret_b1 = s.scalar(select(Business.siret).where(Business.id == b1))
    assert siret_b1
    gdpr.business_record(db, "sup_a", siret_b1)
    trail.expect("gdpr.show", sup, "business", b1)
    gdpr.erase_business(db, "sup_a", siret_b1)
    trail.expect("gdpr.erase", sup, "business", b1)
    gdpr.purge(db, "sup_a", "3y")
    trail.expect("gdpr.purge", sup, "business")


def test_an_interrupted_import_audits_what_it_wrote(db: Database, tmp_path: Path) -> None:
    make_agent(db, "sup_b", role="supervisor")
    sup = get_agent(db, "sup_b")
    lines = ["siret;raison sociale;code postal"]
    sirets = [make_siret() for _ in range(5)]
    lines += [f"{s};Entreprise {i};75011" for i, s in enumerate(sirets)]
    csv = tmp_path / "liste.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")

    class Stop(Exception):
        pass

    def stop_after_first_batch(read: int) -> None:
        if read >= 2:
            raise Stop

    with pytest.raises(Stop):
        importer.import_businesses(db, sup, csv, batch_size=2, progress=stop_after_first_batch)
    with db.reading() as s:
        written = set(s.scalars(select(Business.siret).where(Business.siret.in_(sirets))))
        audited: set[str] = set()
        for detail in s.scalars(select(AuditLog.detail).where(AuditLog.agent_id == sup.id)):
            audited.update((detail or {}).get("sirets", []))
    assert written == set(sirets[:2])
    assert written <= audited


def test_seeding_is_audited(db: Database) -> None:
    trail = Trail(db)
    seed_profile(db, "demo", now=NOW)
    row = trail.expect("seed", None, "database", "demo")
    assert row.detail and row.detail["counts"]
