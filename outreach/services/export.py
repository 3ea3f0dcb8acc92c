"""Exports for partners and the State: calls, referrals, businesses, do-not-call, roll-ups.

Everything streams: rows come from a server-side cursor (`stream_results`, `yield_per`) and go
straight to the file, so memory stays flat however many calls there are. Times are ISO 8601 in
French time with their offset (2020-11-02T10:00:00+01:00); phones are E.164. Every export leaves
an audit row: who, what, the filters, the format, the file and the number of rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, func, literal_column, select, true, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by, array_agg
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import (
    Agent,
    Business,
    Call,
    CallAnswer,
    CallTask,
    Campaign,
    Chamber,
    Lockdown,
    Referral,
)
from outreach.errors import InvalidInput
from outreach.i18n import _
from outreach.services import bulk
from outreach.services import rollup as rollups
from outreach.services.audit import record_audit
from outreach.services.neutralise import neutralised_sql
from outreach.services.paris_time import SET_ZONE, iso, iso_sql, iso_text
from outreach.services.safefile import SafeFile, check_target
from outreach.services.selection import CallFilter, Selection, resolve
from outreach.services.sheets import (
    FORMATS,
    XLSX_MAX_DATA_ROWS,
    CsvWriter,
    SheetWriter,
    open_writer,
)
from outreach.services.types import AgentInfo

KINDS = ("calls", "referrals", "businesses", "do-not-call", "rollup")
CALL_COLUMNS = (
    "call_uuid",
    "started_at",
    "ended_at",
    "agent_login",
    "chamber_code",
    "campaign",
    "lockdown",
    "siret",
    "business_name",
    "department",
    "phone",
    "outcome",
    "referral_kinds",
    "notes",
)
REFERRAL_COLUMNS = (
    "referral_id",
    "created_at",
    "kind",
    "partner",
    "status",
    "notes",
    "call_uuid",
    "call_started_at",
    "agent_login",
    "chamber_code",
    "campaign",
    "lockdown",
    "siret",
    "business_name",
    "department",
)
BUSINESS_COLUMNS = (
    "siret",
    "siren",
    "name",
    "trade_code",
    "trade_label",
    "address",
    "postcode",
    "city",
    "department",
    "chamber_code",
    "phone",
    "phone_alt",
    "email",
    "contact_name",
    "status",
    "employees",
    "sells_online",
    "do_not_call",
)
DO_NOT_CALL_COLUMNS = (
    "siret",
    "siren",
    "name",
    "postcode",
    "city",
    "department",
    "chamber_code",
    "phone",
    "phone_alt",
    "do_not_call_at",
)
BATCH = 5_000
EXPORT_CACHE_KB = 32_768

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ExportRequest:
    kind: str
    fmt: str
    out: Path
    filters: CallFilter = CallFilter()
    comma: bool = False
    by: tuple[str, ...] = ("lockdown",)  # for the roll-up export
    xlsx_max_rows: int = XLSX_MAX_DATA_ROWS
    force: bool = False  # replace an existing file at `out`


@dataclass(frozen=True, slots=True)
class ExportResult:
    kind: str
    fmt: str
    path: Path
    rows: int
    sheets: int  # XLSX sheets written (1 for other formats)


class _Lookups:
    """The small tables, in memory: agents, chambers, campaigns and their lockdowns."""

    def __init__(self, session: Session) -> None:
        self.agent = dict(session.execute(select(Agent.id, Agent.login)).all())
        self.chamber = dict(session.execute(select(Chamber.id, Chamber.code)).all())
        lockdowns = dict(session.execute(select(Lockdown.id, Lockdown.name)).all())
        self.campaign: dict[int, tuple[str, str | None]] = {
            cid: (name, lockdowns.get(lid) if lid else None)
            for cid, name, lid in session.execute(
                select(Campaign.id, Campaign.name, Campaign.lockdown_id)
            )
        }


def _stream(session: Session, stmt: Any) -> Iterator[Any]:
    result = session.execute(stmt.execution_options(stream_results=True, yield_per=BATCH))
    yield from result


def _answer_keys(session: Session, sel: Selection) -> list[str]:
    """Script question keys: the selected campaigns' scripts, then any other key answered."""
    keys: list[str] = []
    campaigns = select(Campaign.script).order_by(Campaign.id)
    if sel.campaign_ids is not None:
        campaigns = campaigns.where(Campaign.id.in_(sorted(sel.campaign_ids) or [-1]))
    for (script,) in session.execute(campaigns):
        for question in script or []:
            key = str(question.get("key", ""))
            if key and key not in keys:
                keys.append(key)
    answered = select(CallAnswer.question).distinct()
    if conditions := sel.conditions():
        answered = answered.join(Call, Call.id == CallAnswer.call_id).where(*conditions)
    # else one pass over call_answers alone: joined to every call, SQLite looks each answer up
    # by its call (7 s instead of 0.3 s for 2.6 million answers)
    for (key,) in session.execute(answered):
        if key not in keys:
            keys.append(key)
    return keys


