"""Streaming writers for tabular files: CSV, XLSX and JSON Lines, one row at a time.

CSV defaults to what French Excel and LibreOffice open right with a double click: UTF-8 with a
byte order mark and `;` between fields; `comma=True` gives plain UTF-8, comma-separated CSV.
XLSX goes through xlsxwriter in constant-memory mode; past 1,048,575 data rows a sheet is full
and the rows continue on a new sheet (the header repeated).

Formula neutralisation (CSV and XLSX): the rule of `outreach.services.neutralise` (a leading
apostrophe before `=`, `+`, `-`, `@`, a tab or a carriage return; a signed number is left as it
is, so an E.164 phone stays E.164). In XLSX every text value is written as a text cell (never as
a formula or a number), so phones show as "+33612345678"; in CSV, Excel may still display such a
phone as the number 33612345678 when opening it: use XLSX for spreadsheets, CSV for programs.
JSON Lines is for programs and is written as is.

Big exports (the calls) hand the writers whole batches (`write_many`), or, for CSV from
PostgreSQL's COPY, lines already made, with the text neutralised in SQL by
`neutralise.neutralised_sql` (`write_lines`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from outreach.services.neutralise import TRIGGER_SET, neutralise

FORMATS = ("csv", "xlsx", "jsonl")
XLSX_MAX_DATA_ROWS = 1_048_575  # 1,048,576 rows per sheet, the first one is the header


def _needs_neutralising(rows: Sequence[Sequence[str | None]]) -> bool:
    """Whether `_cell` would change some cell of `rows` (True too for a cell that is no text)."""
    triggers = TRIGGER_SET  # most cells start with none: no call for them
    try:
        for values in rows:
            for value in values:
                if value and value[0] in triggers and neutralise(value) is not value:
                    return True
    except TypeError:  # a number or some other value: let _cell see it
        return True
    return False


def _cell(value: Any) -> Any:
    kind = type(value)
    if kind is str:  # the common case first: millions of cells per export
        return neutralise(value)
    if value is None:
        return None
    if kind is bool:
        return int(value)
    if kind is int or kind is float:
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return neutralise(str(value))


class SheetWriter(Protocol):
    rows: int

    def write(self, values: Sequence[Any]) -> None: ...

    def write_many(self, rows: Sequence[Sequence[Any]]) -> None:
        """`write` each row; rows of str, int or None only."""

    def close(self) -> None: ...


def _text_file(target: Path | BinaryIO, newline: str) -> io.TextIOWrapper:
    """A UTF-8 text file at `target`, a path or a binary file (a SafeFile's); the writer's
    close() closes it either way."""
    if isinstance(target, Path):
        return open(target, "w", encoding="utf-8", newline=newline)  # noqa: SIM115
    return io.TextIOWrapper(target, encoding="utf-8", newline=newline)


class CsvWriter:
    def __init__(
        self, target: Path | BinaryIO, columns: Sequence[str], *, comma: bool = False
    ) -> None:
        # plain UTF-8 and the BOM written by hand: the utf-8-sig codec costs a Python call a row
        self._file = _text_file(target, "")
        if not comma:
            self._file.write("\ufeff")
        self.delimiter = "," if comma else ";"
        self._csv = csv.writer(self._file, delimiter=self.delimiter)
        self._csv.writerow(columns)
        self._width = len(columns)
        self.rows = 0

    def write(self, values: Sequence[Any]) -> None:
        self._csv.writerow(map(_cell, values))  # the csv module writes None as ""
        self.rows += 1

    def write_many(self, rows: Sequence[Sequence[str | None]]) -> None:
        """`write` each row, for text and None only: the cells go through `_cell` only in the
        batches where some text needs neutralising (a few, if any), and the csv module only
        writes the batches where some cell needs quotes or is None (give "" for NULL)."""
        if _needs_neutralising(rows):
            rows = [list(map(_cell, values)) for values in rows]
        elif (text := self._plain(rows)) is not None:
            self._file.write(text)
            self.rows += len(rows)
            return
        self._csv.writerows(rows)
        self.rows += len(rows)

    def _plain(self, rows: Sequence[Sequence[str | None]]) -> str | None:
        """`rows` as the csv module writes them, when it writes every cell as it is: all text,
        as wide as the header, without the delimiter, a quote or a line break. None otherwise."""
        if not rows:
            return ""
        delimiter, width, count = self.delimiter, self._width, len(rows)
        if set(map(len, rows)) != {width}:
            return None
        try:
            # a None among the cells raises TypeError (caught): its rows go by the csv module
            text = "\r\n".join([delimiter.join(values) for values in rows])  # type: ignore[arg-type]
        except TypeError:  # None or some other value: the csv module knows what to write
            return None
        if (
            text.count(delimiter) != count * (width - 1)
            or '"' in text
            or text.count("\n") != count - 1
            or text.count("\r") != count - 1
        ):
            return None
        return text + "\r\n"

    def write_lines(self, lines: Sequence[bytes | memoryview]) -> None:
        """CSV lines in UTF-8, each ending with "\\n", as PostgreSQL's COPY ... WITH (FORMAT csv)
        writes them with this writer's delimiter and NULL for the empty strings: the csv module's
        quoting, with its "\\r\\n" line ends put back."""
        if lines:
            self._file.flush()
            data = b"\r\n".join([line[:-1] for line in lines]) + b"\r\n"
            self._file.buffer.write(data)
        self.rows += len(lines)

    def close(self) -> None:
        self._file.close()


class JsonlWriter:
    def __init__(self, target: Path | BinaryIO, columns: Sequence[str]) -> None:
        self._file = _text_file(target, "\n")
        self._columns = list(columns)
        self.rows = 0

    def write(self, values: Sequence[Any]) -> None:
        record = {
            k: (v.isoformat() if isinstance(v, datetime | date) else v)
            for k, v in zip(self._columns, values, strict=True)
        }
        self._file.write(json.dumps(record, ensure_ascii=False))
        self._file.write("\n")
        self.rows += 1

    def write_many(self, rows: Sequence[Sequence[Any]]) -> None:
        for values in rows:
            self.write(values)

    def close(self) -> None:
        self._file.close()


class XlsxWriter:
    def __init__(
        self,
        target: Path | BinaryIO,
        columns: Sequence[str],
        *,
        sheet_name: str = "data",
        max_rows: int = XLSX_MAX_DATA_ROWS,
    ) -> None:
        import xlsxwriter  # only when asked for: CSV exports start faster

        # a binary file (a SafeFile's) is written by the zip module, and closed by close()
        self._target = None if isinstance(target, Path) else _Muted(target)
        self._book = xlsxwriter.Workbook(
            str(target) if self._target is None else self._target,
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        self._bold = self._book.add_format({"bold": True})
        self._columns = list(columns)
        self._name = sheet_name[:28]
        self._max = max_rows
        self.sheets = 0
        self.rows = 0
        self._row = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self.sheets += 1
        name = self._name if self.sheets == 1 else f"{self._name} ({self.sheets})"
        self._sheet = self._book.add_worksheet(name)
        for col, title in enumerate(self._columns):
            self._sheet.write_string(0, col, title, self._bold)
        self._sheet.freeze_panes(1, 0)
        self._row = 0

    def write(self, values: Sequence[Any]) -> None:
        if self._row >= self._max:
            self._new_sheet()
        self._row += 1
        sheet, row = self._sheet, self._row
        for col, value in enumerate(values):
            cell = _cell(value)
            if cell is None:
                continue
            if isinstance(cell, str):
                sheet.write_string(row, col, cell)
            else:
                sheet.write_number(row, col, cell)
        self.rows += 1

    def write_many(self, rows: Sequence[Sequence[Any]]) -> None:
        for values in rows:
            self.write(values)

    def close(self) -> None:
        try:
            self._book.close()
        except BaseException:
            if self._target is not None:
                # xlsxwriter leaves its ZipFile open on a failure (a full disk): the zip's
                # later clean-up must not write to (or complain about) the closed file
                self._target.muted = True
            raise
        finally:
            if self._target is not None:
                self._target.file.close()


class _Muted:
    """A binary file that, once `muted`, only pretends: writes are counted, not written (the
    zip module's clean-up after a failure then runs to its end without touching the file)."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.muted = False
        self._pos = 0

    def write(self, data: bytes) -> int:
        if self.muted:
            self._pos += len(data)
            return len(data)
        return self.file.write(data)

    def tell(self) -> int:
        if self.muted:
            return self._pos
        self._pos = self.file.tell()
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if self.muted:
            self._pos = offset if whence == 0 else self._pos + offset
            return self._pos
        return self.file.seek(offset, whence)

    def flush(self) -> None:
        if not self.muted:
            self.file.flush()

    def seekable(self) -> bool:
        return True


def open_writer(
    fmt: str,
    path: Path | BinaryIO,
    columns: Sequence[str],
    *,
    comma: bool = False,
    sheet_name: str = "data",
    xlsx_max_rows: int = XLSX_MAX_DATA_ROWS,
) -> SheetWriter:
    """A writer for `fmt` (csv, xlsx, jsonl) at `path` (or into a binary file), the header
    already written."""
    if fmt == "csv":
        return CsvWriter(path, columns, comma=comma)
    if fmt == "xlsx":
        return XlsxWriter(path, columns, sheet_name=sheet_name, max_rows=xlsx_max_rows)
    if fmt == "jsonl":
        return JsonlWriter(path, columns)
    raise ValueError(f"unknown format {fmt!r}")
