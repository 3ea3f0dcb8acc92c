"""Campaigns: create, list, pause/resume/close, fill skipping do-not-call, rights, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import AuditLog, CallTask, Campaign
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.services import campaigns as service
from outreach.services.access import require_supervisor
from outreach.services.agent_states import wrap_up_limit
from tests.supervision.builders import World, add_business, build_world


@pytest.fixture
def world(db: Database) -> World:
    w = build_world(db)
    add_business(db, w, "salon_bre", 201, "BRE", "35", status="closed_admin", trade="96.02AA")
    add_business(
        db,
        w,
        "salon_dnc",
        202,
        "BRE",
        "56",
        status="closed_admin",
        trade="96.02AA",
        do_not_call=True,
    )
    add_business(db, w, "salon_idf", 203, "IDF", "75", status="closed_admin", trade="96.02BA")
    add_business(db, w, "salon_ceased", 204, "IDF", "75", status="ceased", trade="96.02AA")
    add_business(db, w, "bijou_idf", 205, "IDF", "75", status="closed_admin", trade="32.12ZA")
    return w


def queued(db: Database, campaign: str) -> set[int]:
    with db.reading() as s:
        cid = s.scalar(select(Campaign.id).where(Campaign.name == campaign))
        return set(s.scalars(select(CallTask.business_id).where(CallTask.campaign_id == cid)))


def test_create_fill_closed_trades_skipping_do_not_call(db: Database, world: World) -> None:
    sup = require_supervisor(db, "sup_nat")
    spec = service.CampaignSpec(
        "Clic et collecte C2",
        lockdown="confinement-2",
        max_attempts=3,
        retry_delays=(30, 120),
        window_days="123456",
        window_hours="09:00-12:00, 14:00-18:00",
        script=(service.parse_question("vend_en_ligne=Vendez-vous en ligne ?|oui|non"),),
    )
    info = service.create_campaign(db, sup, spec)
    assert (info.status, info.lockdown, info.chamber_code) == ("active", "confinement-2", None)
    assert info.questions == ("vend_en_ligne",) and info.window_hours == "09:00-12:00,14:00-18:00"
    segment = service.Segment(statuses=("closed_admin",), trades=("96.02A", "96.02B"))
    result = service.fill(db, sup, spec.name, segment)
    assert (result.matched, result.added, result.already, result.skipped_do_not_call) == (
        2,
        2,
        0,
        1,
    )
    assert queued(db, spec.name) == {world.business["salon_bre"], world.business["salon_idf"]}
    again = service.fill(db, sup, spec.name, segment)
    assert (again.added, again.already) == (0, 2)
    with db.reading() as s:
        actions = s.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
        camp = s.execute(select(Campaign).where(Campaign.name == spec.name)).scalar_one()
    assert actions == ["campaign_create", "campaign_fill", "campaign_fill"]
    assert camp.script == [
        {"key": "vend_en_ligne", "text": "Vendez-vous en ligne ?", "choices": ["oui", "non"]}
    ]
    assert camp.retry_delays == [30, 120] and camp.target == segment.as_json()


def test_regional_supervisor(db: Database, world: World) -> None:
    sup = require_supervisor(db, "sup_bre")
    info = service.create_campaign(db, sup, service.CampaignSpec("Bretagne"))
    assert info.chamber_code == "BRE"  # a regional supervisor's campaign is of their chamber
    with pytest.raises(Forbidden):
        service.create_campaign(db, sup, service.CampaignSpec("Paris", chamber="IDF"))
    # a national campaign filled by a regional supervisor: their chamber's businesses only
    service.create_campaign(db, require_supervisor(db, "sup_nat"), service.CampaignSpec("Nat"))
    service.fill(db, sup, "Nat", service.Segment(statuses=("closed_admin",)))
    assert queued(db, "Nat") == {world.business["salon_bre"]}
    with pytest.raises(Forbidden):
        service.change_status(db, sup, "Nat", "pause")
    names = [c.name for c in service.list_campaigns(db, sup)]
    assert names == ["c1", "c2", "c3", "Bretagne", "Nat"]
    idf = [c.name for c in service.list_campaigns(db, require_supervisor(db, "sup_nat"))]
    assert "Bretagne" in idf


def test_status_changes(db: Database, world: World) -> None:
    sup = require_supervisor(db, "sup_nat")
    service.create_campaign(db, sup, service.CampaignSpec("X"))
    assert service.change_status(db, sup, "X", "pause").status == "paused"
    assert service.change_status(db, sup, "X", "resume").status == "active"
    assert service.change_status(db, sup, "X", "close").status == "closed"
    with pytest.raises(InvalidInput, match="closed"):
        service.change_status(db, sup, "X", "resume")
    with pytest.raises(InvalidInput, match="close"):
        service.fill(db, sup, "X", service.Segment())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window_days": "89"}, "--days"),
        ({"window_hours": "20:00-10:00"}, "--hours"),
        ({"max_attempts": 0}, "--max-attempts"),
        ({"lockdown": "confinement-7"}, "confinement inconnu"),
    ],
)
def test_bad_specs(db: Database, world: World, kwargs: dict, message: str) -> None:
    with pytest.raises((InvalidInput, NotFound), match=message):
        service.create_campaign(
            db, require_supervisor(db, "sup_nat"), service.CampaignSpec("Y", **kwargs)
        )


def test_parse_helpers(tmp_path: Path) -> None:
    assert service.parse_delays("60, 240") == (60, 240)
    with pytest.raises(InvalidInput):
        service.parse_delays("soon")
    with pytest.raises(InvalidInput):
        service.parse_question("pas de clé")
    (tmp_path / "s.txt").write_text(
        "# script\nouvert=Êtes-vous ouvert ?|oui|non\n\naide=Besoin ?\n"
    )
    assert [q.key for q in service.read_script(str(tmp_path / "s.txt"))] == ["ouvert", "aide"]


def test_cli(db_url: str, world: World, tmp_path: Path) -> None:
    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--db", db_url, *args, "--as", "sup_nat"], obj=AppContext())

    r = run(
        "campaign",
        "create",
        "Salons",
        "--lockdown",
        "confinement-2",
        "--status",
        "closed_admin",
        "--trades",
        "96.02A",
        "--question",
        "ouvert=Ouvert ?",
    )
    assert r.exit_code == 0, r.output
    assert "campagne créée : Salons [en cours] national confinement-2" in r.output
    assert (
        "1 entreprises ajoutées à la file de Salons (0 y étaient déjà, 1 en opposition" in r.output
    )
    r = run("campaign", "pause", "Salons")
    assert r.exit_code == 0 and "[suspendue]" in r.output
    r = run("campaign", "list")
    assert (
        "Salons [suspendue] national confinement-2 : 1 à appeler / 1 en file, 0 appels" in r.output
    )
    # closing is final: previewed, refused in a script without --yes, done with it
    r = run("campaign", "close", "Salons", "--dry-run")
    assert r.exit_code == 0 and "les 1 entreprises encore à appeler ne le seront pas" in r.output
    assert "essai à blanc" in r.output
    r = run("campaign", "close", "Salons")
    assert r.exit_code == 1 and "--yes" in r.output
    r = run("campaign", "list")
    assert "Salons [suspendue]" in r.output  # unchanged
    r = run("campaign", "close", "Salons", "--yes")
    assert r.exit_code == 0 and "Salons [close] national confinement-2 : 0 à appeler" in r.output
    r = run("campaign", "create", "Bad", "--question", "nope")
    assert r.exit_code == 1 and "clé=texte" in r.output


def test_settings_changed_in_scope_and_audited(db: Database, db_url: str, world: World) -> None:
    """`campaign set`: the wrap-up limit and the verification delay of an existing campaign,
    by a supervisor of its chamber only, within the creation's bounds, audited."""
    nat, bre = require_supervisor(db, "sup_nat"), require_supervisor(db, "sup_bre")
    service.create_campaign(db, nat, service.CampaignSpec("Nationale"))
    service.create_campaign(db, bre, service.CampaignSpec("Bretagne"))
    with pytest.raises(Forbidden):
        service.change_settings(db, bre, "Nationale", max_wrap_up_seconds=60)
    with pytest.raises(InvalidInput, match="entre 10 et 3600"):
        service.change_settings(db, bre, "Bretagne", max_wrap_up_seconds=5)
    with pytest.raises(InvalidInput, match="rien à changer"):
        service.change_settings(db, bre, "Bretagne")
    r = CliRunner().invoke(
        cli,
        ["--db", db_url, "campaign", "set", "Bretagne", "--max-wrap-up", "90",
         "--verify-after-days", "30", "--as", "sup_bre"],
        obj=AppContext(),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "clôture 90 s au plus, vérification 30 jours" in r.output
    with db.reading() as s:
        camp = s.scalars(select(Campaign).where(Campaign.name == "Bretagne")).one()
        assert (camp.max_wrap_up_seconds, camp.verify_after_days, camp.max_attempts) == (90, 30, 5)
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "campaign_settings")).one()
    assert audit.detail is not None
    assert audit.detail["from"] == {"max_wrap_up_seconds": 120, "verify_after_days": 21}
    assert wrap_up_limit(db, camp.id) == 90