def _calls_query(
    sel: Selection, keys: list[str], *, sqlite: bool, copy: bool = False, blank: bool = False
) -> Any:
    """The calls export as one statement: calls with their business, agent, chamber, campaign
    and lockdown, the referral kinds in order, one column per answer key (the last answer given
    to that key), in call order. Times are Paris ISO text on PostgreSQL and the stored UTC text
    on SQLite (see `iso_text`). For a CSV made by COPY (`copy`) the text is neutralised in SQL
    and the empty text is NULL (the csv module writes both as nothing, COPY writes "" for the
    empty string); otherwise the writer neutralises. With `blank` (a CSV on SQLite), NULL is ""
    (the csv module writes both as nothing, and rows of text only are written faster)."""

    def cell(value: Any) -> Any:
        if copy:
            return func.nullif(neutralised_sql(value), literal_column("''"))
        return func.coalesce(value, literal_column("''")) if blank else value

    started: Any
    ended: Any
    if sqlite:
        ordered = (
            select(Referral.kind)
            .where(Referral.call_id == Call.id)
            .order_by(Referral.id)
            .correlate(Call)
            .subquery()
        )
        kinds: Any = func.group_concat(ordered.c.kind, literal_column("','"))
        kinds_from: Any = ordered
        started, ended = (type_coerce(c, String) for c in (Call.started_at, Call.ended_at))
        if blank:
            ended = func.coalesce(ended, literal_column("''"))
    else:
        # a literal separator: the neutralising CASE repeats the aggregate, computed once only
        # if every copy is the same expression (a bound parameter each would not be)
        kinds = func.string_agg(
            Referral.kind, aggregate_order_by(literal_column("','"), Referral.id)
        )
        kinds_from = Referral
        started, ended = iso_sql(Call.started_at), iso_sql(Call.ended_at)
    kinds = func.coalesce(kinds, literal_column("''"))  # "" when the call has no referral
    referral_kinds = select(cell(kinds)).select_from(kinds_from)
    if not sqlite:
        referral_kinds = referral_kinds.where(Referral.call_id == Call.id)
    answers: list[Any] = []
    answers_from: Any = None
    if sqlite and keys:
        # every answer of the call as one JSON object {question: answer}, in answer order (the
        # last answer to a key wins when read back), unpacked by `_answers`: one index search
        # per call where a subquery per key reads the call's answers once per key (twice as
        # slow at 2.6 million answers)
        given = (
            select(CallAnswer.question, CallAnswer.answer)
            .where(CallAnswer.call_id == Call.id)
            .order_by(CallAnswer.id)
            .correlate(Call)
            .subquery()
        )
        answers = [
            select(func.json_group_object(given.c.question, given.c.answer))
            .select_from(given)
            .scalar_subquery()
        ]
    elif keys:  # one index search per call, every key in the same pass
        answers_from = (
            select(
                *(
                    array_agg(aggregate_order_by(CallAnswer.answer, CallAnswer.id.desc()))
                    .filter(CallAnswer.question == key)
                    .self_group()[1]
                    .label(f"answer_{n}")
                    for n, key in enumerate(keys)
                )
            )
            .where(CallAnswer.call_id == Call.id)
            .lateral("answers")
        )
        answers = list(answers_from.c)
    stmt = (
        select(
            cell(Call.uuid),
            started,
            ended,
            cell(Agent.login),
            cell(Chamber.code),
            cell(func.coalesce(Campaign.name, cast(Call.campaign_id, String))),
            cell(Lockdown.name),
            cell(Business.siret),
            cell(Business.name),
            cell(Business.department),
            cell(func.coalesce(Call.phone, Business.phone)),
            cell(Call.outcome),
            referral_kinds.scalar_subquery(),
            cell(Call.notes),
            *(answers if sqlite else (cell(answer) for answer in answers)),
        )
        .select_from(Call)
        .join(Business, Business.id == Call.business_id)
        .outerjoin(Agent, Agent.id == Call.agent_id)
        .outerjoin(Chamber, Chamber.id == Call.chamber_id)
        .outerjoin(Campaign, Campaign.id == Call.campaign_id)
        .outerjoin(Lockdown, Lockdown.id == Campaign.lockdown_id)
    )
    if answers_from is not None:
        stmt = stmt.outerjoin(answers_from, true())
    return stmt.where(*sel.conditions()).order_by(Call.id)


