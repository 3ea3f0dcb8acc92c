"""Import of business lists as chambers really have them: CSV or XLSX, messy headers.

CSV: UTF-8, UTF-8 with BOM or Windows-1252 (a file that is not valid UTF-8 is read as
Windows-1252); `;`, `,` or tab, sniffed from the header line. Headers are matched folded (case,
accents and punctuation ignored) against the usual French names and their variants. XLSX: the
first sheet, read in read-only mode (numbers that lost their leading zeros are padded back).

Each row is checked with the domain rules (SIRET, phone in the business's département, postcode,
NAF/NAFA code, e-mail); a bad row goes to the rejects file with its line number, the column as
named in the file, the value and the reason, and never stops the good rows beside it. Good rows
are upserted by SIRET in batches of 5,000, each batch its own short transaction (agents keep
recording calls meanwhile); a re-run adds nothing twice, and never lifts a do-not-call.
Always: rows imported + rows rejected = rows read (blank lines are not rows). A phone that is
no phone is left out of its row (flagged), not the row; an XLSX formula saved without its value
rejects its row. Every run is marked in audit_log at its start and its end, so a run that was
killed is named by the next run of the same file (see `previous_interrupted`).

An import never changes a business it has no business changing: one outside the importer's
chamber (or outside `--chamber`), one erased under the RGPD, one that opposed calls. Its row is
rejected with the reason, and the upsert itself is guarded (ON CONFLICT ... DO UPDATE WHERE) so
a firm that changed meanwhile is not touched either. A SIRET present twice in one file is
reported with its line numbers: the last valid line wins.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import os
import queue
import re
import threading
import time
import uuid
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import Agent, AuditLog, Business, CallTask, Chamber, Department
from outreach.domain.geography import department_of_postcode
from outreach.domain.invalid import InvalidValue
from outreach.domain.phones import parse_phone
from outreach.domain.siret import parse_siret
from outreach.domain.text import fold
from outreach.errors import Forbidden, InvalidInput
from outreach.i18n import _
from outreach.services.access import scope_of
from outreach.services.audit import record_audit
from outreach.services.clock import utcnow
from outreach.services.gdpr import ERASED_NAME
from outreach.services.safefile import SafeFile, check_target
from outreach.services.sheets import CsvWriter
from outreach.services.types import AgentInfo

BATCH = 5_000
# tests and tuning: rows a batch (each its own transaction); a test hook that stops the import
# (sleeping) once that many batches are committed, for a test to kill it there
ENV_BATCH = "OUTREACH_IMPORT_BATCH_ROWS"
ENV_PAUSE = "OUTREACH_TEST_IMPORT_PAUSE_AFTER_BATCHES"

# canonical field -> folded header variants
ALIASES: dict[str, tuple[str, ...]] = {
    "siret": (
        "siret",
        "n siret",
        "no siret",
        "num siret",
        "numero siret",
        "siret etablissement",
        "numero de siret",
        "n de siret",
    ),
    "name": (
        "raison sociale",
        "denomination",
        "denomination sociale",
        "nom",
        "nom entreprise",
        "nom de l entreprise",
        "entreprise",
        "societe",
        "nom de la societe",
    ),
    "sign": ("enseigne", "nom commercial", "enseigne commerciale"),
    "trade_code": (
        "code ape",
        "ape",
        "code naf",
        "naf",
        "code nafa",
        "nafa",
        "code ape nafa",
        "ape nafa",
        "naf nafa",
        "code naf nafa",
        "code activite",
        "code ape naf",
    ),
    "trade_label": (
        "activite",
        "libelle ape",
        "libelle naf",
        "libelle nafa",
        "libelle activite",
        "activite principale",
        "metier",
    ),
    "address": (
        "adresse",
        "adresse 1",
        "adresse1",
        "adresse postale",
        "voie",
        "rue",
        "adresse ligne 1",
    ),
    "postcode": ("code postal", "cp", "code postal etablissement", "codepostal"),
    "city": ("commune", "ville", "localite", "libelle commune"),
    "department": ("departement", "dept", "dep", "code departement"),
    "phone": (
        "telephone",
        "tel",
        "telephone fixe",
        "tel fixe",
        "numero de telephone",
        "fixe",
        "telephone 1",
        "tel 1",
    ),
    "phone_alt": (
        "portable",
        "telephone portable",
        "tel portable",
        "mobile",
        "gsm",
        "telephone mobile",
        "tel mobile",
        "telephone 2",
        "tel 2",
    ),
    "email": (
        "email",
        "e mail",
        "mail",
        "courriel",
        "adresse mail",
        "adresse email",
        "adresse e mail",
        "adresse electronique",
    ),
    "employees": ("effectif", "effectifs", "salaries", "nombre de salaries", "nb salaries"),
    "contact_name": (
        "contact",
        "nom du contact",
        "nom contact",
        "personne a contacter",
        "interlocuteur",
        "dirigeant",
        "nom du dirigeant",
        "nom dirigeant",
        "gerant",
        "nom du gerant",
        "responsable",
        "representant legal",
    ),
}
_BY_HEADER = {variant: key for key, variants in ALIASES.items() for variant in variants}
_NAF = re.compile(r"^(\d{2})\.?(\d{2})([A-Z])([A-Z]?)$")
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
# action: "rejected" (the row was not imported) or "imported_without_field" (the row was
# imported without this field's value: a phone that is no phone beside a valid SIRET)
REJECT_COLUMNS = ("line", "field", "value", "reason", "action")
REJECTED, WITHOUT_FIELD = "rejected", "imported_without_field"


@dataclass(frozen=True, slots=True)
class Reject:
    line: int
    field: str
    value: str
    reason: str
    action: str = REJECTED


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A SIRET on several valid lines of one file: the last line (`lines[-1]`) is what is kept."""

    siret: str
    lines: tuple[int, ...]


DUPLICATES_KEPT = 1_000  # listed in the summary; the count covers them all


