"""Import edges (issue 18, point 7): a garbage phone beside a valid SIRET is dropped and flagged,
not the row; an XLSX formula without a computed value rejects its row naming the cell; the
rejects file is where the README says; an interrupted import is named on the next run (both
backends, real files, a real process killed with SIGKILL)."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import AuditLog, Business
from outreach.services.access import require_supervisor
from outreach.services.audit import record_audit
from outreach.services.importer import ENV_BATCH, ENV_PAUSE, _file_keys, import_businesses
from tests.supervision.builders import World, build_world, make_siret
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
B2 = make_siret(2)  # a BRE firm of the world, phone +33612345678
NEW, NEW2, NEW3 = make_siret(601), make_siret(602), make_siret(603)


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


def business(db: Database, siret: str) -> Business:
    with db.reading() as s:
        return s.execute(select(Business).where(Business.siret == siret)).scalar_one()


def rejects_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def run_cli(db: Database, *args: str) -> str:
    r = CliRunner().invoke(
        cli,
        ["--db", db.url.render_as_string(hide_password=False), *args],
        obj=AppContext(),
    )
    assert r.exit_code == 0, r.output
    return r.output


def test_garbage_phone_is_dropped_and_flagged_not_the_row(
    db: Database, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "liste.csv"
    path.write_text(
        "SIRET;Raison sociale;Code postal;Téléphone;Portable\n"
        f"{NEW};Boulangerie Neuve;35000;appelez le matin;06 12 34 56 79\n"
        f"{B2};Entreprise b2 renommée;35000;12345;\n"  # its stored phone stays
        f"{NEW2};Sans clé;35000;02 99 00 00 01;n/a\n"
        "123;Mauvais SIRET;35000;02 99 00 00 02;\n",
        encoding="utf-8",
    )
    summary = import_businesses(db, require_supervisor(db, "sup_nat"), path)
    assert (summary.read, summary.new, summary.updated, summary.rejected) == (4, 2, 1, 1)
    assert summary.warned == 3
    assert [(w.line, w.field, w.value) for w in summary.first_warnings] == [
        (2, "Téléphone", "appelez le matin"),
        (3, "Téléphone", "12345"),
        (4, "Portable", "n/a"),
    ]
    new = business(db, NEW)
    assert (new.name, new.phone, new.phone_alt) == ("Boulangerie Neuve", "+33612345679", None)
    b2 = business(db, B2)
    assert (b2.name, b2.phone) == ("Entreprise b2 renommée", "+33612345678")
    assert business(db, NEW2).phone == "+33299000001"
    got = rejects_of(tmp_path / "liste.rejets.csv")
    assert [(r["line"], r["field"], r["action"]) for r in got] == [
        ("2", "Téléphone", "imported_without_field"),
        ("3", "Téléphone", "imported_without_field"),
        ("4", "Portable", "imported_without_field"),
        ("5", "SIRET", "rejected"),
    ]
    assert all(r["reason"] for r in got)
    out = run_cli(db, "import", "businesses", str(path), "--as", "sup_nat")
    assert "3 lignes importées sans une valeur invalide" in out
    assert "ligne 2, Téléphone 'appelez le matin' : " in out
    assert "importée sans cette valeur" in out


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["SIRET", "Raison sociale", "Code postal", "Téléphone", "Note interne"])
    for row in rows:
        sheet.append(row)
    book.save(path)  # openpyxl keeps no computed value for a formula
    return path


def test_xlsx_formula_without_value_rejects_its_row_naming_the_cell(
    db: Database, world: World, tmp_path: Path
) -> None:
    path = _xlsx(
        tmp_path / "classeur.xlsx",
        [
            [NEW, "Formule au téléphone", "35000", '=CONCAT("02 99 ","00 00 03")', ""],
            [NEW2, "Formule ignorée", "35000", "02 99 00 00 04", "=1+1"],
            [NEW3, '=UPPER("nom")', "35000", "", ""],
        ],
    )
    summary = import_businesses(db, require_supervisor(db, "sup_nat"), path)
    assert (summary.read, summary.new, summary.rejected) == (3, 1, 2)
    assert [(r.line, r.field, r.value) for r in summary.first_rejects] == [
        (2, "Téléphone", '=CONCAT("02 99 ","00 00 03")'),
        (4, "Raison sociale", '=UPPER("nom")'),
    ]
    assert all(r.reason.startswith("formule sans valeur calculée") for r in summary.first_rejects)
    with db.reading() as s:
        stored = set(s.scalars(select(Business.siret).where(Business.siret.in_([NEW, NEW3]))))
    assert stored == set()  # never imported as an empty phone or name
    assert business(db, NEW2).phone == "+33299000004"  # a formula of an ignored column
    got = rejects_of(tmp_path / "classeur.rejets.csv")
    assert [(r["line"], r["field"]) for r in got] == [("2", "Téléphone"), ("4", "Raison sociale")]
    out = run_cli(db, "import", "businesses", str(path), "--as", "sup_nat", "--dry-run")
    assert 'ligne 2, Téléphone \'=CONCAT("02 99 ","00 00 03")\' : formule sans valeur' in out


def test_xlsx_formula_with_its_cached_value_is_read(
    db: Database, world: World, tmp_path: Path
) -> None:
    """A workbook saved by a spreadsheet keeps each formula's value: that value is imported."""
    path = _xlsx(tmp_path / "calcule.xlsx", [[NEW, "Formule calculée", "35000", "=A1", ""]])
    # give the formula the value a spreadsheet would have stored (<v> beside <f>)
    import zipfile

    sheet = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[sheet] = parts[sheet].replace(
        b'<c r="D2"><f>A1</f><v />', b'<c r="D2" t="str"><f>A1</f><v>02 99 00 00 05</v>'
    )
    assert b"02 99 00 00 05" in parts[sheet]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    summary = import_businesses(db, require_supervisor(db, "sup_nat"), path)
    assert (summary.new, summary.rejected) == (1, 0)
    assert business(db, NEW).phone == "+33299000005"


