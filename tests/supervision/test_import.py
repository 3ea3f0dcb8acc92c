"""Importing messy business lists: encodings, delimiters, header variants, XLSX, bad rows with
reasons, re-runs, dry runs, scope, do-not-call kept, campaign queueing, audit (both backends)."""

from __future__ import annotations

import csv
import threading
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import AuditLog, Base, Business, CallTask, Department
from outreach.errors import Forbidden, InvalidInput
from outreach.services.access import require_supervisor
from outreach.services.importer import ImportSummary, import_businesses
from tests.supervision.builders import World, build_world, make_siret
from tests.waiting import wait_until

S1, S2, S3, S4 = (make_siret(n) for n in (101, 102, 103, 104))
BAD_SIRET = S1[:-1] + str((int(S1[-1]) + 1) % 10)


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


def write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def count(db: Database, model: type[Base] = Business) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def business(db: Database, siret: str) -> Business:
    with db.reading() as s:
        return s.execute(select(Business).where(Business.siret == siret)).scalar_one()


def rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


CP1252 = (
    "N° SIRET;Raison sociale;Enseigne;Code APE;Adresse;Code postal;Commune;Téléphone;Portable;"
    "E-mail\r\n"
    f"{S1[:3]} {S1[3:6]} {S1[6:9]} {S1[9:]};Boulangerie Élodie SARL;Chez Élodie;10.71C;"
    "3 rue de la Paix;35000;Rennes;02 99 12 34 56;06.12.34.56.78;elodie@example.fr\r\n"
    f"{S2};Coiffure Hélène;;96.02AA;;75011;Paris;+33 (0)1 42 68 53 00;;\r\n"
    f"{BAD_SIRET};Mauvaise clé;;;;35000;Rennes;0299123456;;\r\n"
    f"{S3};;;;;35000;Rennes;;;\r\n"
    "\r\n"
    f"{S4};Fleurs du Port;;47.76ZZ;;35400;Saint-Malo;12345;;\r\n"
)


def test_windows_1252_semicolon_french_headers(db: Database, world: World, tmp_path: Path) -> None:
    path = write(tmp_path / "liste.csv", CP1252, "cp1252")
    sup = require_supervisor(db, "sup_nat")
    before = count(db)
    summary = import_businesses(db, sup, path)
    assert (summary.encoding, summary.delimiter) == ("cp1252", ";")
    assert summary.read == 5  # the blank line is not a row
    # line 7's phone "12345" is no phone: the firm is imported without it (flagged)
    assert (summary.new, summary.updated, summary.rejected, summary.warned) == (3, 0, 2, 1)
    assert summary.imported + summary.rejected == summary.read
    assert count(db) == before + 3
    assert business(db, S4).phone is None
    b = business(db, S1)
    assert b.name == "Boulangerie Élodie SARL" and b.name_key == "boulangerie elodie sarl"
    assert (b.department, b.postcode, b.city) == ("35", "35000", "Rennes")
    assert (b.phone, b.phone_alt) == ("+33299123456", "+33612345678")
    assert b.trade_code == "10.71C" and b.email == "elodie@example.fr"
    assert business(db, S2).phone == "+33142685300"
    got = rejects(tmp_path / "liste.rejets.csv")
    assert [(r["line"], r["field"], r["action"]) for r in got] == [
        ("4", "N° SIRET", "rejected"),
        ("5", "Raison sociale", "rejected"),
        ("7", "Téléphone", "imported_without_field"),
    ]
    assert "Luhn" in got[0]["reason"] and got[0]["value"] == BAD_SIRET
    assert got[1]["reason"] == "raison sociale vide"
    assert got[2]["value"] == "12345"


def test_rerun_adds_nothing_twice_and_keeps_do_not_call(
    db: Database, world: World, tmp_path: Path
) -> None:
    path = write(tmp_path / "liste.csv", CP1252, "cp1252")
    sup = require_supervisor(db, "sup_nat")
    import_businesses(db, sup, path)
    with db.writing() as s:
        s.execute(update(Business).where(Business.siret == S1).values(do_not_call=True))
    before = count(db)
    again = import_businesses(db, sup, path)
    # the firm that opposed calls is left as it is: its row is rejected with the reason
    assert (again.new, again.updated, again.rejected) == (0, 2, 3)
    assert count(db) == before
    assert business(db, S1).do_not_call is True