@dataclass
class ImportSummary:
    path: str
    read: int = 0
    new: int = 0
    updated: int = 0
    rejected: int = 0
    queued: int = 0
    dry_run: bool = False
    encoding: str = ""
    delimiter: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # canonical field -> header in file
    ignored_columns: list[str] = field(default_factory=list)
    rejects_path: str | None = None
    first_rejects: list[Reject] = field(default_factory=list)
    warned: int = 0  # rows imported without a field whose value was invalid (a phone)
    first_warnings: list[Reject] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)  # the first DUPLICATES_KEPT
    duplicate_count: int = 0  # SIRETs found on more than one valid line
    interrupted: Interrupted | None = None  # the previous run of this file, if it stopped
    seconds: float = 0.0

    @property
    def imported(self) -> int:
        return self.new + self.updated

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Interrupted:
    """The previous import of the same file (same content, or same path) that never ended: a
    process killed, a machine stopped. Its committed batches are kept (each was a transaction
    of its own, audited); a re-run reads the whole file again and adds nothing twice."""

    at: Any  # when it started (UTC)
    login: str | None  # who ran it
    path: str  # the file's path then
    same_content: bool  # the same bytes (else: the same path, a file changed since)
    batches: int  # batches committed
    rows: int  # rows those batches wrote
    last_line: int  # the last line of the file they covered (0: none)


# audit rows marking a run: at its start and its end, under the file's content checksum and
# under its path (entity_id: a SHA-256, so an index look-up); its batches under the run's id
_BY_CONTENT, _BY_PATH, _RUN = "import_file", "import_path", "import_run"


def _file_keys(path: Path) -> tuple[str, str]:
    """(SHA-256 of the file's bytes, SHA-256 of its absolute path)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    where = hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogateescape"))
    return digest.hexdigest(), where.hexdigest()


def previous_interrupted(session: Session, content: str, where: str) -> Interrupted | None:
    """The latest run of this file (by content or by path), when it started and never ended."""
    marks = or_(
        and_(AuditLog.entity == _BY_CONTENT, AuditLog.entity_id == content),
        and_(AuditLog.entity == _BY_PATH, AuditLog.entity_id == where),
    )
    latest = session.execute(
        select(AuditLog.action, AuditLog.at, AuditLog.detail, AuditLog.entity, Agent.login)
        .outerjoin(Agent, Agent.id == AuditLog.agent_id)
        .where(marks)
        .order_by(AuditLog.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest.action != "import.start" or not latest.detail:
        return None
    run = str(latest.detail.get("run", ""))
    batches = session.scalars(
        select(AuditLog.detail).where(AuditLog.entity == _RUN, AuditLog.entity_id == run)
    ).all()
    return Interrupted(
        at=latest.at,
        login=latest.login,
        path=str(latest.detail.get("file", "")),
        same_content=latest.detail.get("sha256") == content,
        batches=len(batches),
        rows=sum(int((d or {}).get("rows", 0)) for d in batches),
        last_line=max((int((d or {}).get("last_line", 0)) for d in batches), default=0),
    )


def _mark_run(
    db: Database, person: AgentInfo, action: str, keys: tuple[str, str], detail: dict[str, Any]
) -> None:
    """The start or end marks of a run (one audit row per key), committed at once."""
    with db.writing() as session:
        for entity, key in zip((_BY_CONTENT, _BY_PATH), keys, strict=True):
            record_audit(
                session,
                agent_id=person.id,
                action=action,
                entity=entity,
                entity_id=key,
                detail=detail,
            )


class _Bad(Exception):
    def __init__(self, field: str, value: str, reason: str) -> None:
        self.field, self.value, self.reason = field, value, reason


class _NoValue:
    """An XLSX formula cell saved without its computed value (a file written by a program, not
    by a spreadsheet): the row is rejected naming the cell, never read as an empty cell."""

    __slots__ = ("formula",)

    def __init__(self, formula: str) -> None:
        self.formula = formula


_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")


def _formulas_without_value(book: Any, sheet: Any) -> dict[int, list[tuple[int, str]]]:
    """Row -> [(column index from 0, formula)], for the formula cells of `sheet` that carry no
    cached value. The sheet's XML is first searched for a formula at all (most lists have
    none: one pass over the bytes), and only then parsed."""
    import xml.etree.ElementTree as ET
    import zipfile

    path = getattr(sheet, "_worksheet_path", None)
    archive = getattr(book, "_archive", None)
    if not path or not isinstance(archive, zipfile.ZipFile):
        return {}
    with archive.open(path) as f:
        tail = b""
        while chunk := f.read(1 << 20):
            if _FORMULA_TAG.search(tail + chunk):
                break
            tail = chunk[-64:]
        else:
            return {}
    found: dict[int, list[tuple[int, str]]] = {}
    with archive.open(path) as f:
        for _event, elem in ET.iterparse(f):
            if not elem.tag.endswith("}c") and elem.tag != "c":
                continue
            formula = value = None
            for child in elem:
                local = child.tag.rsplit("}", 1)[-1]
                if local == "f":
                    formula = child
                elif local == "v":
                    value = child
            if formula is not None and (value is None or not (value.text or "")):
                m = _CELL_REF.match(elem.get("r", ""))
                if m is not None:
                    column = 0
                    for letter in m[1]:
                        column = column * 26 + ord(letter) - 64
                    found.setdefault(int(m[2]), []).append((column - 1, "=" + (formula.text or "")))
            elem.clear()
    return found


# --- reading files -------------------------------------------------------------------------------


def sniff_encoding(path: Path) -> str:
    """utf-8-sig (a BOM), utf-8 (decodes), else cp1252."""
    with path.open("rb") as f:
        if f.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _is_xlsx(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _cell_text(value: Any, key: str | None) -> str:
    if type(value) is str:  # every CSV cell: the hot path
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        # spreadsheets drop leading zeros: 1000 was the postcode 01000
        width = {"siret": 14, "postcode": 5}.get(key or "")
        return text.zfill(width) if width and len(text) < width else text
    return str(value).strip()


def _rows(path: Path, summary: ImportSummary) -> Iterator[tuple[int, list[Any]]]:
    """(line number, cells) for every line, the header first (line 1)."""
    if _is_xlsx(path):
        import openpyxl

        summary.encoding, summary.delimiter = "xlsx", ""
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a broken file
            raise InvalidInput(
                _("{path} : classeur XLSX illisible ({reason})").format(path=path, reason=exc)
            ) from None
        try:
            sheet = book.worksheets[0]
            missing = _formulas_without_value(book, sheet)
            for n, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = list(row)
                for column, formula in missing.get(n, ()):
                    if column < len(cells):
                        cells[column] = _NoValue(formula)
                yield n, cells
        finally:
            book.close()
        return
    encoding = sniff_encoding(path)
    summary.encoding = encoding
    # undecodable bytes (cp1252's five holes, a BOM before broken UTF-8) read as U+FFFD: the
    # row is then checked like any other instead of stopping the whole file
    with path.open(encoding=encoding, newline="", errors="replace") as f:
        first = f.readline()
        summary.delimiter = sniff_delimiter(first)
        f.seek(0)
        reader = csv.reader(f, delimiter=summary.delimiter)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # a field past the csv module's limit...: reject the line
                yield reader.line_num, _BrokenLine(str(exc))
                continue
            yield reader.line_num, row


class _BrokenLine(list[str]):
    """A line the csv module could not read: counted as read, then rejected with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__([reason])
        self.reason = reason


