"""Checking one row: the domain rules turn its cells into the tuple of COLUMNS, or name the
field, the value and the reason it is rejected; the SIRETs found on several lines."""

from __future__ import annotations

import re
from array import array
from operator import itemgetter
from typing import Any

from outreach.domain.geography import department_of_postcode
from outreach.domain.invalid import InvalidValue
from outreach.domain.phones import parse_phone
from outreach.domain.siret import parse_siret
from outreach.domain.text import fold
from outreach.i18n import _
from outreach.services.importer.read import _cell_text, _NoValue
from outreach.services.importer.summary import DUPLICATES_KEPT, Duplicate


class _Bad(Exception):
    def __init__(self, field: str, value: str, reason: str) -> None:
        self.field, self.value, self.reason = field, value, reason


_NAF = re.compile(r"^(\d{2})\.?(\d{2})([A-Z])([A-Z]?)$")
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")


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