def test_large_batches_store_each_row_in_file_order_and_count_new_ones(
    db: Database, world: World, tmp_path: Path
) -> None:
    # more rows than one multi-row statement holds, in batches that do not split evenly
    sirets = [make_siret(1000 + n) for n in range(130)]

    def listing(name: str, rows: range) -> Path:
        lines = ["SIRET;Raison sociale;Code postal;Téléphone"]
        lines += [
            f"{sirets[n]};Atelier {n:03d};35000;02 99 00 {n // 100:02d} {n % 100:02d}" for n in rows
        ]
        return write(tmp_path / name, "\n".join(lines) + "\n", "utf-8")

    sup = require_supervisor(db, "sup_nat")
    first = import_businesses(db, sup, listing("some.csv", range(40, 70)))
    assert (first.new, first.updated) == (30, 0)
    summary = import_businesses(db, sup, listing("all.csv", range(130)), batch_size=120)
    assert (summary.read, summary.new, summary.updated, summary.rejected) == (130, 100, 30, 0)
    with db.reading() as s:
        stored = s.execute(
            select(Business.siret, Business.name, Business.phone)
            .where(Business.siret.in_(sirets))
            .order_by(Business.id)
        ).all()
        batches = s.scalars(
            select(AuditLog.detail)
            .where(AuditLog.action == "import.batch")
            .order_by(AuditLog.id.desc())
            .limit(2)
        ).all()
    expected = {
        sirets[n]: (f"Atelier {n:03d}", f"+3329900{n // 100:02d}{n % 100:02d}") for n in range(130)
    }
    assert {siret: (name, phone) for siret, name, phone in stored} == expected
    order = [sirets.index(siret) for siret, _, _ in stored]
    assert order == list(range(40, 70)) + [n for n in range(130) if not 40 <= n < 70]
    assert sorted(d["new"] for d in batches) == [10, 90]


def test_sqlite_statistics_follow_an_import(sqlite_db: Database, tmp_path: Path) -> None:
    build_world(sqlite_db)
    with sqlite_db.writing() as s:  # as a database filled only by imports: no statistics
        s.connection().exec_driver_sql("ANALYZE")
        s.connection().exec_driver_sql("DELETE FROM sqlite_stat1")
    path = write(tmp_path / "liste.csv", CP1252, "cp1252")
    import_businesses(sqlite_db, require_supervisor(sqlite_db, "sup_nat"), path)
    with sqlite_db.reading() as s:
        stats = s.connection().exec_driver_sql(
            "SELECT idx FROM sqlite_stat1 WHERE tbl = 'businesses'"
        )
        assert "ix_businesses_phone" in set(stats.scalars())


def test_postgresql_firm_added_by_another_import_meanwhile_is_updated(
    pg_db: Database, tmp_path: Path
) -> None:
    # another transaction adds the SIRET, not yet committed: the import's straight COPY waits
    # on it, then meets the unique index, and the batch is upserted instead
    build_world(pg_db)
    path = write(
        tmp_path / "liste.csv", f"siret;raison sociale;code postal\n{S1};Nouvelle;35000\n", "utf-8"
    )
    sup = require_supervisor(pg_db, "sup_nat")
    other = pg_db.engine.connect()
    other.execute(
        Business.__table__.insert().values(
            siret=S1,
            siren=S1[:9],
            name="Ancienne",
            name_key="ancienne",
            department="35",
            chamber_id=select(Department.chamber_id)
            .where(Department.code == "35")
            .scalar_subquery(),
            created_at=func.now(),
            updated_at=func.now(),
        )
    )
    done: list[ImportSummary] = []
    worker = threading.Thread(target=lambda: done.append(import_businesses(pg_db, sup, path)))
    worker.start()

    def import_waits_on_the_lock() -> bool:
        with pg_db.engine.connect() as watch:
            waiting = watch.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return bool(waiting.scalar())

    try:
        wait_until(
            import_waits_on_the_lock,
            lambda: f"the import waiting on the other transaction's row (done: {done})",
        )
        other.commit()
    finally:
        other.close()  # not committed when the wait failed: the import goes on, then ends
    worker.join(30)
    (summary,) = done
    assert (summary.read, summary.new, summary.updated, summary.rejected) == (1, 0, 1, 0)
    assert business(pg_db, S1).name == "Nouvelle"