def map_headers(headers: list[Any], summary: ImportSummary) -> dict[str, int]:
    """Canonical field -> column index; InvalidInput when the SIRET or the name is missing."""
    found: dict[str, int] = {}
    for i, raw in enumerate(headers):
        text = _cell_text(raw, None).lstrip("\ufeff")
        key = _BY_HEADER.get(fold(text))
        if key is None or key in found:
            if text:
                summary.ignored_columns.append(text)
            continue
        found[key] = i
        summary.columns[key] = text
    seen = ", ".join(_cell_text(h, None) for h in headers if h) or "-"
    if len(seen) > 200:  # the header line of a file that is no list: a glimpse is enough
        seen = seen[:200] + "…"
    if "siret" not in found:
        raise InvalidInput(
            _("colonne SIRET introuvable dans l'en-tête (colonnes lues : {seen})").format(seen=seen)
        )
    if "name" not in found and "sign" not in found:
        raise InvalidInput(
            _("colonne Raison sociale / Dénomination introuvable (colonnes lues : {seen})").format(
                seen=seen
            )
        )
    if "postcode" not in found and "department" not in found:
        raise InvalidInput(
            _("colonne Code postal introuvable (colonnes lues : {seen})").format(seen=seen)
        )
    return found


# --- one row -------------------------------------------------------------------------------------

# the fields a row is read into, in this order (a column the file lacks reads as "")
_FIELDS = (
    "siret",
    "name",
    "sign",
    "trade_code",
    "trade_label",
    "address",
    "postcode",
    "city",
    "department",
    "phone",
    "phone_alt",
    "email",
    "employees",
    "contact_name",
)
# the columns a checked row fills, in the order of the tuple `_RowChecker.check` returns
COLUMNS = (
    "siret",
    "siren",
    "name",
    "name_key",
    "trade_code",
    "trade_label",
    "address",
    "postcode",
    "city",
    "department",
    "chamber_id",
    "phone",
    "phone_alt",
    "email",
    "employees",
    "contact_name",
    "created_at",
    "updated_at",
)