class _AnswerCells:
    """The answer cells of a SQLite row from the JSON object that ends it, one per key, `blank`
    for no answer: `cells.get(text) or parse(text)`. Answers come mostly from a few choices, so
    each object is parsed once."""

    def __init__(self, keys: list[str], blank: str | None) -> None:
        self._keys, self._blank = keys, blank
        self.cells: dict[str | None, tuple[Any, ...]] = {None: (blank,) * len(keys)}

    def parse(self, text: str) -> tuple[Any, ...]:
        given, blank = json.loads(text), self._blank
        found = tuple(blank if (v := given.get(k)) is None else v for k in self._keys)
        if len(self.cells) > 100_000:  # free text after all: keep memory flat
            self.cells = {None: self.cells[None]}
        self.cells[text] = found
        return found


def _call_keys(session: Session, sel: Selection) -> tuple[list[str], list[str], int]:
    """The answer keys, the export's columns and the number of calls."""
    keys = _answer_keys(session, sel)
    columns = list(CALL_COLUMNS) + [k if k not in CALL_COLUMNS else f"answer_{k}" for k in keys]
    total = session.scalar(select(func.count(Call.id)).where(*sel.conditions())) or 0
    return keys, columns, total


def _write_calls(
    session: Session,
    sel: Selection,
    keys: list[str],
    writer: SheetWriter,
    total: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Stream the calls into `writer`, BATCH rows at a time, straight from the DBAPI cursor:
    SQLite sends rows that only need their two times turned to Paris time; PostgreSQL sends
    CSV lines through COPY, or finished rows for the other formats."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    csv = isinstance(writer, CsvWriter)
    copy = csv and not sqlite
    stmt = _calls_query(sel, keys, sqlite=sqlite, copy=copy, blank=csv and sqlite)
    if sqlite:
        paris, answers = iso_text, _AnswerCells(keys, "" if csv else None)
        for fetched in bulk.sqlite_batches(conn, stmt, BATCH):
            if keys:
                cells, parse = answers.cells, answers.parse
                made = [
                    (r[0], paris(r[1]), paris(r[2]), *r[3:14], *(cells.get(r[14]) or parse(r[14])))
                    for r in fetched
                ]
            else:
                made = [(r[0], paris(r[1]), paris(r[2]), *r[3:]) for r in fetched]
            writer.write_many(made)
            if progress is not None:
                progress(writer.rows, total)
        return
    conn.exec_driver_sql(SET_ZONE)  # this transaction only
    if copy:
        assert isinstance(writer, CsvWriter)
        options = f"FORMAT csv, DELIMITER '{writer.delimiter}'"
        for lines in bulk.pg_copy_out(conn, stmt, options, BATCH):
            writer.write_lines(lines)
            if progress is not None and lines:
                progress(writer.rows, total)
        return
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt)
    for part in result.partitions():
        writer.write_many(part)
        if progress is not None:
            progress(writer.rows, total)


