"""Hostile and broken input: the importer never lets an exception out and accounts for every row;
names, notes and search text full of quotes, SQL, control characters and emoji are stored and
shown as typed, never executed, and never break an export."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape
from sqlalchemy import func, select, text

from outreach.db.engine import Database
from outreach.db.models import Business, Call, CallAnswer
from outreach.errors import InvalidInput, OutreachError
from outreach.services import export, importer
from outreach.services.agents import get_agent
from outreach.services.queue import record_call, search_businesses, take_task
from outreach.services.queue.search import SEARCH_MAX
from outreach.services.sheets import neutralise
from outreach.services.types import AgentInfo, CallInput, ClaimedTask
from tests.factories import (
    call_on,
    make_agent,
    make_business,
    make_campaign,
    make_phone,
    make_siret,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HEADER = "siret;raison sociale;code postal;telephone;effectif;courriel;adresse\n"
HOSTILE = [
    "Robert'); DROP TABLE calls;--",
    'Il a dit "bonjour"; puis; rien',
    "1; DELETE FROM businesses WHERE 1=1; --",
    "' OR '1'='1",
    '=HYPERLINK("http://exemple.invalid","clic")',
    "+33 6 12 34 56 78 =1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "tab\tici\nligne\r\nCRLF",
    "\x01\x07cloche\x1b[31mrouge\x7f\x0b\x0c",
    "émoji 😀🇫🇷 👩‍👩‍👧 \U0001f9d1\u200d\U0001f373",
    "accents éèçàù ÉÈ œ Œ ß ﬃ",
    "droite\u202egauche \u200bzéro",
    "%s %(x)s {0} {name} \\N \\x00 $1 ?",
    "<script>alert(1)</script> & &amp;",
    "[bold red]markup[/] [link=x]y[/link]",
]
LONG = ("Note ; 'quote' \"dq\" DROP TABLE x; 😀 \x01 " * 400)[:10_000]


# --- the importer, fed anything -------------------------------------------------------------


def _import(db: Database, sup: AgentInfo, content: bytes) -> importer.ImportSummary | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "liste.csv"
        path.write_bytes(content)
        try:
            return importer.import_businesses(db, sup, path)
        except OutreachError:
            return None  # a clear refusal of the whole file (no header, empty): fine


def _accounted(summary: importer.ImportSummary | None) -> None:
    if summary is not None:
        assert summary.new + summary.updated + summary.rejected == summary.read
        assert min(summary.new, summary.updated, summary.rejected) >= 0


HYPO = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def sup(db: Database) -> AgentInfo:
    make_agent(db, "sup_h", role="admin")
    return get_agent(db, "sup_h")


@HYPO
@given(body=st.binary(max_size=400))
def test_import_any_bytes(db: Database, sup: AgentInfo, body: bytes) -> None:
    _accounted(_import(db, sup, body))
    _accounted(_import(db, sup, HEADER.encode() + body))


cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(HOSTILE),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=190, max_size=260),
    st.sampled_from(["12", "²", "١٢", "99999999999999999999", "-1", "0"]),
    st.sampled_from(["75011", "97400", "2A004", "00000", "7501", ""]),
)


@st.composite
def business_rows(draw: st.DrawFn) -> list[list[str]]:
    rows = []
    for _n in range(draw(st.integers(0, 6))):
        siret = draw(st.one_of(st.builds(make_siret), cells))
        row = [siret] + [draw(cells) for _c in range(6)]
        if draw(st.booleans()):
            row[2] = "75011"
        if draw(st.booleans()):
            row[3] = ""
        rows.append(row)
    return rows


@HYPO
@given(rows=business_rows(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_import_hostile_rows(
    db: Database, sup: AgentInfo, rows: list[list[str]], encoding: str
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER.strip().split(";"))
    writer.writerows(rows)
    content = out.getvalue().encode(encoding, errors="replace")
    summary = _import(db, sup, content)
    _accounted(summary)
    assert summary is not None
    # what was imported is stored as the file had it
    back = io.StringIO(content.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding))
    lines = [r for r in csv.reader(back, delimiter=";")][1:]
    lines = [r for r in lines if any(c.strip() for c in r)]
    assert summary.read == len(lines)
    with db.reading() as s:
        for r in lines:
            if not (r[0].strip().isascii() and r[0].strip().isdigit()):
                continue
            name = s.scalar(select(Business.name).where(Business.siret == r[0].strip()))
            if name is not None and r[1].strip() and len(r[1].strip()) <= 200:
                assert name in {x[1].strip() for x in lines if x[0].strip() == r[0].strip()}


def test_nul_characters_are_dropped_not_fatal(db: Database) -> None:
    """PostgreSQL cannot store U+0000: a call whose notes carry one (pasted text) is still saved,
    without it, on both backends; never lost to an error."""
    agent = make_agent(db, "agent_nul")
    camp = make_campaign(db, "Nul")
    bid = make_business(db, "Entreprise nul")
    task = take_task(db, agent, camp, business_id=bid, now=NOW)
    call = _call(agent, task, "avant\x00après", "oui\x00non")
    record_call(db, call, now=NOW)
    with db.reading() as s:
        assert s.scalar(select(Call.notes).where(Call.uuid == call.uuid)) == "avantaprès"
        assert s.scalar(select(CallAnswer.answer)) == "ouinon"
    assert search_businesses(db, agent, "Entreprise\x00 nul") is not None


# --- what an agent types --------------------------------------------------------------------


def _call(agent: int, task: ClaimedTask, notes: str, answer: str) -> CallInput:
    return call_on(agent, task, "reached", NOW, minutes=1, notes=notes, answers={"needs": answer})


def _csv_cells(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def test_hostile_text_stored_shown_and_exported_as_typed(db: Database, tmp_path: Path) -> None:
    agent = make_agent(db, "agent_h")
    make_agent(db, "sup_x", role="admin")
    camp = make_campaign(db, "Hostile")
    texts = [*HOSTILE, LONG]
    expected: dict[str, str] = {}  # call uuid -> notes
    for n, typed in enumerate(texts):
        name = typed[:200] if typed.strip() else f"x{n}"
        bid = make_business(db, name, phone=make_phone("75"))
        task = take_task(db, agent, camp, business_id=bid, now=NOW)
        assert task.business.name == name  # shown as typed
        call = _call(agent, task, typed, typed)
        record_call(db, call, now=NOW)
        expected[call.uuid] = typed
        again = take_task(db, agent, camp, business_id=bid, now=NOW)
        assert again.history[0].notes == typed
        # search with the same text: no error, and the name typed finds the firm
        hits = search_businesses(db, agent, name)
        assert bid in [h.business.id for h in hits], name
    for query in [*HOSTILE, LONG, "%", "_", "\\", "'", '"', ";", "nul\x00", "\x00"]:
        try:
            search_businesses(db, agent, query)
        except InvalidInput:  # empty, or longer than any name (SEARCH_MAX)
            stripped = query.replace("\x00", "").strip()
            assert not stripped or len(stripped) > SEARCH_MAX
    with db.reading() as s:
        stored = dict(s.execute(select(Call.uuid, Call.notes)).all())
        answers = set(s.scalars(select(CallAnswer.answer)))
        # nothing was executed: every table is still there, rows counted
        assert s.execute(text("SELECT count(*) FROM calls")).scalar() == len(texts)
        assert s.scalar(select(func.count()).select_from(Business)) == len(texts)
    assert stored == expected
    assert answers == set(texts)

    sup = get_agent(db, "sup_x")
    out = export.export(db, sup, export.ExportRequest("calls", "jsonl", tmp_path / "c.jsonl"))
    records = [json.loads(line) for line in out.path.read_text(encoding="utf-8").splitlines()]
    assert {r["call_uuid"]: r["notes"] for r in records} == expected
    assert {r["needs"] for r in records} == set(texts)
    out = export.export(db, sup, export.ExportRequest("calls", "csv", tmp_path / "c.csv"))
    rows = _csv_cells(out.path)
    assert len(rows) == len(texts)
    assert {r["call_uuid"]: r["notes"] for r in rows} == {
        k: neutralise(v) for k, v in expected.items()
    }
    out = export.export(db, sup, export.ExportRequest("businesses", "csv", tmp_path / "b.csv"))
    assert len(_csv_cells(out.path)) == len(texts)
    out = export.export(db, sup, export.ExportRequest("calls", "xlsx", tmp_path / "c.xlsx"))
    book = openpyxl.load_workbook(out.path, read_only=True)
    sheet = book.worksheets[0]
    head, *body = list(sheet.iter_rows(values_only=True))
    book.close()
    assert len(body) == len(texts)
    col = head.index("notes")
    uuid_col = head.index("call_uuid")
    for row in body:
        typed = expected[str(row[uuid_col])]
        # xlsxwriter writes inline strings with ECMA-376 _xHHHH_ escapes for characters XML
        # cannot carry (Excel reads them back); openpyxl leaves inline strings escaped
        assert unescape(str(row[col])) == neutralise(typed), repr(typed[:40])


NASTY_CELLS = [
    ("name", "Boulangerie\x00NUL"),
    ("employees", "²"),
    ("employees", "99999999999999999999"),
    ("name", "\ufdfd" * 30),  # 30 characters whose folded form is 500 long
    ("name", "x" * 200_000),  # past the csv module's field limit
    ("address", "rue\x00du NUL"),
    ("email", "a\x00b@example.fr"),
]


@pytest.mark.parametrize(("column", "value"), NASTY_CELLS)
def test_import_nasty_cells(db: Database, sup: AgentInfo, column: str, value: str) -> None:
    good, bad = make_siret(), make_siret()
    row = {"siret": bad, "name": "Nom", "employees": "3", "address": "", "email": ""}
    row[column] = value
    content = HEADER + f"{good};Voisine;75011;;;;\n"
    content += f"{row['siret']};{row['name']};75011;;{row['employees']};{row['email']};"
    content += f"{row['address']}\n{make_siret()};Après;75011;;;;\n"
    summary = _import(db, sup, content.encode())
    assert summary is not None
    _accounted(summary)
    assert summary.read == 3 and summary.new + summary.updated >= 2
    with db.reading() as s:
        assert s.scalar(select(Business.name).where(Business.siret == good)) == "Voisine"