class _RowChecker:
    """One row's cells -> the tuple of COLUMNS, or _Bad naming the first fault (row order: SIRET,
    name, postcode/département, phones, APE code, e-mail, headcount, then the free texts)."""

    def __init__(
        self,
        cols: dict[str, int],
        headers: dict[str, str],
        dep_chamber: dict[str, int],
        chamber_only: tuple[int, str] | None,
        now: Any,
    ) -> None:
        self.headers = headers
        self.dep_chamber = dep_chamber
        self.chamber_only = chamber_only
        self.now = now
        # a missing column reads the padding's last cell (""): one C call picks all 14 cells
        self.pick = itemgetter(*(cols.get(key, -1) for key in _FIELDS))
        self.padding = [""] * (max(cols.values()) + 1)
        self.trades: dict[str, str] = {}  # code as typed -> as stored (a file has a few hundred)
        # the fields of the last checked row left out (an invalid phone), else None
        self.dropped: list[_Bad] | None = None

    def cells(self, row: list[Any]) -> list[str]:
        """The row's fields as text, stripped (CSV: every cell is a str)."""
        return [cell.strip() for cell in self.pick(row + self.padding)]

    def xlsx_cells(self, row: list[Any]) -> list[str]:
        """The row's fields as text; spreadsheet numbers and empty cells made text first."""
        return [
            _cell_text(v, k) for v, k in zip(self.pick(row + self.padding), _FIELDS, strict=True)
        ]

    def _nul(self, key: str, text: str) -> _Bad:
        # PostgreSQL cannot store it; a UTF-16 file is full of them
        return _Bad(self.headers[key], text.replace("\x00", "\\0")[:40], _("caractère nul"))

    def check(self, fields: list[str]) -> tuple[Any, ...]:
        (
            raw_siret,
            name,
            sign,
            trade,
            trade_label,
            address,
            postcode,
            city,
            raw_dep,
            phone,
            phone_alt,
            email,
            employees_text,
            contact,
        ) = fields
        h = self.headers
        # a NUL is reported for the first field read that has one, as the checks go
        nul = "\x00" in "".join(fields)
        if nul and "\x00" in raw_siret:
            raise self._nul("siret", raw_siret)
        try:
            siret = parse_siret(raw_siret)
        except InvalidValue as exc:
            raise _Bad(h["siret"], raw_siret, exc.reason) from None
        if nul and "\x00" in name:
            raise self._nul("name", name)
        if not name:
            name = sign
            if nul and "\x00" in name:
                raise self._nul("sign", name)
            if not name:
                raise _Bad(h.get("name") or h["sign"], "", _("raison sociale vide"))
        if len(name) > 200:
            raise _Bad(h.get("name") or h["sign"], name[:40] + "…", _("plus de 200 caractères"))
        if nul and "\x00" in postcode:
            raise self._nul("postcode", postcode)
        postcode = postcode.replace(" ", "")
        if postcode:
            department = department_of_postcode(postcode)
            if department is None:
                raise _Bad(h["postcode"], postcode, _("code postal inconnu (5 chiffres)"))
        else:
            if nul and "\x00" in raw_dep:
                raise self._nul("department", raw_dep)
            raw_dep = raw_dep.upper()
            if raw_dep.isdigit() and len(raw_dep) == 1:
                raw_dep = "0" + raw_dep
            if raw_dep in self.dep_chamber:
                department = raw_dep
            elif "postcode" in h:
                raise _Bad(h["postcode"], "", _("code postal vide"))
            else:
                raise _Bad(h["department"], raw_dep, _("département inconnu"))
        chamber_id = self.dep_chamber[department]
        if self.chamber_only is not None and chamber_id != self.chamber_only[0]:
            raise _Bad(
                h.get("postcode") or h["department"],
                postcode or department,
                _("département {dep} hors de la chambre {code}").format(
                    dep=department, code=self.chamber_only[1]
                ),
            )
        e164 = self._phone("phone", phone, department) if phone else None
        e164_alt = self._phone("phone_alt", phone_alt, department) if phone_alt else None
        # (a phone that is no phone is dropped, not the row: see `_phone`)
        if e164 is None and e164_alt is not None:
            e164, e164_alt = e164_alt, None
        if trade:
            stored = self.trades.get(trade)
            if stored is None:
                stored = self._trade(trade)
                if len(self.trades) < 10_000:
                    self.trades[trade] = stored
            trade = stored
        if nul and "\x00" in email:
            raise self._nul("email", email)
        if email and not _EMAIL.match(email):
            raise _Bad(h["email"], email, _("adresse e-mail invalide"))
        employees: int | None = None
        if employees_text:
            if nul and "\x00" in employees_text:
                raise self._nul("employees", employees_text)
            if (
                not (employees_text.isascii() and employees_text.isdigit())
                or len(employees_text) > 7
            ):
                raise _Bad(h["employees"], employees_text, _("nombre entier attendu"))
            employees = int(employees_text)
        if nul:
            for key, text in (
                ("trade_label", trade_label),
                ("address", address),
                ("city", city),
                ("contact_name", contact),
            ):
                if "\x00" in text:
                    raise self._nul(key, text)
        now = self.now
        return (
            siret,
            siret[:9],
            name,
            fold(name)[:200],  # folding may lengthen it (ß, ligatures)
            trade or None,
            trade_label[:200] or None,
            address[:250] or None,
            postcode or None,
            city[:120] or None,
            department,
            chamber_id,
            e164,
            e164_alt,
            email[:200] or None,
            employees,
            " ".join(contact.split())[:120] or None,
            now,
            now,
        )

    def _phone(self, key: str, text: str, department: str) -> str | None:
        """The phone as E.164; a value that is no phone of the département is dropped (None),
        noted in `self.dropped` for the caller: the row is imported without it, flagged."""
        if "\x00" in text:
            raise self._nul(key, text)
        try:
            return parse_phone(text, department, field=self.headers[key])
        except InvalidValue as exc:
            if self.dropped is None:
                self.dropped = []
            self.dropped.append(_Bad(self.headers[key], text[:40], exc.reason))
            return None

    def _trade(self, trade: str) -> str:
        """A NAF/NAFA code as stored (10.71C, 10.71CZ), from the stripped cell."""
        if "\x00" in trade:
            raise self._nul("trade_code", trade)
        code = trade.upper().replace(" ", "")
        m = _NAF.match(code)
        if m is None:
            raise _Bad(
                self.headers["trade_code"],
                code,
                _("code APE/NAFA invalide (ex. 10.71C ou 10.71CZ)"),
            )
        return f"{m[1]}.{m[2]}{m[3]}{m[4]}"


# --- writing -------------------------------------------------------------------------------------

_KEEP_IF_EMPTY = (
    "trade_code",
    "trade_label",
    "address",
    "city",
    "phone",
    "phone_alt",
    "email",
    "employees",
    "postcode",
    "contact_name",
)
_REPLACE = ("name", "name_key", "department", "chamber_id", "siren", "updated_at")
_NAMES = ", ".join(COLUMNS)
# SQLite: 50 rows a statement (850 parameters, under any build's limit): each execution has a
# fixed cost (statement journal, the status CHECK's IN-list table) that one row a statement pays
# 5,000 times a batch (the write's CPU: -40% measured on 42,500 rows)
_SQLITE_ROWS = 50
_SQLITE_VALUES = f"({', '.join('?' * len(COLUMNS))})"
_PG_COPY_NEW = f"COPY businesses ({_NAMES}) FROM STDIN"
_PG_COPY = f"COPY import_businesses (n, {_NAMES}) FROM STDIN"
# PostgreSQL: the batch is COPYed into a temporary table, then upserted from it in one statement
# (xmax = 0 on a row the statement inserted, not updated)
_PG_STAGE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS import_businesses ON COMMIT DELETE ROWS AS "
    f"SELECT 0 AS n, {_NAMES} FROM businesses WITH NO DATA"
)


@dataclass(frozen=True, slots=True)
class _Statements:
    sqlite_one: str
    sqlite_many: str
    pg_upsert: str