def _referrals(session: Session, sel: Selection) -> tuple[list[str], int, Iterator[list[Any]]]:
    names = _Lookups(session)
    where = sel.conditions()
    base = select(func.count(Referral.id)).join(Call, Call.id == Referral.call_id).where(*where)
    total = session.scalar(base) or 0
    stmt = (
        select(
            Referral.id,
            Referral.created_at,
            Referral.kind,
            Referral.partner,
            Referral.status,
            Referral.notes,
            Call.uuid,
            Call.started_at,
            Call.agent_id,
            Call.chamber_id,
            Call.campaign_id,
            Business.siret,
            Business.name,
            Business.department,
        )
        .join(Call, Call.id == Referral.call_id)
        .join(Business, Business.id == Call.business_id)
        .where(*where)
        .order_by(Referral.id)
    )

    def rows() -> Iterator[list[Any]]:
        for rid, created, kind, partner, status, notes, uuid, started, agent, *rest in _stream(
            session, stmt
        ):
            chamber, campaign, siret, bname, dep = rest
            camp_name, lockdown = names.campaign.get(campaign, (str(campaign), None))
            yield [
                rid,
                iso(created),
                kind,
                partner,
                status,
                notes,
                uuid,
                iso(started),
                names.agent.get(agent),
                names.chamber.get(chamber),
                camp_name,
                lockdown,
                siret,
                bname,
                dep,
            ]

    return list(REFERRAL_COLUMNS), total, rows()


def _business_filter(sel: Selection, filters: CallFilter, kind: str) -> list[Any]:
    if filters.lockdown or filters.since or filters.until:
        raise InvalidInput(
            _("export {kind} : seuls --chamber et --campaign s'appliquent").format(kind=kind)
        )
    where: list[Any] = []
    if sel.chamber_id is not None:
        where.append(Business.chamber_id == sel.chamber_id)
    if sel.campaign_ids is not None:
        where.append(
            Business.id.in_(
                select(CallTask.business_id).where(
                    CallTask.campaign_id.in_(sorted(sel.campaign_ids) or [-1])
                )
            )
        )
    return where


def _businesses(
    session: Session, sel: Selection, filters: CallFilter, do_not_call: bool
) -> tuple[list[str], int, Iterator[list[Any]]]:
    names = _Lookups(session)
    where = _business_filter(sel, filters, "do-not-call" if do_not_call else "businesses")
    if do_not_call:
        where.append(Business.do_not_call.is_(True))
        cols: tuple[Any, ...] = (
            Business.siret,
            Business.siren,
            Business.name,
            Business.postcode,
            Business.city,
            Business.department,
            Business.chamber_id,
            Business.phone,
            Business.phone_alt,
            Business.do_not_call_at,
        )
        columns = list(DO_NOT_CALL_COLUMNS)
    else:
        cols = (
            Business.siret,
            Business.siren,
            Business.name,
            Business.trade_code,
            Business.trade_label,
            Business.address,
            Business.postcode,
            Business.city,
            Business.department,
            Business.chamber_id,
            Business.phone,
            Business.phone_alt,
            Business.email,
            Business.contact_name,
            Business.status,
            Business.employees,
            Business.sells_online,
            Business.do_not_call,
        )
        columns = list(BUSINESS_COLUMNS)
    total = session.scalar(select(func.count(Business.id)).where(*where)) or 0
    chamber_at = columns.index("chamber_code")
    stmt = select(*cols).where(*where).order_by(Business.siret)

    def rows() -> Iterator[list[Any]]:
        for row in _stream(session, stmt):
            values = list(row)
            values[chamber_at] = names.chamber.get(values[chamber_at])
            if do_not_call:
                values[-1] = iso(values[-1])
            yield values

    return columns, total, rows()


