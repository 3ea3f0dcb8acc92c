"""Exports read back with csv, json and openpyxl; neutralisation; scope; audit rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select, update

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import AuditLog, Business, Call, CallAnswer
from outreach.errors import Forbidden, InvalidInput
from outreach.services.access import require_supervisor
from outreach.services.export import CALL_COLUMNS, ExportRequest, ExportResult, export
from outreach.services.neutralise import neutralise
from outreach.services.selection import CallFilter
from outreach.services.sheets import CsvWriter
from tests.supervision.builders import World, add_business, add_call, build_world


@pytest.fixture
def world(db: Database) -> World:
    return build_world(db)


def read_csv(path: Path, delimiter: str = ";") -> list[dict[str, str]]:
    raw = path.read_bytes()
    if delimiter == ";":
        assert raw.startswith(b"\xef\xbb\xbf"), "French CSV starts with a UTF-8 BOM"
    else:
        assert not raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def read_xlsx(path: Path) -> dict[str, list[list[Any]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    out = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    book.close()
    return out


def do(db: Database, login: str, kind: str, fmt: str, out: Path, **kw: Any) -> ExportResult:
    filters = CallFilter(**kw.pop("filters", {}))
    return export(db, require_supervisor(db, login), ExportRequest(kind, fmt, out, filters, **kw))


def test_calls_csv_columns_times_phones_answers(db: Database, world: World, tmp_path: Path) -> None:
    add_call(
        db,
        world,
        10,
        "c2",
        "b2",
        "agent_bre",
        "reached",
        datetime(2020, 11, 4, 9, 30),
        ("website",),
        notes="rappeler lundi",
        answers={"open_online": "non"},
    )
    out = tmp_path / "calls.csv"
    result = do(db, "sup_nat", "calls", "csv", out)
    assert result.rows == 10
    rows = read_csv(out)
    header = list(rows[0].keys())
    assert header[: len(CALL_COLUMNS)] == list(CALL_COLUMNS)
    assert header[len(CALL_COLUMNS) :] == ["open_online"]
    last = rows[-1]
    assert last["call_uuid"] == "00000000-0000-0000-0000-00000000000a"
    assert last["started_at"] == "2020-11-04T10:30:00+01:00"  # Paris time, with its offset
    assert last["ended_at"] == "2020-11-04T10:33:00+01:00"
    assert rows[1]["started_at"] == "2020-03-21T11:00:00+01:00"
    assert last["phone"] == "+33612345678"
    assert last["agent_login"] == "agent_bre" and last["chamber_code"] == "BRE"
    assert last["campaign"] == "c2" and last["lockdown"] == "confinement-2"
    assert last["department"] == "35" and len(last["siret"]) == 14
    assert last["referral_kinds"] == "website" and last["notes"] == "rappeler lundi"
    assert last["open_online"] == "non"
    by_uuid = {r["call_uuid"][-1]: r for r in rows}
    assert by_uuid["4"]["referral_kinds"] == "digital_diagnostic,cheque_numerique"
    assert by_uuid["8"]["referral_kinds"] == "click_and_collect,platform"
    assert rows[0]["lockdown"] == "confinement-1"


def test_comma_csv_and_jsonl(db: Database, world: World, tmp_path: Path) -> None:
    do(
        db,
        "sup_nat",
        "calls",
        "csv",
        tmp_path / "c.csv",
        comma=True,
        filters={"lockdown": "confinement-2"},
    )
    rows = read_csv(tmp_path / "c.csv", delimiter=",")
    assert [r["outcome"] for r in rows] == ["reached", "refused", "voicemail", "reached"]
    do(db, "sup_nat", "referrals", "jsonl", tmp_path / "r.jsonl")
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(records) == 6
    assert {r["kind"] for r in records} == {
        "click_and_collect",
        "digital_diagnostic",
        "cheque_numerique",
        "platform",
    }
    assert records[0]["call_uuid"].endswith("2") and records[0]["agent_login"] == "agent_bre"


def test_formula_cells_are_neutralised(db: Database, world: World, tmp_path: Path) -> None:
    add_business(db, world, "evil", 99, "BRE", "35", name='=HYPERLINK("http://evil","x")')
    add_call(
        db,
        world,
        11,
        "c2",
        "evil",
        "agent_bre",
        "reached",
        datetime(2020, 11, 5, 10, 0),
        notes="@SUM(1+1)*cmd|' /C calc'!A0",
    )
    do(db, "sup_nat", "calls", "csv", tmp_path / "c.csv")
    evil = read_csv(tmp_path / "c.csv")[-1]
    assert evil["business_name"] == '\'=HYPERLINK("http://evil","x")'
    assert evil["notes"].startswith("'@SUM")
    assert evil["phone"] == "+33612345678"
    do(db, "sup_nat", "calls", "xlsx", tmp_path / "c.xlsx")
    sheet = read_xlsx(tmp_path / "c.xlsx")["calls"]
    header, last = sheet[0], sheet[-1]
    assert last[header.index("business_name")] == '\'=HYPERLINK("http://evil","x")'
    assert last[header.index("phone")] == "+33612345678"  # a text cell, kept E.164
    # no cell of the workbook is a formula
    book = openpyxl.load_workbook(tmp_path / "c.xlsx")
    assert all(c.data_type != "f" for row in book["calls"].iter_rows() for c in row)


def test_xlsx_continues_on_a_new_sheet(db: Database, world: World, tmp_path: Path) -> None:
    result = do(db, "sup_nat", "calls", "xlsx", tmp_path / "c.xlsx", xlsx_max_rows=4)
    assert result.rows == 9 and result.sheets == 3
    sheets = read_xlsx(tmp_path / "c.xlsx")
    assert list(sheets) == ["calls", "calls (2)", "calls (3)"]
    assert [len(s) for s in sheets.values()] == [5, 5, 2]  # header + 4, header + 4, header + 1
    assert all(s[0][0] == "call_uuid" for s in sheets.values())
    uuids = [r[0] for s in sheets.values() for r in s[1:]]
    assert len(set(uuids)) == 9


def test_businesses_and_do_not_call(db: Database, world: World, tmp_path: Path) -> None:
    with db.writing() as s:
        s.execute(
            update(Business)
            .where(Business.id == world.business["b4"])
            .values(do_not_call=True, do_not_call_at=datetime(2021, 1, 10, 10, 3))
        )
    do(db, "sup_nat", "businesses", "xlsx", tmp_path / "b.xlsx")
    sheet = read_xlsx(tmp_path / "b.xlsx")["businesses"]
    assert len(sheet) == 9 and sheet[0][:3] == ["siret", "siren", "name"]
    do(db, "sup_bre", "do-not-call", "csv", tmp_path / "dnc.csv")
    rows = read_csv(tmp_path / "dnc.csv")
    assert [r["name"] for r in rows] == ["Entreprise b4"]
    assert rows[0]["do_not_call_at"] == "2021-01-10T11:03:00+01:00"
    do(db, "sup_bre", "businesses", "csv", tmp_path / "b.csv", filters={"campaign": "c1"})
    assert read_csv(tmp_path / "b.csv") == []  # no task queued in c1 by this data set
    with pytest.raises(InvalidInput, match="--chamber"):
        do(
            db,
            "sup_nat",
            "businesses",
            "csv",
            tmp_path / "x.csv",
            filters={"lockdown": "confinement-1"},
        )


def test_rollup_export(db: Database, world: World, tmp_path: Path) -> None:
    do(db, "sup_nat", "rollup", "csv", tmp_path / "r.csv", by=("lockdown",))
    rows = read_csv(tmp_path / "r.csv")
    assert [r["lockdown"] for r in rows] == ["confinement-1", "confinement-2", "", "total"]
    assert rows[-1]["businesses_contacted"] == "6"


def test_scope_and_audit(db: Database, world: World, tmp_path: Path) -> None:
    result = do(db, "sup_bre", "calls", "csv", tmp_path / "c.csv")
    assert result.rows == 6
    assert {r["chamber_code"] for r in read_csv(tmp_path / "c.csv")} == {"BRE"}
    with pytest.raises(Forbidden):
        do(db, "sup_bre", "calls", "csv", tmp_path / "x.csv", filters={"chamber": "IDF"})
    with pytest.raises(Forbidden):
        do(db, "agent_bre", "calls", "csv", tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
    with db.reading() as s:
        rows = s.execute(
            select(AuditLog.agent_id, AuditLog.action, AuditLog.entity, AuditLog.detail)
        ).all()
    assert len(rows) == 1
    agent_id, action, entity, detail = rows[0]
    assert (agent_id, action, entity) == (world.agent["sup_bre"], "export", "calls")
    assert detail["rows"] == 6 and detail["format"] == "csv"
    assert detail["filters"] == {"chamber": "BRE"}
    assert detail["path"].endswith("c.csv")


def test_cli_export(db_url: str, world: World, tmp_path: Path) -> None:
    out = tmp_path / "calls.xlsx"
    r = CliRunner().invoke(
        cli,
        [
            "--db",
            db_url,
            "export",
            "calls",
            "--format",
            "xlsx",
            "--out",
            str(out),
            "--lockdown",
            "confinement-1",
            "--as",
            "sup_nat",
        ],
        obj=AppContext(),
    )
    assert r.exit_code == 0, r.output
    assert "4 lignes écrites" in r.output
    assert len(read_xlsx(out)["calls"]) == 5
    r = CliRunner().invoke(
        cli,
        [
            "--db",
            db_url,
            "export",
            "calls",
            "--out",
            str(tmp_path / "nowhere" / "x.csv"),
            "--as",
            "sup_nat",
        ],
        obj=AppContext(),
    )
    assert r.exit_code == 1 and "dossier introuvable" in r.output


def test_calls_across_summer_time_changes(db: Database, world: World, tmp_path: Path) -> None:
    """Times in Paris time on both backends, a call starting before a change and ending after."""
    d = datetime
    spring = add_call(db, world, 20, "c2", "b1", "agent_bre", "reached", d(2021, 3, 28, 0, 50))
    autumn = add_call(db, world, 21, "c2", "b1", "agent_bre", "reached", d(2020, 10, 25, 0, 50))
    with db.writing() as s:
        for call_id, started, ended in (
            (spring, d(2021, 3, 28, 0, 57, 30, 5), d(2021, 3, 28, 1, 0, 30, 5)),
            (autumn, d(2020, 10, 25, 0, 58), d(2020, 10, 25, 1, 1)),
        ):
            s.execute(
                update(Call).where(Call.id == call_id).values(started_at=started, ended_at=ended)
            )
    for fmt in ("csv", "jsonl"):
        do(db, "sup_nat", "calls", fmt, tmp_path / f"c.{fmt}")
    rows = {r["call_uuid"][-2:]: r for r in read_csv(tmp_path / "c.csv")}
    records = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert {r["call_uuid"][-2:]: r["started_at"] for r in records}["14"] == (
        "2021-03-28T01:57:30.000005+01:00"
    )
    assert rows["14"]["started_at"] == "2021-03-28T01:57:30.000005+01:00"
    assert rows["14"]["ended_at"] == "2021-03-28T03:00:30.000005+02:00"
    assert rows["15"]["started_at"] == "2020-10-25T02:58:00+02:00"
    assert rows["15"]["ended_at"] == "2020-10-25T02:01:00+01:00"


TRICKY = [
    "=1+1",
    "+",
    "-",
    "+12",
    "-12",
    "+1 2",
    "+12a",
    "+٣",  # an Arabic-Indic digit is no ASCII digit: not a signed number
    "@SUM(A1)",
    "\tx",
    "\rx",
    "'=déjà neutre",
    "",
    "a;b",
    'dit "oui"',
    "ligne 1\nligne 2",
    "ligne 1\r\nligne 2",
    "\\.",
    "é=",
]


def test_calls_csv_equals_the_rule_applied_to_the_values(
    db: Database, world: World, tmp_path: Path
) -> None:
    """The fast CSV (SQLite rows in batches, PostgreSQL's COPY) holds exactly what the csv module
    writes from the exported values with every text cell through `neutralise`: same bytes,
    quoting, empty cells and BOM. Tricky text in the notes, the answers and a business name;
    a call with several referrals and several answers, one key answered twice (the last wins)."""
    add_business(db, world, "tab", 50, "BRE", "35", name="\t=cmd")
    for n, text in enumerate(TRICKY, start=30):
        add_call(
            db,
            world,
            n,
            "c2",
            "tab" if n % 2 else "b2",
            "agent_bre",
            "reached",
            datetime(2020, 11, 5, 10, n - 30),
            ("click_and_collect", "platform", "website") if n % 3 == 0 else (),
            notes=text,
            answers={"open_online": TRICKY[-1 - (n - 30)], "other": text},
        )
    with db.writing() as s:  # a second answer to the same key: the export keeps the last one
        s.execute(insert(CallAnswer).values(call_id=world.call[30], question="other", answer="2e"))
    for fmt, comma in (("csv", False), ("csv", True), ("jsonl", False)):
        do(db, "sup_nat", "calls", fmt, tmp_path / f"c{comma}.{fmt}", comma=comma)
    records = [json.loads(line) for line in (tmp_path / "cFalse.jsonl").read_text().splitlines()]
    columns = list(records[0])
    assert columns[len(CALL_COLUMNS) :] == ["open_online", "other"]
    by_uuid = {r["call_uuid"]: r for r in records}
    first = by_uuid["00000000-0000-0000-0000-00000000001e"]
    assert first["other"] == "2e" and first["notes"] == "=1+1" and first["open_online"] == "é="
    assert first["referral_kinds"] == "click_and_collect,platform,website"
    for comma in (False, True):
        expected = io.StringIO()
        writer = csv.writer(expected, delimiter="," if comma else ";")
        writer.writerow(columns)
        for record in records:
            writer.writerow([neutralise(v) if isinstance(v, str) else v for v in record.values()])
        bom = "" if comma else "\ufeff"
        written = (tmp_path / f"c{comma}.csv").read_bytes()
        assert written == (bom + expected.getvalue()).encode(), comma
    rows = {r["call_uuid"]: r for r in read_csv(tmp_path / "cFalse.csv")}
    assert rows["00000000-0000-0000-0000-00000000001e"]["notes"] == "'=1+1"
    assert rows["00000000-0000-0000-0000-000000000021"]["notes"] == "+12"
    assert rows["00000000-0000-0000-0000-000000000020"]["other"] == "'-"
    assert rows["00000000-0000-0000-0000-00000000001f"]["business_name"] == "'\t=cmd"


@pytest.mark.parametrize("comma", [False, True])
def test_csv_write_many_writes_what_write_writes(tmp_path: Path, comma: bool) -> None:
    """Batches written whole (joined text when no cell needs quotes, the csv module otherwise,
    `_cell` only when some text needs neutralising) give the same bytes as one `write` a row."""
    batches: list[list[tuple[object, ...]]] = [
        [("a", "b", "c"), ("dé", "", "+33612345678")],  # plain text: joined
        [("a", None, "c")],  # None
        [("a", "b;c", "d"), ("a", "b,c", "d")],  # a delimiter
        [("a", 'dit "oui"', "d")],  # a quote
        [("a", "1\n2", "d")],  # line breaks
        [("a", "1\r2", "d")],
        [("a", "b", "c"), ("=1+1", "-", "+12")],  # neutralised
        [("a", "b", "-12"), ("@x", "\tx", "\rx")],
        [("a", 1, "c")],  # a number
        [("a", "b")],  # narrower than the header
        [("a", "b", "c;d"), ("e", "f")],  # the same number of delimiters, in other places
        [],
    ]
    one = CsvWriter(tmp_path / "one.csv", ["x", "y", "z"], comma=comma)
    many = CsvWriter(tmp_path / "many.csv", ["x", "y", "z"], comma=comma)
    for batch in batches:
        for values in batch:
            one.write(values)
        many.write_many(batch)  # type: ignore[arg-type]  # a number among the strings, on purpose
    one.close()
    many.close()
    assert many.rows == one.rows == 16
    assert (tmp_path / "many.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