@functools.cache
def _statements(chamber_id: int | None) -> _Statements:
    """The upserts of an import limited to `chamber_id` (None: the whole network). status,
    do_not_call and the phone flags are the call centre's: an import never resets them; and the
    guard leaves alone an erased firm, one that opposed calls, and one of another chamber."""
    guard = " WHERE NOT businesses.do_not_call AND businesses.name <> '{}'".format(
        ERASED_NAME.replace("'", "''")
    )
    if chamber_id is not None:
        guard += f" AND businesses.chamber_id = {int(chamber_id)}"
    on_conflict = (
        "ON CONFLICT (siret) DO UPDATE SET "
        + ", ".join(
            [f"{c} = excluded.{c}" for c in _REPLACE]
            + [f"{c} = coalesce(excluded.{c}, businesses.{c})" for c in _KEEP_IF_EMPTY]
        )
        + guard
    )
    return _Statements(
        sqlite_one=f"INSERT INTO businesses ({_NAMES}) VALUES {_SQLITE_VALUES} {on_conflict}",
        sqlite_many=(
            f"INSERT INTO businesses ({_NAMES}) VALUES "
            f"{', '.join([_SQLITE_VALUES] * _SQLITE_ROWS)} {on_conflict}"
        ),
        pg_upsert=(
            f"WITH upserted AS (INSERT INTO businesses ({_NAMES}) SELECT {_NAMES} "
            f"FROM import_businesses ORDER BY n {on_conflict} RETURNING xmax = 0 AS fresh) "
            "SELECT count(*) FILTER (WHERE fresh) FROM upserted"
        ),
    )


def refused_sirets(
    session: Session, sirets: list[str], chamber_only: tuple[int, str] | None
) -> dict[str, str]:
    """The SIRETs of `sirets` an import must not change, each with the reason: a business of
    another chamber than `chamber_only`, one erased (RGPD), one that opposed calls."""
    blocked = or_(Business.do_not_call.is_(True), Business.name == ERASED_NAME)
    if chamber_only is not None:
        blocked = or_(blocked, Business.chamber_id != chamber_only[0])
    found = session.execute(
        select(Business.siret, Business.chamber_id, Business.name, Business.do_not_call).where(
            Business.siret.in_(sirets), blocked
        )
    ).all()
    reasons: dict[str, str] = {}
    if chamber_only is not None:
        # under row-level security (a regional person's own role) another chamber's firm is
        # not even visible: the database names those SIRETs (see security.sirets_elsewhere)
        for siret in hidden_sirets(session, sirets):
            reasons[siret] = _(
                "entreprise suivie par une autre chambre : hors du périmètre de l'import ({code})"
            ).format(code=chamber_only[1])
    for siret, chamber_id, name, do_not_call in found:
        # the chamber first: nothing is said about another chamber's firm beyond that
        if chamber_only is not None and chamber_id != chamber_only[0]:
            reasons[siret] = _(
                "entreprise suivie par une autre chambre : hors du périmètre de l'import ({code})"
            ).format(code=chamber_only[1])
        elif name == ERASED_NAME:
            reasons[siret] = _("entreprise effacée (RGPD) : l'import ne la recrée pas")
        elif do_not_call:
            reasons[siret] = _(
                "entreprise en opposition (ne plus appeler) : l'import ne la modifie pas"
            )
    return reasons


def hidden_sirets(session: Session, sirets: list[str]) -> set[str]:
    """Those of `sirets` that are firms of a chamber the connected person cannot see
    (PostgreSQL under row-level security; always none on SQLite, for an owner's connection,
    CMA France and admins)."""
    if session.get_bind().dialect.name != "postgresql" or not sirets:
        return set()
    return set(
        session.scalars(
            text("SELECT outreach_sirets_elsewhere(CAST(:sirets AS text[]))"), {"sirets": sirets}
        )
    )


def _upsert_postgresql(driver: Any, rows: list[tuple[Any, ...]], stmts: _Statements) -> int:
    """The batch is first COPYed straight into the table: when none of its SIRETs is there yet
    (a new list), that costs a fifth less server time than INSERT ... SELECT. A SIRET already
    there stops the COPY on the unique index (on a re-run, at the first row): the batch is then
    rolled back to the savepoint and upserted from the staged copy. No query looks the SIRETs
    up first: with 5,000 of them PostgreSQL may choose to scan the whole table."""
    import psycopg

    with driver.cursor() as cur:
        cur.execute("SAVEPOINT import_copy")
        try:
            with cur.copy(_PG_COPY_NEW) as copy:
                for row in rows:
                    copy.write_row(row)
        except (psycopg.errors.UniqueViolation, psycopg.errors.FeatureNotSupported):
            # FeatureNotSupported: a person's role, under row-level security, may not COPY
            # into the table (the staged upsert below checks each row against the policies)
            cur.execute("ROLLBACK TO SAVEPOINT import_copy")
        else:
            cur.execute("RELEASE SAVEPOINT import_copy")
            return len(rows)
        cur.execute(_PG_STAGE)
        cur.execute("SAVEPOINT import_upsert")
        try:
            return _staged_upsert(cur, rows, stmts)
        except psycopg.errors.InsufficientPrivilege:
            # a person's role: a SIRET of the batch is a firm of a chamber they cannot see,
            # whose row the upsert may neither update nor insert again. Those rows are left
            # out (the caller reports them, see refused_sirets) and the rest written.
            cur.execute("ROLLBACK TO SAVEPOINT import_upsert")
            cur.execute("SELECT outreach_sirets_elsewhere(%s)", ([r[0] for r in rows],))
            hidden = {r[0] for r in cur.fetchall()}
            if not hidden:
                raise
        return _staged_upsert(cur, [r for r in rows if r[0] not in hidden], stmts)


def _staged_upsert(cur: Any, rows: list[tuple[Any, ...]], stmts: _Statements) -> int:
    """COPY `rows` into the staging table, upsert from it: how many rows were new."""
    with cur.copy(_PG_COPY) as copy:
        for n, row in enumerate(rows):
            copy.write_row((n, *row))
    cur.execute(stmts.pg_upsert)
    added = cur.fetchone()
    return int(added[0]) if added else 0


