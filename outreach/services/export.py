"""Exports for partners and the State: calls, referrals, businesses, do-not-call, roll-ups.

Everything streams: rows come from a server-side cursor (`stream_results`, `yield_per`) and go
straight to the file, so memory stays flat however many calls there are. Times are ISO 8601 in
French time with their offset (2020-11-02T10:00:00+01:00); phones are E.164. Every export leaves
an audit row: who, what, the filters, the format, the file and the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
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
from outreach.services import rollup as rollups
from outreach.services.audit import record_audit
from outreach.services.selection import PARIS, CallFilter, Selection, resolve
from outreach.services.sheets import FORMATS, XLSX_MAX_DATA_ROWS, open_writer
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
EXPORT_CACHE_KB = 8_192

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


@dataclass(frozen=True, slots=True)
class ExportResult:
    kind: str
    fmt: str
    path: Path
    rows: int
    sheets: int  # XLSX sheets written (1 for other formats)


_OFFSETS: dict[datetime, tuple[timedelta, str]] = {}


def _iso(moment: datetime | None) -> str | None:
    """A stored UTC time as ISO 8601 in Paris time with its offset: 2020-11-02T10:00:00+01:00.

    The offset is looked up once per UTC hour (Paris changes offset on the hour), which keeps
    millions of rows cheap."""
    if moment is None:
        return None
    hour = moment.replace(minute=0, second=0, microsecond=0)
    hit = _OFFSETS.get(hour)
    if hit is None:
        local = hour.replace(tzinfo=UTC).astimezone(PARIS)
        offset = local.utcoffset()
        assert offset is not None
        if len(_OFFSETS) > 200_000:
            _OFFSETS.clear()
        hit = _OFFSETS[hour] = (offset, local.isoformat()[19:])
    return (moment + hit[0]).isoformat() + hit[1]


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


def _grouped(rows: Iterator[Any]) -> Iterator[tuple[int, list[Any]]]:
    """(call_id, [rest, ...]) from rows ordered by call_id."""
    current: int | None = None
    bucket: list[Any] = []
    for row in rows:
        if row[0] != current:
            if current is not None:
                yield current, bucket
            current, bucket = row[0], []
        bucket.append(row[1:])
    if current is not None:
        yield current, bucket


class _Merge:
    """Look up the children of a call id in a stream ordered by call id (a merge join)."""

    def __init__(self, groups: Iterator[tuple[int, list[Any]]]) -> None:
        self._groups = groups
        self._head: tuple[int, list[Any]] | None = next(groups, None)

    def take(self, call_id: int) -> list[Any]:
        while self._head is not None and self._head[0] < call_id:
            self._head = next(self._groups, None)
        if self._head is not None and self._head[0] == call_id:
            found = self._head[1]
            self._head = next(self._groups, None)
            return found
        return []


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
    answered = (
        select(CallAnswer.question)
        .join(Call, Call.id == CallAnswer.call_id)
        .where(*sel.conditions())
        .distinct()
    )
    for (key,) in session.execute(answered):
        if key not in keys:
            keys.append(key)
    return keys


def _calls(session: Session, sel: Selection) -> tuple[list[str], int, Iterator[list[Any]]]:
    names = _Lookups(session)
    keys = _answer_keys(session, sel)
    columns = list(CALL_COLUMNS) + [k if k not in CALL_COLUMNS else f"answer_{k}" for k in keys]
    where = sel.conditions()
    total = session.scalar(select(func.count(Call.id)).where(*where)) or 0

    def rows() -> Iterator[list[Any]]:
        refs = _Merge(
            _grouped(
                _stream(
                    session,
                    select(Referral.call_id, Referral.kind)
                    .join(Call, Call.id == Referral.call_id)
                    .where(*where)
                    .order_by(Referral.call_id, Referral.id),
                )
            )
        )
        answers = _Merge(
            _grouped(
                _stream(
                    session,
                    select(CallAnswer.call_id, CallAnswer.question, CallAnswer.answer)
                    .join(Call, Call.id == CallAnswer.call_id)
                    .where(*where)
                    .order_by(CallAnswer.call_id, CallAnswer.id),
                )
            )
        )
        calls = (
            select(
                Call.id,
                Call.uuid,
                Call.started_at,
                Call.ended_at,
                Call.agent_id,
                Call.chamber_id,
                Call.campaign_id,
                Business.siret,
                Business.name,
                Business.department,
                func.coalesce(Call.phone, Business.phone),
                Call.outcome,
                Call.notes,
            )
            .join(Business, Business.id == Call.business_id)
            .where(*where)
            .order_by(Call.id)
        )
        for cid, uuid, started, ended, agent, chamber, campaign, *rest in _stream(session, calls):
            siret, bname, dep, phone, result, notes = rest
            camp_name, lockdown = names.campaign.get(campaign, (str(campaign), None))
            by_key = dict(answers.take(cid))
            yield [
                uuid,
                _iso(started),
                _iso(ended),
                names.agent.get(agent),
                names.chamber.get(chamber),
                camp_name,
                lockdown,
                siret,
                bname,
                dep,
                phone,
                result,
                ",".join(kind for (kind,) in refs.take(cid)),
                notes,
                *(by_key.get(k) for k in keys),
            ]

    return columns, total, rows()


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
                _iso(created),
                kind,
                partner,
                status,
                notes,
                uuid,
                _iso(started),
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
                values[-1] = _iso(values[-1])
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
    if out.parent and not out.parent.exists():
        raise InvalidInput(_("dossier introuvable : {path}").format(path=out.parent))
    partial = out.with_name(out.name + ".partial")
    with db.reading() as session:
        cache = None
        if db.is_sqlite:
            # a one-pass read gains nothing from the 64 MB page cache: keep memory flat
            conn = session.connection()
            cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql(f"PRAGMA cache_size = -{EXPORT_CACHE_KB}")
        try:
            if request.kind == "calls":
                columns, total, rows = _calls(session, sel)
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
                partial,
                columns,
                comma=request.comma,
                sheet_name=request.kind,
                xlsx_max_rows=request.xlsx_max_rows,
            )
            try:
                for values in rows:
                    writer.write(values)
                    if progress is not None and writer.rows % BATCH == 0:
                        progress(writer.rows, total)
                writer.close()
            except BaseException:
                writer.close()
                partial.unlink(missing_ok=True)
                raise
        finally:
            if cache is not None:
                session.connection().exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
    # the file appears whole or not at all
    partial.replace(out)
    if progress is not None:
        progress(writer.rows, max(total, writer.rows))
    sheets = int(getattr(writer, "sheets", 1))
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
    return ExportResult(request.kind, request.fmt, out, writer.rows, sheets)
