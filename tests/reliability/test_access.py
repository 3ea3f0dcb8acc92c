"""Roles and chambers are enforced in the services, whatever function an agent calls.

An agent of Île-de-France must not claim, take, record, find or export a business of Bretagne,
nor run a supervisor's action (export, import, roll-up, dashboard, campaigns, do-not-call, RGPD,
someone else's PIN). PINs are argon2id hashes; wrong PINs lock the login; `serve` stays local
without PIN login.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import Type, extract_parameters
from click.testing import CliRunner
from sqlalchemy import func, select

from outreach.cli import cli
from outreach.cli.tui import is_local_host
from outreach.db.engine import Database
from outreach.db.models import Agent, AuditLog, Call, CallTask, Campaign
from outreach.errors import Forbidden
from outreach.services import auth, campaigns, dashboard, export, gdpr, importer
from outreach.services.agents import get_agent, get_agent_by_id
from outreach.services.queue import (
    claim_next,
    lift_do_not_call,
    my_callbacks,
    record_call,
    release_task,
    renew_lease,
    search_businesses,
    set_do_not_call,
    take_task,
)
from outreach.services.rollup import rollup
from outreach.services.selection import CallFilter, resolve
from outreach.services.types import CallInput
from tests.factories import make_agent, make_business, make_campaign, make_task

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@dataclass
class World:
    agent: int  # agent of IDF
    other: int  # agent of BRE
    sup_idf: int
    national: int
    bre_campaign: int
    idf_biz: int
    bre_biz: int
    bre_task: int  # in the national campaign
    bre_siret: str
    bre_phone: str


@pytest.fixture
def world(db: Database) -> World:
    agent = make_agent(db, "agent_idf")
    other = make_agent(db, "agent_bre", chamber="BRE")
    sup = make_agent(db, "sup_idf", role="supervisor")
    make_agent(db, "sup_bre", role="supervisor", chamber="BRE")
    national = make_campaign(db, "Nationale")
    bre_campaign = make_campaign(db, "Bretagne", chamber="BRE")
    idf = make_business(db, "Boulangerie Parisienne", department="75")
    bre = make_business(db, "Boulangerie Bretonne", department="29")
    make_task(db, national, idf)
    bre_task = make_task(db, national, bre)
    make_task(db, bre_campaign, bre)
    # a team callback due in Bretagne
    make_task(
        db,
        national,
        make_business(db, "Crêperie Bretonne", department="35"),
        state="callback",
        next_attempt_at=NOW.replace(tzinfo=None) - timedelta(hours=1),
        callback_team_at=NOW.replace(tzinfo=None) - timedelta(hours=1),
    )
    with db.reading() as s:
        from outreach.db.models import Business

        siret, phone = s.execute(
            select(Business.siret, Business.phone).where(Business.id == bre)
        ).one()
    assert phone is not None
    return World(agent, other, sup, national, bre_campaign, idf, bre, bre_task, siret, phone)


def _audit_count(db: Database) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(AuditLog)) or 0)


def test_agent_never_claims_or_takes_another_chambers_business(db: Database, world: World) -> None:
    with pytest.raises(Forbidden):
        claim_next(db, world.agent, world.bre_campaign, now=NOW)
    got = claim_next(db, world.agent, world.national, now=NOW)
    assert got is not None and got.business.id == world.idf_biz
    release_task(db, world.agent, got.task_id, "test", delay_minutes=600, now=NOW)
    assert claim_next(db, world.agent, world.national, now=NOW) is None
    with pytest.raises(Forbidden):
        take_task(db, world.agent, world.national, task_id=world.bre_task, now=NOW)
    with pytest.raises(Forbidden):
        take_task(db, world.agent, world.national, business_id=world.bre_biz, now=NOW)
    with pytest.raises(Forbidden):
        take_task(db, world.agent, world.bre_campaign, business_id=world.bre_biz, now=NOW)
    # a Breton agent holds the task: the Parisian cannot renew, release or record on it
    held = take_task(db, world.other, world.national, task_id=world.bre_task, now=NOW)
    assert renew_lease(db, world.agent, held.task_id, now=NOW) is None
    assert release_task(db, world.agent, held.task_id, "vol", now=NOW) is False
    before = _audit_count(db)
    for task_id in (held.task_id, None):
        with pytest.raises(Forbidden):
            record_call(
                db,
                CallInput(
                    uuid=str(uuidlib.uuid4()),
                    agent_id=world.agent,
                    campaign_id=world.national,
                    business_id=world.bre_biz,
                    task_id=task_id,
                    outcome="reached",
                    started_at=NOW,
                    ended_at=NOW,
                    notes="intrus",
                ),
                now=NOW,
            )
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Call)) == 0
        assert s.scalar(select(CallTask.claimed_by).where(CallTask.id == held.task_id)) == (
            world.other
        )
    assert _audit_count(db) == before


def test_agent_never_reads_another_chambers_business(db: Database, world: World) -> None:
    for query in (world.bre_siret, world.bre_siret[:9], world.bre_phone, "Boulangerie Bretonne"):
        assert search_businesses(db, world.agent, query) == [], query
    assert [h.business.id for h in search_businesses(db, world.agent, "Boulangerie")] == [
        world.idf_biz
    ]
    assert [h.business.id for h in search_businesses(db, world.other, world.bre_siret)] == [
        world.bre_biz
    ]
    assert my_callbacks(db, world.agent, now=NOW) == []
    assert len(my_callbacks(db, world.other, now=NOW)) == 1
    assert my_callbacks(db, world.agent, world.bre_campaign, now=NOW) == []


def test_agent_runs_no_supervisor_action(db: Database, world: World, tmp_path: Path) -> None:
    agent = get_agent_by_id(db, world.agent)
    csv = tmp_path / "liste.csv"
    csv.write_text("siret;nom;departement\n" + world.bre_siret + ";X;29\n", encoding="utf-8")
    before = _audit_count(db)
    actions = {
        "export": lambda: export.export(
            db, agent, export.ExportRequest("businesses", "csv", tmp_path / "out.csv")
        ),
        "export_calls": lambda: export.export(
            db, agent, export.ExportRequest("calls", "jsonl", tmp_path / "calls.jsonl")
        ),
        "resolve": lambda: resolve(db, agent, CallFilter()),
        "rollup": lambda: rollup(db, resolve(db, agent, CallFilter()), ("chamber",)),
        "dashboard": lambda: dashboard.dashboard(db, agent, NOW),
        "import": lambda: importer.import_businesses(db, agent, csv),
        "campaign_create": lambda: campaigns.create_campaign(
            db, agent, campaigns.CampaignSpec("Pirate")
        ),
        "campaign_pause": lambda: campaigns.change_status(db, agent, "Nationale", "pause"),
        "campaign_close": lambda: campaigns.change_status(db, agent, "Nationale", "close"),
        "campaign_fill": lambda: campaigns.fill(db, agent, "Nationale", campaigns.Segment()),
        "campaign_list": lambda: campaigns.list_campaigns(db, agent),
        "dnc_set": lambda: set_do_not_call(db, world.agent, world.idf_biz, "test"),
        "dnc_lift": lambda: lift_do_not_call(db, world.agent, world.idf_biz, "test"),
        "gdpr_show": lambda: gdpr.business_record(db, "agent_idf", world.bre_siret),
        "gdpr_erase": lambda: gdpr.erase_business(db, "agent_idf", world.bre_siret),
        "gdpr_purge": lambda: gdpr.purge(db, "agent_idf", "3y"),
        "set_pin_other": lambda: auth.set_pin(db, "agent_bre", "1234", actor_id=world.agent),
    }
    allowed = []
    for name, fn in actions.items():
        try:
            fn()
        except Forbidden:
            continue
        allowed.append(name)
    assert allowed == [], allowed
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "calls.jsonl").exists()
    assert _audit_count(db) == before
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 2
        assert s.scalar(select(Campaign.status).where(Campaign.id == world.national)) == "active"
        assert s.scalar(select(Agent.pin_hash).where(Agent.login == "agent_bre")) is None
    # an agent may still set their own PIN
    auth.set_pin(db, "agent_idf", "2468", actor_id=world.agent)


def test_regional_supervisor_stays_in_their_chamber(
    db: Database, world: World, tmp_path: Path
) -> None:
    sup = get_agent(db, "sup_idf")
    with pytest.raises(Forbidden):
        resolve(db, sup, CallFilter(chamber="BRE"))
    with pytest.raises(Forbidden):
        set_do_not_call(db, world.sup_idf, world.bre_biz, "test")
    with pytest.raises(Forbidden):
        gdpr.business_record(db, "sup_idf", world.bre_siret)
    with pytest.raises(Forbidden):
        campaigns.change_status(db, sup, "Bretagne", "pause")
    with pytest.raises(Forbidden):
        auth.set_pin(db, "agent_bre", "1234", actor_id=world.sup_idf)
    out = export.export(db, sup, export.ExportRequest("businesses", "csv", tmp_path / "b.csv"))
    text = out.path.read_text(encoding="utf-8-sig")
    assert "Parisienne" in text and "Bretonne" not in text
    auth.set_pin(db, "agent_idf", "1357", actor_id=world.sup_idf)


def test_pins_are_slow_argon2id_hashes(db: Database, world: World) -> None:
    auth.set_pin(db, "agent_idf", "4821")
    with db.reading() as s:
        stored = s.scalar(select(Agent.pin_hash).where(Agent.id == world.agent))
    assert stored and "4821" not in stored
    params = extract_parameters(stored)
    # RFC 9106 / OWASP: argon2id, at least 19 MiB and 2 passes; we keep argon2-cffi's 64 MiB, t=3
    assert params.type is Type.ID
    assert params.memory_cost >= 65536 and params.time_cost >= 3 and params.parallelism >= 1
    assert params.salt_len >= 16
    auth.set_pin(db, "agent_bre", "4821")
    with db.reading() as s:
        other = s.scalar(select(Agent.pin_hash).where(Agent.id == world.other))
    assert other != stored  # salted


def test_wrong_pins_make_the_login_wait_longer_up_to_a_cap(db: Database, world: World) -> None:
    from outreach.services.login_delay import FREE, LOGIN_CAP

    auth.set_pin(db, "agent_idf", "4821")
    at = NOW
    waits = []
    for n in range(1, 15):
        # each from a new terminal: the login's own wait, not the source's
        with pytest.raises(Forbidden) as refused:
            auth.verify_login(db, "agent_idf", "0000", now=at, source=f"tty:/dev/pts/{n}")
        with db.reading() as s:
            until = s.scalar(select(Agent.locked_until).where(Agent.id == world.agent))
        waits.append(timedelta(0) if until is None else until - at.replace(tzinfo=None))
        if n >= FREE:
            assert "prochain essai possible" in str(refused.value)
        at += waits[-1]
    assert waits[: FREE - 1] == [timedelta(0)] * (FREE - 1)
    assert waits[FREE - 1 : FREE + 2] == [timedelta(seconds=s) for s in (15, 30, 60)]
    assert max(waits) == LOGIN_CAP == waits[-1]  # doubled, then capped: never longer
    # while waiting the right PIN is refused; at the end of the wait it works
    with pytest.raises(Forbidden, match="trop de tentatives erronées pour agent_idf"):
        auth.verify_login(db, "agent_idf", "4821", now=at - timedelta(seconds=1), source="x")
    who = auth.verify_login(db, "agent_idf", "4821", now=at, source="x")
    assert who.id == world.agent
    with db.reading() as s:
        actions = list(
            s.scalars(
                select(AuditLog.action)
                .where(AuditLog.agent_id == world.agent, AuditLog.entity == "agent")
                .order_by(AuditLog.id)
            )
        )
        state = s.execute(
            select(Agent.failed_pins, Agent.locked_until).where(Agent.id == world.agent)
        ).one()
    assert actions.count("login_failed") == 14 and actions[-2:] == ["login_refused", "login"]
    assert tuple(state) == (0, None)  # the right PIN starts the count again


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "", " ", "192.168.1.10", "example.org", "127.0.0.1.nip.io", "[::]"]
)
def test_serve_refuses_non_local_hosts_without_pin(host: str, tmp_path: Path) -> None:
    assert not is_local_host(host)
    out = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "x.sqlite3"), "serve", "--host", host, "--port", "1"]
    )
    assert out.exit_code != 0 and "--pin-required" in out.output
    assert "Traceback" not in out.output


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "LOCALHOST", "::1", "[::1]", "127.0.0.2"]
)
def test_local_hosts_are_local(host: str) -> None:
    assert is_local_host(host)
