"""Imports never change a business outside the importer's scope, never bring back an erased
firm nor touch one that opposed calls (each row rejected with its reason), and report a SIRET
present twice in one file (both backends, real files)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import AuditLog, Business, CallTask
from outreach.errors import InvalidInput
from outreach.services.access import require_supervisor
from outreach.services.gdpr import ERASED_NAME, erase_business
from outreach.services.importer import import_businesses
from tests.supervision.builders import World, build_world, make_siret

HEADER = "SIRET;Raison sociale;Code postal;Téléphone\n"
B1, B4, B6 = make_siret(1), make_siret(4), make_siret(6)  # b1, b4 in BRE; b6 in IDF
NEW = make_siret(501)


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


def csv_file(path: Path, *lines: str) -> Path:
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def business(db: Database, siret: str) -> Business:
    with db.reading() as s:
        return s.execute(select(Business).where(Business.siret == siret)).scalar_one()


def rejects_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


@pytest.mark.parametrize("batch_size", [5_000, 1])
def test_regional_import_never_takes_another_chambers_firm(
    db: Database, world: World, tmp_path: Path, batch_size: int
) -> None:
    path = csv_file(
        tmp_path / "hijack.csv",
        f"{B6};Détourné SARL;35000;02 99 00 00 01",  # an IDF firm, given a Rennes address
        f"{NEW};Nouvelle Bretonne;35000;02 99 00 00 02",
    )
    sup = require_supervisor(db, "sup_bre")
    summary = import_businesses(db, sup, path, campaign="c3", batch_size=batch_size)
    assert (summary.read, summary.new, summary.updated, summary.rejected) == (2, 1, 0, 1)
    (refused,) = summary.first_rejects
    assert (refused.line, refused.field, refused.value) == (2, "SIRET", B6)
    assert refused.reason == (
        "entreprise suivie par une autre chambre : hors du périmètre de l'import (BRE)"
    )
    b6 = business(db, B6)
    assert (b6.name, b6.phone, b6.postcode, b6.chamber_id) == (
        "Entreprise b6",
        "+33612345678",
        None,
        world.chamber["IDF"],
    )
    assert rejects_of(tmp_path / "hijack.rejets.csv")[0]["value"] == B6
    with db.reading() as s:
        queued = s.scalars(select(CallTask.business_id)).all()
        batches = s.scalars(select(AuditLog.detail).where(AuditLog.action == "import.batch")).all()
    assert queued == [business(db, NEW).id]  # the refused firm is not queued either
    assert any(d.get("refused") == [B6] for d in batches)
    assert all(B6 not in d["sirets"] for d in batches)


def test_national_import_limited_to_a_chamber_stays_in_it(
    db: Database, world: World, tmp_path: Path
) -> None:
    path = csv_file(tmp_path / "l.csv", f"{B6};Détourné SARL;35000;")
    sup = require_supervisor(db, "sup_nat")
    limited = import_businesses(db, sup, path, chamber="BRE")
    assert limited.rejected == 1 and business(db, B6).chamber_id == world.chamber["IDF"]
    # the whole network's supervisor, without --chamber: a firm that moved is moved
    moved = import_businesses(db, sup, path)
    assert (moved.updated, moved.rejected) == (1, 0)
    assert business(db, B6).chamber_id == world.chamber["BRE"]


@pytest.mark.parametrize("dry_run", [False, True])
def test_erased_and_opposed_firms_stay_as_they_are(
    db: Database, world: World, tmp_path: Path, dry_run: bool
) -> None:
    erase_business(db, "sup_nat", B1, "demande de la personne")
    with db.writing() as s:
        s.execute(update(Business).where(Business.siret == B4).values(do_not_call=True))
    path = csv_file(
        tmp_path / "liste.csv",
        f"{B1};Boulangerie Revenue;35000;02 99 00 00 01",
        f"{make_siret(2)};Mise à jour;35000;02 99 00 00 03",
        f"{B4};Opposée Renommée;35000;02 99 00 00 04",
    )
    summary = import_businesses(db, require_supervisor(db, "sup_bre"), path, dry_run=dry_run)
    assert (summary.read, summary.new, summary.updated, summary.rejected) == (3, 0, 1, 2)
    assert [(r.line, r.value, r.reason) for r in summary.first_rejects] == [
        (2, B1, "entreprise effacée (RGPD) : l'import ne la recrée pas"),
        (4, B4, "entreprise en opposition (ne plus appeler) : l'import ne la modifie pas"),
    ]
    b1, b4 = business(db, B1), business(db, B4)
    assert (b1.name, b1.phone, b1.address) == (ERASED_NAME, None, None)
    assert (b4.name, b4.phone, b4.do_not_call) == ("Entreprise b4", "+33612345678", True)
    assert business(db, make_siret(2)).name == ("Entreprise b2" if dry_run else "Mise à jour")


def test_same_siret_twice_in_a_file_is_reported(db: Database, world: World, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path / "doublons.csv",
        f"{NEW};Première version;35000;",
        f"{make_siret(502)};Autre;35000;",
        f"{NEW};Deuxième version;35000;",
        f"{NEW};Troisième, invalide;99999;",  # rejected: not a duplicate that wins
    )
    summary = import_businesses(db, require_supervisor(db, "sup_nat"), path, batch_size=2)
    assert summary.duplicate_count == 1
    (dup,) = summary.duplicates
    assert (dup.siret, dup.lines) == (NEW, (2, 4))
    assert business(db, NEW).name == "Deuxième version"
    assert summary.imported + summary.rejected == summary.read == 4
    r = CliRunner().invoke(
        cli,
        [
            "--db",
            db.url.render_as_string(hide_password=False),
            "import",
            "businesses",
            str(path),
            "--as",
            "sup_nat",
        ],
        obj=AppContext(),
    )
    assert r.exit_code == 0, r.output
    assert f"SIRET {NEW} : lignes 2, 4 ; la ligne 4 l'emporte" in r.output


def test_rejects_file_cannot_be_the_list_itself(db: Database, world: World, tmp_path: Path) -> None:
    path = csv_file(tmp_path / "liste.csv", f"{NEW};Une;35000;", "123;Mauvaise;35000;")
    before = path.read_bytes()
    with pytest.raises(InvalidInput, match="est le fichier importé lui-même"):
        import_businesses(db, require_supervisor(db, "sup_nat"), path, rejects=path)
    assert path.read_bytes() == before
