"""Invariant 2: a recorded call is never lost. When the database cannot be reached, the call is
appended to a local outbox (JSON lines, fsync'd) and replayed later with the same uuid, which
`record_call` treats idempotently; an entry leaves the outbox only after its call is committed.

One outbox file per database (named from the URL) in the user data directory, so calls made
against one database are never replayed into another. A file lock keeps several app processes
(the browser server runs one per session) from interleaving writes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError

from outreach.config import data_dir
from outreach.db.engine import Database
from outreach.errors import DatabaseUnavailable, OutreachError
from outreach.services.types import CallInput, RecordResult, ReferralInput

# Errors that mean "the database is not there now", as opposed to a call the database refused.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    DatabaseUnavailable,
)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def call_to_json(call: CallInput) -> dict[str, Any]:
    data = asdict(call)
    for key in ("started_at", "ended_at", "callback_at"):
        value = data[key]
        data[key] = value.isoformat() if isinstance(value, datetime) else None
    return data


def call_from_json(data: dict[str, Any]) -> CallInput:
    values = dict(data)
    for key in ("started_at", "ended_at", "callback_at"):
        raw = values.get(key)
        values[key] = datetime.fromisoformat(raw) if raw else None
    values["referrals"] = tuple(ReferralInput(**r) for r in values.get("referrals") or ())
    values["answers"] = dict(values.get("answers") or {})
    return CallInput(**values)


def outbox_path(db: Database, directory: Path | None = None) -> Path:
    digest = hashlib.sha256(db.display_url.encode()).hexdigest()[:12]
    return (directory or data_dir()) / f"outbox-{digest}.jsonl"


@dataclass(frozen=True, slots=True)
class ReplayReport:
    replayed: int  # entries committed (or found already committed) and removed
    remaining: int
    error: str | None = None  # why replay stopped early, or why the database refused a call
    refused: int = 0  # calls the database refused (kept, never dropped: a person must look)


class Outbox:
    """The append-only file of calls waiting for the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_suffix(".lock")

    @classmethod
    def for_database(cls, db: Database, directory: Path | None = None) -> Outbox:
        return cls(outbox_path(db, directory))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, call: CallInput) -> None:
        """Add `call`, durably (fsync) before returning."""
        line = json.dumps(call_to_json(call), ensure_ascii=False) + "\n"
        with self._locked():
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())

    def _read(self) -> list[CallInput]:
        if not self.path.exists():
            return []
        calls: list[CallInput] = []
        seen: set[str] = set()
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                call = call_from_json(json.loads(line))
            except (ValueError, TypeError):
                continue  # a torn last line from a crash mid-write: its call was never confirmed
            if call.uuid not in seen:
                seen.add(call.uuid)
                calls.append(call)
        return calls

    def pending(self) -> list[CallInput]:
        with self._locked():
            return self._read()

    def count(self) -> int:
        return len(self.pending())

    def _rewrite(self, calls: list[CallInput]) -> None:
        if not calls:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for call in calls:
                fh.write(json.dumps(call_to_json(call), ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def replay(self, record: Callable[[CallInput], RecordResult]) -> ReplayReport:
        """Send every waiting call through `record` in order; remove each once it is committed.

        Stops at the first unreachable-database error (the rest stay for the next try). A call
        the database refuses for another reason stays too and is reported, never dropped.
        """
        with self._locked():
            calls = self._read()
            kept: list[CallInput] = []
            done = refused = 0
            error: str | None = None
            for index, call in enumerate(calls):
                try:
                    record(call)
                except UNREACHABLE as exc:
                    error = _first_line(exc)
                    kept.extend(calls[index:])
                    break
                except OutreachError as exc:
                    error = f"{call.uuid}: {exc}"
                    kept.append(call)
                    refused += 1
                    continue
                done += 1
                # removed at once, so a crash now replays only what is not yet committed
                self._rewrite(kept + calls[index + 1 :])
            return ReplayReport(done, len(kept), error, refused)


def record_or_keep(
    db: Database,
    outbox: Outbox,
    call: CallInput,
    record: Callable[[Database, CallInput], RecordResult],
) -> RecordResult | None:
    """Record `call`; if the database cannot be reached, keep it in `outbox` and return None."""
    try:
        return record(db, call)
    except UNREACHABLE:
        outbox.append(call)
        return None