def _upsert(session: Session, rows: list[tuple[Any, ...]], stmts: _Statements) -> int:
    """INSERT ... ON CONFLICT (siret) DO UPDATE of `rows` (tuples of COLUMNS, unique SIRETs) in
    the session's transaction, on the driver's connection (no SQLAlchemy parameter processing
    per row): SQLite runs prepared statements of 50 rows; PostgreSQL a COPY (see
    `_upsert_postgresql`). Returns how many rows were new (the rest updated a business, or
    were refused by the guard: see `refused_sirets`)."""
    conn = session.connection()
    driver = conn.connection.driver_connection
    assert driver is not None
    if conn.dialect.name == "postgresql":
        return _upsert_postgresql(driver, rows, stmts)
    cur = driver.cursor()
    try:
        # the transaction holds the write lock (BEGIN IMMEDIATE): no one else adds rows, and
        # a new row's id is above every id there before
        (top,) = cur.execute("SELECT coalesce(max(id), 0) FROM businesses").fetchone()
        whole = len(rows) - len(rows) % _SQLITE_ROWS
        cur.executemany(
            stmts.sqlite_many,
            [
                list(chain.from_iterable(rows[i : i + _SQLITE_ROWS]))
                for i in range(0, whole, _SQLITE_ROWS)
            ],
        )
        cur.executemany(stmts.sqlite_one, rows[whole:])
        (fresh,) = cur.execute("SELECT count(*) FROM businesses WHERE id > ?", (top,)).fetchone()
        return int(fresh)
    finally:
        cur.close()


def _write_batch(
    db: Database,
    person: AgentInfo,
    batch: _Batch,
    queue_into: tuple[int, int | None] | None,
    chamber_only: tuple[int, str] | None,
    run: str | None = None,
) -> tuple[int, int, dict[str, str]]:
    """Upsert one batch (unique SIRETs) in its own transaction: (new, queued, refused SIRETs
    with their reasons)."""
    stmts = _statements(chamber_only[0] if chamber_only else None)
    with db.writing() as session:
        new = _upsert(session, list(batch.rows.values()), stmts)
        refused: dict[str, str] = {}
        if new < len(batch.rows):  # some SIRETs were there already: were any left alone?
            refused = refused_sirets(session, list(batch.rows), chamber_only)
        sirets = [s for s in batch.rows if s not in refused]
        queued = 0
        if queue_into is not None and sirets:
            from outreach.services.campaigns import enqueue  # only with --campaign

            queued = enqueue(session, queue_into[0], queue_into[1], [Business.siret.in_(sirets)])
        # each batch commits on its own: its audit row goes with it (an interrupted import
        # leaves no unaudited rows); the summary row follows at the end
        # rows and last_line: how far a run got, should it be interrupted after this batch
        detail: dict[str, Any] = {
            "new": new,
            "queued": queued,
            "rows": len(batch.rows),
            "last_line": max(batch.lines.values()),
            "sirets": sirets,
        }
        if refused:
            detail["refused"] = sorted(refused)
        record_audit(
            session,
            agent_id=person.id,
            action="import.batch",
            entity=_RUN if run else "businesses",
            entity_id=run,
            detail=detail,
        )
    return new, queued, refused


@dataclass(slots=True)
class _Batch:
    rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # SIRET -> tuple of COLUMNS
    lines: dict[str, int] = field(default_factory=dict)  # SIRET -> its line in the file


_CHAMBER_AT = COLUMNS.index("chamber_id")


def _would_queue(
    session: Session,
    rows: dict[str, tuple[Any, ...]],
    known: set[str],
    queue_into: tuple[int, int | None],
) -> set[str]:
    """The SIRETs of `rows` a real run would queue into the campaign (a dry run's count): as
    `campaigns.enqueue` after the upsert, callable businesses of the campaign's chamber (the
    file's chamber wins) with no task in it yet; a new business is open and callable."""
    campaign_id, chamber_id = queue_into
    wanted = {s for s, r in rows.items() if chamber_id is None or r[_CHAMBER_AT] == chamber_id}
    blocked = set(
        session.scalars(
            select(Business.siret).where(
                Business.siret.in_(sorted(wanted & known)),
                or_(
                    Business.do_not_call.is_(True),
                    Business.status == "ceased",
                    Business.id.in_(
                        select(CallTask.business_id).where(CallTask.campaign_id == campaign_id)
                    ),
                ),
            )
        )
    )
    return wanted - blocked


class _BatchWriter:
    """Writes the batches in the order given. On PostgreSQL in a thread of its own: the server
    upserts one batch (its index and foreign-key work is most of the cost) while this process
    checks the next. Not on SQLite: its executemany takes the GIL back after every row, so a
    second thread would wait on the checks for each one. The rows the guard refused are kept
    in `refused`, as rejects, for the caller."""

    def __init__(
        self,
        db: Database,
        person: AgentInfo,
        queue_into: tuple[int, int | None] | None,
        chamber_only: tuple[int, str] | None,
        siret_field: str,
    ) -> None:
        self.db, self.person, self.queue_into = db, person, queue_into
        self.chamber_only, self.siret_field = chamber_only, siret_field
        self.run: str | None = None  # the run's id, set once its start is marked
        self.pause_after = int(os.environ.get(ENV_PAUSE, "0") or 0)
        self.written = 0
        self.new = self.queued = 0
        self.refused: list[Reject] = []
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if db.is_postgresql:
            self.batches: queue.Queue[_Batch | None] = queue.Queue(2)
            self.thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
            self.thread.start()

    def put(self, batch: _Batch) -> None:
        if self.thread is None:
            self._write(batch)
            return
        if self.error is not None:
            raise self.error
        self.batches.put(batch)

    def close(self) -> None:
        """Wait for every batch handed over (an interrupted import still writes those), then
        raise what stopped the writer, if anything did."""
        if self.thread is not None:
            self.batches.put(None)
            self.thread.join()
            self.thread = None
        if self.error is not None:
            raise self.error

    def _write(self, batch: _Batch) -> None:
        new, queued, refused = _write_batch(
            self.db, self.person, batch, self.queue_into, self.chamber_only, self.run
        )
        self.written += 1
        if self.pause_after and self.written == self.pause_after:
            while True:  # the test hook: stop here, committed, until killed
                time.sleep(60)
        self.new += new
        self.queued += queued
        self.refused += [
            Reject(batch.lines[siret], self.siret_field, siret, reason)
            for siret, reason in refused.items()
        ]

    def _run(self) -> None:
        while (batch := self.batches.get()) is not None:
            if self.error is None:  # after a failure the rest is not written, as in one thread
                try:
                    self._write(batch)
                except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
                    self.error = exc


