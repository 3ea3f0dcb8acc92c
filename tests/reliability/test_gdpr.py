"""RGPD: access request, erasure and retention purge keep roll-ups and oppositions, audited."""

from __future__ import annotations

import json
import uuid as uuidlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from outreach.cli import cli
from outreach.db.engine import Database
from outreach.db.models import (
    AuditLog,
    Business,
    Call,
    CallAnswer,
    CallTask,
    Referral,
    ReferralEvent,
)
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.services import gdpr
from outreach.services.queue import claim_next, record_call
from outreach.services.referrals import change_state
from outreach.services.rollup import recount, rollup
from outreach.services.selection import resolve
from outreach.services.types import CallInput, RecordResult, ReferralInput
from tests.factories import make_agent, make_business, make_campaign, make_task

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=4 * 365)


@dataclass
class World:
    agent: int
    campaign: int
    recent: int  # business called recently
    old: int  # business last called four years ago, opted out
    old_plain: int  # business last called four years ago
    sirets: dict[int, str]


def _call(
    db: Database, agent: int, campaign: int, business: int, outcome: str, at: datetime, **kw: Any
) -> RecordResult:
    task = make_task(db, campaign, business) if kw.pop("new_task", True) else None
    t = claim_next(db, agent, campaign, now=at)
    assert t is not None and t.business.id == business, (task, t)
    return record_call(
        db,
        CallInput(
            uuid=str(uuidlib.uuid4()),
            agent_id=agent,
            campaign_id=campaign,
            business_id=business,
            task_id=t.task_id,
            outcome=outcome,
            started_at=at,
            ended_at=at + timedelta(minutes=3),
            **kw,
        ),
        now=at + timedelta(minutes=3),
    )


def _siret(db: Database, business: int) -> str:
    with db.reading() as s:
        return str(s.scalar(select(Business.siret).where(Business.id == business)))


@pytest.fixture
def world(db: Database) -> World:
    agent = make_agent(db, "conseiller")
    make_agent(db, "sup_idf", role="supervisor")
    make_agent(db, "sup_bre", role="supervisor", chamber="BRE")
    make_agent(db, "admin", role="admin")
    camp = make_campaign(db)
    recent = make_business(db, "Boulangerie Dupont", email="jean@dupont.fr", address="1 rue Haute")
    old = make_business(db, "Garage Martin", phone_alt="+33612345678", address="2 rue Basse")
    old_plain = make_business(db, "Coiffure Léa", address="3 place Ronde")
    _call(
        db,
        agent,
        camp,
        old,
        "reached",
        OLD,
        notes="Le gérant, M. Martin, 06 12 34 56 78",
        answers={"online": "non", "needs": "site web pour M. Martin"},
        referrals=(ReferralInput("digital_diagnostic", notes="rappeler Paul Martin"),),
    )
    _call(db, agent, camp, old_plain, "no_answer", OLD + timedelta(days=1))
    _call(db, agent, camp, recent, "reached", NOW - timedelta(days=10), notes="Jean Dupont ok")
    # opposition expressed later on the old business, still long ago
    _call(db, agent, make_campaign(db), old, "do_not_call", OLD + timedelta(days=2))
    return World(
        agent, camp, recent, old, old_plain, {b: _siret(db, b) for b in (recent, old, old_plain)}
    )


def _figures(db: Database) -> list[object]:
    from outreach.services.agents import get_agent

    sel = resolve(db, get_agent(db, "admin"))
    out: list[object] = []
    for by in (("chamber",), ("campaign", "outcome"), ("agent", "day"), ()):
        r = rollup(db, sel, by)
        out.append((r.rows, r.total))
        rc = recount(db, sel, by)
        assert (rc.rows, rc.total) == (r.rows, r.total)
    return out


def _counts(db: Database) -> dict[str, int]:
    with db.reading() as s:
        return {
            m.__tablename__: int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Business, Call, Referral, CallTask)
        }


def _audit(db: Database, action: str) -> list[AuditLog]:
    with db.reading() as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_show_everything_held_and_audited(db: Database, world: World) -> None:
    record = gdpr.business_record(
        db, "sup_idf", world.sirets[world.old][:9] + " " + world.sirets[world.old][9:]
    )
    assert record["business"]["name"] == "Garage Martin"
    assert record["business"]["do_not_call"] is True
    assert len(record["tasks"]) == 2
    assert [c["outcome"] for c in record["calls"]] == ["reached", "do_not_call"]
    first = record["calls"][0]
    assert first["notes"] == "Le gérant, M. Martin, 06 12 34 56 78"
    assert {a["question"]: a["answer"] for a in first["answers"]} == {
        "online": "non",
        "needs": "site web pour M. Martin",
    }
    assert first["referrals"][0]["kind"] == "digital_diagnostic"
    actions = {a["action"] for a in record["audit"]}
    assert {"call.record", "business.do_not_call"} <= actions
    json.dumps(record)  # every value serialisable
    shown = _audit(db, "gdpr.show")
    assert len(shown) == 1 and shown[0].entity_id == str(world.old)