def _rollup_rows(
    db: Database, sel: Selection, by: tuple[str, ...]
) -> tuple[list[str], int, Iterator[list[Any]]]:
    result = rollups.rollup(db, sel, by)
    columns = [*by, *rollups.MEASURES] if by else list(rollups.MEASURES)

    def rows() -> Iterator[list[Any]]:
        for row in result.rows:
            yield [row[c] for c in columns]
        total = [result.total[m] for m in rollups.MEASURES]
        yield (["total", *([None] * (len(by) - 1)), *total] if by else total)

    return columns, len(result.rows) + 1, rows()


def _write_export(
    db: Database,
    sel: Selection,
    request: ExportRequest,
    target: SafeFile,
    progress: Callable[[int, int], None] | None,
) -> tuple[SheetWriter, int]:
    """Write the export into `target`'s temporary file: (the closed writer, rows expected)."""
    with db.reading() as session:
        small_cache: AbstractContextManager[None] = nullcontext()
        if db.is_sqlite:  # a one-pass read: see bulk.sqlite_page_cache
            small_cache = bulk.sqlite_page_cache(session.connection(), EXPORT_CACHE_KB)
        with small_cache:
            keys: list[str] = []
            rows: Iterator[Sequence[Any]] = iter(())
            if request.kind == "calls":
                keys, columns, total = _call_keys(session, sel)
            elif request.kind == "referrals":
                columns, total, rows = _referrals(session, sel)
            elif request.kind in ("businesses", "do-not-call"):
                columns, total, rows = _businesses(
                    session, sel, request.filters, request.kind == "do-not-call"
                )
            else:
                columns, total, rows = _rollup_rows(db, sel, request.by)
            writer = open_writer(
                request.fmt,
                target.file,
                columns,
                comma=request.comma,
                sheet_name=request.kind,
                xlsx_max_rows=request.xlsx_max_rows,
            )
            if request.kind == "calls":
                _write_calls(session, sel, keys, writer, total, progress)
            for values in rows:
                writer.write(values)
                if progress is not None and writer.rows % BATCH == 0:
                    progress(writer.rows, total)
            writer.close()
    return writer, total


def export(
    db: Database,
    person: AgentInfo,
    request: ExportRequest,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write the export to `request.out` and leave an audit row; the caller checked the role.

    `progress(done, total)` is called every few thousand rows (for a progress bar).
    """
    if request.kind not in KINDS:
        raise InvalidInput(
            _("export : type inconnu {kind} (au choix : {kinds})").format(
                kind=request.kind, kinds=", ".join(KINDS)
            )
        )
    if request.fmt not in FORMATS:
        raise InvalidInput(
            _("export : format inconnu {fmt} (au choix : {fmts})").format(
                fmt=request.fmt, fmts=", ".join(FORMATS)
            )
        )
    sel = resolve(db, person, request.filters)
    out = request.out
    check_target(out, force=request.force)  # before any work: an existing file needs force
    with SafeFile(out, force=request.force) as target:
        writer, total = _write_export(db, sel, request, target, progress)
        sheets = int(getattr(writer, "sheets", 1))
        # the audit row is committed before the file is delivered: an export the database
        # cannot record (locked, read-only, gone) is not delivered at all
        with db.writing() as session:
            record_audit(
                session,
                agent_id=person.id,
                action="export",
                entity=request.kind,
                detail={
                    "format": request.fmt,
                    "path": str(out),
                    "filters": sel.described,
                    "rows": writer.rows,
                    **({"by": list(request.by)} if request.kind == "rollup" else {}),
                },
            )
        target.deliver()  # the file appears whole or not at all
    if progress is not None:
        progress(writer.rows, max(total, writer.rows))
    return ExportResult(request.kind, request.fmt, out, writer.rows, sheets)