def test_rejects_file_is_where_the_readme_and_the_help_say(
    db: Database, world: World, tmp_path: Path
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    said = re.search(r"`liste\.csv` gives `([^`]+)`", readme)
    assert said is not None, "the README names the rejects file of liste.csv"
    lists = tmp_path / "listes"
    lists.mkdir()
    path = lists / "liste.csv"
    path.write_text("SIRET;Raison sociale;Code postal\n123;Mauvais;35000\n", encoding="utf-8")
    import_businesses(db, require_supervisor(db, "sup_nat"), path)
    assert sorted(p.name for p in lists.iterdir()) == sorted(["liste.csv", said[1]])
    out = run_cli(db, "import", "businesses", "--help")
    assert "liste.csv -> liste.rejets.csv" in " ".join(out.split())


def test_duplicates_name_their_lines_and_the_winner(
    db: Database, world: World, tmp_path: Path
) -> None:
    """Point 7's duplicates (landed with point 1): the lines and the line that wins."""
    path = tmp_path / "doublons.csv"
    path.write_text(
        "SIRET;Raison sociale;Code postal\n"
        f"{NEW};Première;35000\n{NEW};Seconde;35000\n{NEW2};Autre;35000\n{NEW};Troisième;35000\n",
        encoding="utf-8",
    )
    out = run_cli(db, "import", "businesses", str(path), "--as", "sup_nat")
    assert f"SIRET {NEW} : lignes 2, 3, 5 ; la ligne 5 l'emporte" in out
    assert business(db, NEW).name == "Troisième"
    with db.writing() as s:  # nothing else to see here: keep the world as it was
        s.execute(update(Business).where(Business.siret == NEW).values(name="Troisième"))


def _batches_of_runs(db: Database) -> int:
    with db.reading() as s:
        return len(
            s.scalars(
                select(AuditLog.id).where(
                    AuditLog.action == "import.batch", AuditLog.entity == "import_run"
                )
            ).all()
        )


def test_an_import_killed_mid_way_is_named_by_the_next_run(
    db: Database, world: World, tmp_path: Path
) -> None:
    rows = [
        f"{make_siret(10_000 + n)};Entreprise {n};35000;02 99 00 {n // 100:02d} {n % 100:02d}"
        for n in range(100)
    ]
    path = tmp_path / "grande-liste.csv"
    path.write_text("SIRET;Raison sociale;Code postal;Téléphone\n" + "\n".join(rows) + "\n")
    url = db.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        ENV_BATCH: "10",  # 10 batches of 10 rows, each its own transaction
        ENV_PAUSE: "3",  # the process stops, committed, after its third batch
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "outreach", "--db", url, "import", "businesses", str(path)]
        + ["--as", "sup_nat"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def three_batches() -> bool:
            assert proc.poll() is None, proc.communicate()
            return _batches_of_runs(db) >= 3

        wait_until(three_batches, "the import committed 3 batches", timeout=120)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with db.reading() as s:
        kept = s.scalars(select(Business.siret).where(Business.name.like("Entreprise %"))).all()
    wanted = {make_siret(10_000 + n) for n in range(30)}
    assert set(kept) - {make_siret(n) for n in range(1, 20)} == wanted  # 3 batches, no more

    out = run_cli(db, "import", "businesses", str(path), "--as", "sup_nat")
    assert (
        "attention : l'import précédent de ce fichier (" in out
        and ", par sup_nat) a été interrompu après 3 lots enregistrés (jusqu'à la ligne 31) : "
        "ses 30 lignes écrites sont gardées ; cet import relit tout le fichier et n'ajoute rien "
        "deux fois"
        in " ".join(out.split())
    ), out
    assert "100 lignes lues : 70 nouvelles entreprises, 30 mises à jour, 0 refusées" in out
    with db.reading() as s:
        names = s.scalars(
            select(Business.name).where(
                Business.siret.in_([make_siret(10_000 + n) for n in range(100)])
            )
        ).all()
    assert sorted(names) == sorted(f"Entreprise {n}" for n in range(100))  # each once

    # that run ended: the next says nothing of it; nor does one after a clean run
    assert "interrompu" not in run_cli(db, "import", "businesses", str(path), "--as", "sup_nat")


def test_an_interrupted_import_is_named_by_path_when_the_file_changed(
    db: Database, world: World, tmp_path: Path
) -> None:
    path = tmp_path / "liste.csv"
    path.write_text(f"SIRET;Raison sociale;Code postal\n{NEW};Une;35000\n", encoding="utf-8")
    sup = require_supervisor(db, "sup_nat")
    keys = _file_keys(path)
    # a run that started and never ended (its process died before its first batch)
    with db.writing() as s:
        for entity, key in zip(("import_file", "import_path"), keys, strict=True):
            record_audit(
                s,
                agent_id=sup.id,
                action="import.start",
                entity=entity,
                entity_id=key,
                detail={"run": "r-1", "file": str(path), "sha256": keys[0]},
            )
    path.write_text(f"SIRET;Raison sociale;Code postal\n{NEW};Une, corrigée;35000\n")
    summary = import_businesses(db, sup, path, dry_run=True)
    assert summary.interrupted is not None
    assert (summary.interrupted.same_content, summary.interrupted.batches) == (False, 0)
    out = run_cli(db, "import", "businesses", str(path), "--as", "sup_nat")
    assert f"l'import précédent de {path} (dont le contenu a changé depuis)" in out
    assert "interrompu avant son premier lot : il n'avait rien écrit" in out
    assert import_businesses(db, sup, path).interrupted is None