def test_utf8_bom_comma_variants_and_empty_cells_keep_data(
    db: Database, world: World, tmp_path: Path
) -> None:
    sup = require_supervisor(db, "sup_nat")
    first = "siret,Dénomination,NAFA,CP,Ville,Tél.,Mobile,Courriel,Colonne inconnue\n"
    write(
        tmp_path / "a.csv",
        first + f'{S1},"Boulangerie, pâtisserie",1071CZ,35000,Rennes,0299123456,,,x\n',
        "utf-8-sig",
    )
    s = import_businesses(db, sup, tmp_path / "a.csv")
    assert (s.encoding, s.delimiter, s.new) == ("utf-8-sig", ",", 1)
    assert s.ignored_columns == ["Colonne inconnue"]
    assert business(db, S1).trade_code == "10.71CZ"
    assert business(db, S1).name == "Boulangerie, pâtisserie"
    # a later list without the phone does not wipe it
    write(
        tmp_path / "b.tsv",
        f"SIRET\tRAISON SOCIALE\tCode postal\n{S1}\tBoulangerie P.\t35000\n",
        "utf-8",
    )
    s = import_businesses(db, sup, tmp_path / "b.tsv")
    assert (s.encoding, s.delimiter, s.new, s.updated) == ("utf-8", "\t", 0, 1)
    b = business(db, S1)
    assert b.name == "Boulangerie P." and b.phone == "+33299123456" and b.trade_code == "10.71CZ"


def test_xlsx_with_numbers_that_lost_their_zeros(
    db: Database, world: World, tmp_path: Path
) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["SIRET", "Raison sociale", "Code postal", "Commune", "Téléphone", "Email"])
    ws.append([int(S1), "Menuiserie de l'Ain", 1000, "Bourg-en-Bresse", 474123456, None])
    ws.append([int(S2), "Garage", 1000, "Bourg", 474123456, "pas-un-mail"])
    ws.append([None, None, None, None, None, None])
    book.save(tmp_path / "liste.xlsx")
    sup = require_supervisor(db, "sup_nat")
    s = import_businesses(db, sup, tmp_path / "liste.xlsx", rejects=tmp_path / "r.csv")
    assert (s.encoding, s.read, s.new, s.rejected) == ("xlsx", 2, 1, 1)
    b = business(db, S1)
    assert (b.postcode, b.department, b.phone) == ("01000", "01", "+33474123456")
    got = rejects(tmp_path / "r.csv")
    assert got == [
        {
            "line": "3",
            "field": "Email",
            "value": "pas-un-mail",
            "reason": "adresse e-mail invalide",
            "action": "rejected",
        }
    ]


def test_dry_run_writes_nothing(db: Database, world: World, tmp_path: Path) -> None:
    path = write(tmp_path / "liste.csv", CP1252, "cp1252")
    before, audits = count(db), count(db, AuditLog)
    s = import_businesses(db, require_supervisor(db, "sup_nat"), path, dry_run=True)
    assert (s.new, s.updated, s.rejected) == (3, 0, 2)
    assert count(db) == before and count(db, AuditLog) == audits
    assert not (tmp_path / "liste.rejets.csv").exists()


def test_dry_run_counts_equal_the_real_run(db: Database, world: World, tmp_path: Path) -> None:
    """Issue #16: `--dry-run --campaign` said 0 queued where the real run then queued 1."""
    path = write(tmp_path / "liste.csv", CP1252, "cp1252")
    sup = require_supervisor(db, "sup_nat")

    def counts(dry_run: bool) -> tuple[int, ...]:
        s = import_businesses(db, sup, path, campaign="c3", dry_run=dry_run)
        return (s.read, s.new, s.updated, s.rejected, s.queued)

    first = counts(dry_run=True)
    assert first == counts(dry_run=False) and first[-1] > 0
    # a re-run queues nothing twice, and an opted-out firm is not queued: the dry run says so
    with db.writing() as s:
        s.execute(update(CallTask).where(CallTask.campaign_id.isnot(None)).values(state="done"))
        s.execute(update(Business).where(Business.siret == S1).values(do_not_call=True))
    again = counts(dry_run=True)
    assert again == counts(dry_run=False) and again[-1] == 0


