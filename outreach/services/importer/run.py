"""One import run from start to end: the file read, each row checked, the batches written, the
rejects file, the audit rows that mark the run (see the package notes)."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import Agent, AuditLog, Business, Chamber, Department
from outreach.errors import Forbidden, InvalidInput
from outreach.i18n import _
from outreach.services.access import scope_of
from outreach.services.audit import record_audit
from outreach.services.clock import utcnow
from outreach.services.importer.check import _Bad, _duplicates, _no_value, _RowChecker
from outreach.services.importer.read import (
    _binary_magic,
    _BrokenLine,
    _looks_binary,
    _rows,
    map_headers,
)
from outreach.services.importer.summary import (
    _BY_CONTENT,
    _BY_PATH,
    _RUN,
    REJECT_COLUMNS,
    WITHOUT_FIELD,
    ImportSummary,
    Interrupted,
    Reject,
)
from outreach.services.importer.write import (
    BATCH,
    ENV_BATCH,
    _Batch,
    _BatchWriter,
    _refresh_statistics,
    _would_queue,
    refused_sirets,
)
from outreach.services.safefile import SafeFile, check_target
from outreach.services.sheets import CsvWriter
from outreach.services.types import AgentInfo


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
        rows=sum(_number(d, "rows") for d in batches),
        last_line=max((_number(d, "last_line") for d in batches), default=0),
    )


def _number(detail: dict[str, object] | None, key: str) -> int:
    """A count an audit row's detail holds (0 when it has none)."""
    value = (detail or {}).get(key, 0)
    return int(value) if isinstance(value, int | float | str) else 0


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
                for left_out in checker.dropped:
                    warn(
                        Reject(line, left_out.field, left_out.value, left_out.reason, WITHOUT_FIELD)
                    )
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


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and a.samefile(b)
    except OSError:
        return False
