"""Reading the file: CSV (encoding and delimiter sniffed) or XLSX (the first sheet), headers
matched to fields, files that are no list refused."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from outreach.domain.text import fold
from outreach.errors import InvalidInput
from outreach.i18n import _
from outreach.services.importer.summary import ImportSummary

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
            for n, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells: list[Any] = list(values)
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