def _duplicates(sirets: array[int], lines: array[int]) -> tuple[int, list[Duplicate]]:
    """The SIRETs found more than once in `sirets` (as numbers, one per valid row, `lines` the
    row's line): how many, and the first DUPLICATES_KEPT with their lines. Two arrays of
    8-byte numbers instead of a dict: a national list has a million rows."""
    ordered = sorted(sirets)
    twice = {a for a, b in zip(ordered, ordered[1:], strict=False) if a == b}
    del ordered
    if not twice:
        return 0, []
    found: dict[int, list[int]] = {}
    for siret, line in zip(sirets, lines, strict=True):
        if siret in twice:
            found.setdefault(siret, []).append(line)
    listed = sorted(found.items(), key=lambda item: item[1][0])[:DUPLICATES_KEPT]
    return len(twice), [Duplicate(f"{siret:014d}", tuple(at)) for siret, at in listed]


def import_businesses(
    db: Database,
    person: AgentInfo,
    path: Path,
    *,
    chamber: str | None = None,
    campaign: str | None = None,
    dry_run: bool = False,
    rejects: Path | None = None,
    progress: Callable[[int], None] | None = None,
    batch_size: int | None = None,
) -> ImportSummary:
    """Import the business list at `path` (see the module notes); the caller checked the role.

    Without `rejects`, bad rows go to `<file>.rejets.csv` beside the file (not in a dry run).
    """
    started = time.perf_counter()
    if batch_size is None:
        batch_size = int(os.environ.get(ENV_BATCH, "0") or 0) or BATCH
    if not path.is_file():
        raise InvalidInput(_("fichier introuvable : {path}").format(path=path))
    summary = ImportSummary(path=str(path), dry_run=dry_run)
    keys = _file_keys(path)
    with db.reading() as session:
        summary.interrupted = previous_interrupted(session, *keys)
        dep_chamber = dict(session.execute(select(Department.code, Department.chamber_id)).all())
        codes = dict(session.execute(select(Chamber.code, Chamber.id)).all())
        queue_into = None
        if campaign:
            from outreach.services.campaigns import find_campaign

            queue_into = find_campaign(session, person, campaign)
    scope = scope_of(person)
    chamber_only: tuple[int, str] | None = None
    if chamber:
        code = chamber.strip().upper()
        if code not in codes:
            raise InvalidInput(_("chambre inconnue : {code}").format(code=chamber))
        if not scope.national and code != scope.chamber_code:
            raise Forbidden(
                _("{login} ne peut importer que pour sa chambre ({code})").format(
                    login=person.login, code=scope.chamber_code
                )
            )
        chamber_only = (codes[code], code)
    elif not scope.national:
        assert scope.chamber_id is not None and scope.chamber_code is not None
        chamber_only = (scope.chamber_id, scope.chamber_code)

    rows = _rows(path, summary)
    header = next(rows, None)
    if header is None:
        raise InvalidInput(_("{path} : fichier vide").format(path=path))
    if _looks_binary(header[1]) or _binary_magic(path):
        raise InvalidInput(
            _("{path} : ni une liste CSV ni un classeur XLSX (contenu binaire)").format(path=path)
        )
    cols = map_headers(header[1], summary)
    now: Any = utcnow()
    # the driver gets created_at as SQLAlchemy would have bound it (SQLite: its text form)
    dialect = db.engine.dialect
    bind = Business.__table__.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    checker = _RowChecker(
        cols, summary.columns, dep_chamber, chamber_only, bind(now) if bind else now
    )
    xlsx = summary.encoding == "xlsx"
    fields_of = checker.xlsx_cells if xlsx else checker.cells
    check = checker.check

    reject_path = rejects
    if reject_path is None and not dry_run:
        reject_path = path.with_name(path.stem + ".rejets.csv")
    if reject_path is not None and _same_file(reject_path, path):
        raise InvalidInput(
            _("--rejects : {path} est le fichier importé lui-même").format(path=reject_path)
        )
    if reject_path is not None:
        check_target(reject_path, force=True)  # replaced if a file, never written through a link
    reject_file: SafeFile | None = None
    reject_writer: CsvWriter | None = None
    siret_field = summary.columns["siret"]
    batch = _Batch()
    writer = None if dry_run else _BatchWriter(db, person, queue_into, chamber_only, siret_field)
    # one 8-byte number per valid row for the duplicates report (see `_duplicates`)
    valid_sirets: array[int] = array("q")
    valid_lines: array[int] = array("q")
    refused: list[Reject] = []

    def flush() -> None:
        nonlocal batch
        if batch.rows and writer is not None:
            writer.put(batch)
            batch = _Batch()  # the writer owns the batch now
        elif batch.rows:
            with db.reading() as session:
                known = set(
                    session.scalars(select(Business.siret).where(Business.siret.in_(batch.rows)))
                )
                blocked = refused_sirets(session, list(batch.rows), chamber_only)
                if queue_into is not None:
                    kept = {s: r for s, r in batch.rows.items() if s not in blocked}
                    would_queue.update(_would_queue(session, kept, known, queue_into))
                    summary.queued = len(would_queue)
            refused.extend(
                Reject(batch.lines[siret], siret_field, siret, reason)
                for siret, reason in blocked.items()
            )
            # (a firm hidden by row-level security is not in `known`, but refused all the same)
            fresh = [
                s
                for s in batch.rows
                if s not in known and s not in blocked and s not in seen_in_file
            ]
            seen_in_file.update(fresh)
            summary.new += len(fresh)
            batch = _Batch()

    def write_reject(found: Reject) -> None:
        nonlocal reject_writer, reject_file
        if reject_path is not None:
            if reject_writer is None:
                reject_file = SafeFile(reject_path, force=True)
                reject_writer = CsvWriter(reject_file.file, REJECT_COLUMNS)
            reject_writer.write([found.line, found.field, found.value, found.reason, found.action])

    def reject(found: Reject) -> None:
        summary.rejected += 1
        if len(summary.first_rejects) < 20:
            summary.first_rejects.append(found)
        write_reject(found)

    def warn(found: Reject) -> None:
        summary.warned += 1
        if len(summary.first_warnings) < 20:
            summary.first_warnings.append(found)
        write_reject(found)

    # an XLSX cell's column -> its header, for the cells that are formulas without a value
    header_of = {i: summary.columns[key] for key, i in cols.items()}

    if writer is not None:
        # the run's start, committed before any batch: a run that never ends is named by the
        # next one (see `previous_interrupted`)
        writer.run = str(uuid.uuid4())
        _mark_run(
            db,
            person,
            "import.start",
            keys,
            {"run": writer.run, "file": str(path), "sha256": keys[0], "batch_rows": batch_size},
        )
    # only a dry run needs to remember the file's SIRETs (a real run asks the database)
    seen_in_file: set[str] = set()
    would_queue: set[str] = set()
    read = 0
    try:
        for line, cells in rows:
            if xlsx:
                if not any(c is not None and str(c).strip() for c in cells):
                    continue
            elif not "".join(cells).strip():  # every CSV cell is a str
                continue
            read += 1
            try:
                if type(cells) is _BrokenLine:
                    raise _Bad(
                        "-", "", _("ligne CSV illisible ({reason})").format(reason=cells.reason)
                    )
                if xlsx:
                    _no_value(cells, header_of)
                record = check(fields_of(cells))
            except _Bad as bad:
                checker.dropped = None
                reject(Reject(line, bad.field, bad.value, bad.reason))
                continue
            if checker.dropped is not None:
                for bad in checker.dropped:
                    warn(Reject(line, bad.field, bad.value, bad.reason, WITHOUT_FIELD))
                checker.dropped = None
            siret = record[0]
            valid_sirets.append(int(siret))
            valid_lines.append(line)
            if siret in batch.rows:
                flush()  # the same firm twice in a batch: the later line updates the first
            batch.rows[siret] = record
            batch.lines[siret] = line
            if len(batch.rows) >= batch_size:
                flush()
            if progress is not None and read % batch_size == 0:
                summary.read = read
                progress(read)
        flush()
    finally:
        summary.read = read
        try:
            if writer is not None:
                writer.close()
                summary.new, summary.queued = writer.new, writer.queued
                refused += writer.refused
            # rows the guard refused: rejects like the others, reported in line order
            for found in sorted(refused, key=lambda r: r.line):
                reject(found)
            summary.first_rejects.sort(key=lambda r: r.line)
        finally:
            # the rejects found so far are delivered even when the import stopped: they are true
            if reject_file is not None and reject_writer is not None:
                with reject_file:
                    reject_writer.close()
                    reject_file.deliver()
    not_kept = {r.value for r in refused}
    count, listed = _duplicates(valid_sirets, valid_lines)
    summary.duplicates = [d for d in listed if d.siret not in not_kept]
    summary.duplicate_count = count - (len(listed) - len(summary.duplicates))
    imported_rows = summary.read - summary.rejected
    summary.updated = imported_rows - summary.new
    summary.rejects_path = str(reject_path) if reject_writer is not None else None
    summary.seconds = time.perf_counter() - started
    if progress is not None:
        progress(summary.read)
    if not dry_run:
        with db.writing() as session:
            record_audit(
                session,
                agent_id=person.id,
                action="import",
                entity="businesses",
                detail={
                    "file": str(path),
                    "chamber": chamber_only[1] if chamber_only else None,
                    "campaign": campaign,
                    "read": summary.read,
                    "new": summary.new,
                    "updated": summary.updated,
                    "rejected": summary.rejected,
                    "queued": summary.queued,
                    "duplicates": summary.duplicate_count,
                    "run": writer.run if writer is not None else None,
                },
            )
            for entity, key in zip((_BY_CONTENT, _BY_PATH), keys, strict=True):
                record_audit(
                    session,
                    agent_id=person.id,
                    action="import.end",
                    entity=entity,
                    entity_id=key,
                    detail={"run": writer.run if writer is not None else None},
                )
        if summary.new and db.is_sqlite:
            _refresh_statistics(db)
    return summary