def test_regional_scope_campaign_queue_and_audit(
    db: Database, world: World, tmp_path: Path
) -> None:
    path = write(tmp_path / "liste.csv", CP1252, "cp1252")
    sup = require_supervisor(db, "sup_bre")
    with pytest.raises(Forbidden):
        import_businesses(db, sup, path, chamber="IDF")
    s = import_businesses(db, sup, path, campaign="c3")
    # S2 is in Paris: outside BRE, refused with the reason (S4 comes without its phone)
    assert (s.new, s.rejected, s.queued) == (2, 3, 2)
    reasons = {r.line: r.reason for r in s.first_rejects}
    assert reasons[3] == "département 75 hors de la chambre BRE"
    with db.reading() as sess:
        tasks = sess.execute(select(CallTask.business_id, CallTask.chamber_id)).all()
        audit = sess.execute(
            select(AuditLog.agent_id, AuditLog.action, AuditLog.detail).where(
                AuditLog.action == "import"
            )
        ).one()
    assert sorted(tasks) == [
        (business(db, S1).id, world.chamber["BRE"]),
        (business(db, S4).id, world.chamber["BRE"]),
    ]
    assert audit[0] == world.agent["sup_bre"] and audit[1] == "import"
    assert audit[2]["read"] == 5 and audit[2]["rejected"] == 3 and audit[2]["chamber"] == "BRE"
    # queued again by a re-run: nothing twice
    assert import_businesses(db, sup, path, campaign="c3").queued == 0


def test_bad_files(db: Database, world: World, tmp_path: Path) -> None:
    sup = require_supervisor(db, "sup_nat")
    write(tmp_path / "x.csv", "Nom;Ville\nA;B\n", "utf-8")
    with pytest.raises(InvalidInput, match="colonne SIRET introuvable"):
        import_businesses(db, sup, tmp_path / "x.csv")
    with pytest.raises(InvalidInput, match="introuvable"):
        import_businesses(db, sup, tmp_path / "absent.csv")
    write(tmp_path / "empty.csv", "", "utf-8")
    with pytest.raises(InvalidInput, match="vide"):
        import_businesses(db, sup, tmp_path / "empty.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(InvalidInput, match="XLSX"):
        import_businesses(db, sup, tmp_path / "broken.xlsx")


def test_cli_import(db_url: str, world: World, tmp_path: Path) -> None:
    path = write(tmp_path / "liste.csv", CP1252, "cp1252")
    r = CliRunner().invoke(
        cli,
        ["--db", db_url, "import", "businesses", str(path), "--as", "sup_nat"],
        obj=AppContext(),
    )
    assert r.exit_code == 0, r.output
    assert "5 lignes lues : 3 nouvelles entreprises, 0 mises à jour, 2 refusées" in r.output
    assert "ligne 4, N° SIRET" in r.output
    r = CliRunner().invoke(
        cli,
        ["--db", db_url, "import", "businesses", str(path), "--as", "agent_bre"],
        obj=AppContext(),
    )
    assert r.exit_code == 1 and "réservés aux superviseurs" in r.output


def test_a_firm_that_moves_takes_its_open_tasks_along(
    db: Database, world: World, tmp_path: Path
) -> None:
    """A national list gives b1 (Rennes, BRE) an address in Paris: its open task now belongs to
    IDF and to département 75, so IDF's claim may hand it out and BRE's no longer does (before,
    the task stayed BRE's and its record was refused as outside the chamber); a finished task
    keeps the chamber it was worked in."""
    b1 = world.business["b1"]
    with db.reading() as s:
        siret = s.scalar(select(Business.siret).where(Business.id == b1))
    with db.writing() as s:
        for campaign, state in (("c1", "done"), ("c2", "waiting")):
            s.add(
                CallTask(
                    campaign_id=world.campaign[campaign],
                    business_id=b1,
                    chamber_id=world.chamber["BRE"],
                    department="35",
                    state=state,
                    created_at=datetime(2020, 11, 2),
                    updated_at=datetime(2020, 11, 2),
                    next_attempt_at=datetime(2020, 11, 3) if state == "waiting" else None,
                )
            )
    path = write(
        tmp_path / "national.csv",
        f"SIRET;Raison sociale;Code postal;Commune\n{siret};Boulangerie du Marais;75004;Paris\n",
        "utf-8",
    )
    summary = import_businesses(db, require_supervisor(db, "sup_nat"), path)
    assert (summary.new, summary.updated) == (0, 1)
    with db.reading() as s:
        tasks = {
            state: (chamber, department)
            for state, chamber, department in s.execute(
                select(CallTask.state, CallTask.chamber_id, CallTask.department)
                .where(CallTask.business_id == b1)
                .where(CallTask.campaign_id.in_([world.campaign["c1"], world.campaign["c2"]]))
            )
        }
    assert tasks == {"done": (world.chamber["BRE"], "35"), "waiting": (world.chamber["IDF"], "75")}