def test_erase_keeps_rollups_and_opposition(db: Database, world: World) -> None:
    with db.reading() as s:
        rid = s.scalar(select(Referral.id).where(Referral.business_id == world.old))
    assert rid is not None
    change_state(db, world.agent, rid, "declined", note="M. Martin ne veut pas")
    shown = json.dumps(gdpr.business_record(db, "admin", world.sirets[world.old]))
    assert "M. Martin ne veut pas" in shown  # the access request shows the referral's history
    before, counts = _figures(db), _counts(db)
    done = gdpr.erase_business(db, "admin", world.sirets[world.old], "demande du gérant")
    assert done.do_not_call and done.calls_anonymised == 2 and done.answers_removed == 2
    assert _figures(db) == before
    assert _counts(db) == counts
    with db.reading() as s:
        b = s.execute(select(Business).where(Business.id == world.old)).scalar_one()
        assert (b.name, b.address, b.phone, b.phone_alt, b.email) == (
            gdpr.ERASED_NAME,
            None,
            None,
            None,
            None,
        )
        assert b.do_not_call is True and b.siret == world.sirets[world.old]
        calls = s.execute(select(Call.notes, Call.phone).where(Call.business_id == world.old)).all()
        assert calls and all(n is None and p is None for n, p in calls)
        assert (
            s.scalar(
                select(func.count())
                .select_from(CallAnswer)
                .join(Call)
                .where(Call.business_id == world.old)
            )
            == 0
        )
        assert s.scalar(select(Referral.notes).where(Referral.business_id == world.old)) is None
        assert s.scalar(select(ReferralEvent.note).where(ReferralEvent.referral_id == rid)) is None
        # the other businesses are untouched
        assert (
            s.scalar(select(Business.name).where(Business.id == world.recent))
            == "Boulangerie Dupont"
        )
    rows = _audit(db, "gdpr.erase")
    assert len(rows) == 1 and rows[0].entity_id == str(world.old)
    assert rows[0].detail and rows[0].detail["reason"] == "demande du gérant"
    # nothing personal left to show
    text = json.dumps(
        gdpr.business_record(db, "admin", world.sirets[world.old]), ensure_ascii=False
    )
    assert "Martin" not in text and "06 12" not in text and "+3361234" not in text


def test_purge_older_than_three_years(db: Database, world: World) -> None:
    before = _figures(db)
    done = gdpr.purge(db, "admin", "3y", now=NOW)
    assert done.businesses == 2 and done.oppositions_kept == 1
    assert _figures(db) == before
    with db.reading() as s:
        names = dict(s.execute(select(Business.id, Business.name)).all())
        dnc = dict(s.execute(select(Business.id, Business.do_not_call)).all())
    assert names[world.old] == names[world.old_plain] == gdpr.ERASED_NAME
    assert names[world.recent] == "Boulangerie Dupont"
    assert dnc[world.old] is True and dnc[world.old_plain] is False
    rows = _audit(db, "gdpr.purge")
    assert len(rows) == 1 and rows[0].detail
    assert sorted(rows[0].detail["business_ids"]) == sorted([world.old, world.old_plain])
    # a second purge finds nothing more, and is still recorded
    assert gdpr.purge(db, "admin", "36m", now=NOW).businesses == 0
    assert len(_audit(db, "gdpr.purge")) == 2


def test_purge_stays_in_the_supervisors_chamber(db: Database, world: World) -> None:
    assert gdpr.purge(db, "sup_bre", "3y", now=NOW).businesses == 0
    assert gdpr.purge(db, "sup_idf", "3y", now=NOW).businesses == 2


def test_rights_and_bad_input(db: Database, world: World) -> None:
    siret = world.sirets[world.old]
    for fn in (
        lambda: gdpr.business_record(db, "conseiller", siret),
        lambda: gdpr.erase_business(db, "conseiller", siret),
        lambda: gdpr.purge(db, "conseiller", "3y"),
        lambda: gdpr.business_record(db, "sup_bre", siret),
        lambda: gdpr.erase_business(db, "sup_bre", siret),
    ):
        with pytest.raises(Forbidden):
            fn()
    with pytest.raises(NotFound):
        gdpr.erase_business(db, "admin", "1" * 14)
    with pytest.raises(InvalidInput):
        gdpr.erase_business(db, "admin", "12345")
    for bad in ("3", "y", "0y", "trois ans", "-3y"):
        with pytest.raises(InvalidInput):
            gdpr.parse_age(bad)
    assert gdpr.parse_age("3 ans") == gdpr.parse_age("3y") == timedelta(days=1095)
    with db.reading() as s:
        assert s.scalar(select(Business.name).where(Business.id == world.old)) == "Garage Martin"


def test_cli(db: Database, db_url: str, world: World) -> None:
    runner = CliRunner()
    siret = world.sirets[world.old]
    out = runner.invoke(cli, ["--db", db_url, "gdpr", "show", "--siret", siret, "--as", "admin"])
    assert out.exit_code == 0, out.output
    assert "Garage Martin" in out.output and "site web pour M. Martin" in out.output
    out = runner.invoke(
        cli, ["--db", db_url, "gdpr", "show", "--siret", siret, "--format", "json", "--as", "admin"]
    )
    assert json.loads(out.output)["business"]["siret"] == siret
    out = runner.invoke(
        cli, ["--db", db_url, "gdpr", "erase", "--siret", siret, "--as", "conseiller"]
    )
    assert out.exit_code == 1 and "réservés aux superviseurs" in out.output
    assert "Traceback" not in out.output
    out = runner.invoke(
        cli, ["--db", db_url, "gdpr", "erase", "--siret", siret, "--as", "admin", "--yes"]
    )
    assert out.exit_code == 0, out.output
    assert "opposition : oui" in out.output
    out = runner.invoke(
        cli, ["--db", db_url, "gdpr", "purge", "--older-than", "3y", "--as", "admin", "--yes"]
    )
    assert out.exit_code == 0, out.output
    assert "1 entreprises effacées" in out.output  # old_plain; old was erased already
    out = runner.invoke(
        cli, ["--db", db_url, "gdpr", "purge", "--older-than", "bientôt", "--as", "admin"]
    )
    assert out.exit_code == 1 and "durée invalide" in out.output