def _no_value(cells: list[Any], header_of: dict[int, str]) -> None:
    """_Bad for the first cell of an imported column that is a formula without a value; such
    cells of ignored columns read as empty."""
    for i, cell in enumerate(cells):
        if type(cell) is _NoValue:
            if i in header_of:
                raise _Bad(
                    header_of[i],
                    cell.formula[:40],
                    _(
                        "formule sans valeur calculée (ouvrez le classeur dans un tableur et "
                        "enregistrez-le, ou collez les valeurs)"
                    ),
                )
            cells[i] = None


def _looks_binary(cells: list[Any]) -> bool:
    """Whether a header line is no text: a NUL, or one character in ten undecodable or a
    control character (an image, an archive, a PDF read as CSV)."""
    text = "".join(str(c) for c in cells if c is not None)[:4096]
    if not text:
        return False
    bad = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\r\n"))
    return "\x00" in text or bad * 10 > len(text)


# the first bytes of files people pick by mistake (image, PDF, archive, program)
_MAGIC = (b"\x89PNG", b"%PDF-", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"\x7fELF", b"MZ")


def _binary_magic(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(8).startswith(_MAGIC)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and a.samefile(b)
    except OSError:
        return False


def _refresh_statistics(db: Database) -> None:
    """Planner statistics for `businesses` once rows were added. SQLite keeps none by itself:
    without them a phone search goes through the chamber index (see docs/BENCHMARKS.md). Sampled
    as the seeding does (analysis_limit): about 1 ms on 90,000 rows once the pages are cached.
    PostgreSQL's autovacuum analyses on its own; an ANALYZE there takes ~0.6 s, so none here."""
    with db.writing() as session:
        conn = session.connection()
        conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
        conn.exec_driver_sql("ANALYZE businesses")
        conn.exec_driver_sql("PRAGMA analysis_limit = 0")
