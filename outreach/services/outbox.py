"""Invariant 2: a recorded call is never lost. When the database cannot be reached, the call is
appended to a local outbox (JSON lines, fsync'd) and replayed later with the same uuid, which
`record_call` treats idempotently; an entry leaves the outbox only after its call is committed.

One outbox file per database (named from the URL) in the user data directory, so calls made
against one database are never replayed into another. A file lock keeps several app processes
(the browser server runs one per session) from interleaving writes.

The file is read as bytes, one entry a line. A line that is not a call (not UTF-8, not JSON,
a torn write, fields missing) is never dropped: it is moved, byte for byte, to the quarantine
file beside the outbox (`….quarantine.jsonl`) and reported, and the calls around it go on.
Replay is done as one agent, the one logged in: only the entries of that agent are sent, the
others wait for their own agent (an entry written under another agent's id is never recorded
by whoever opens the app next).
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
from outreach.db.engine import DamagedDatabaseError, Database, offline_reason
from outreach.errors import DatabaseDamaged, DatabaseUnavailable, OutreachError
from outreach.i18n import _
from outreach.services.types import CallInput, RecordResult, ReferralInput

# Errors that mean "the database is not there now", as opposed to a call the database refused.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    DatabaseUnavailable,
)


def is_damaged(exc: BaseException) -> bool:
    """Whether `exc` is a SQLite file found damaged (not merely out of reach)."""
    return isinstance(exc, DamagedDatabaseError | DatabaseDamaged)


def offline_message(db: Database | None, exc: BaseException) -> str:
    """What the agents' screen says when the database cannot be used now: a damaged SQLite file
    (found damaged while the app runs) names the damage and the way back; else unreachable."""
    if isinstance(exc, DatabaseDamaged):
        return str(exc)
    if is_damaged(exc):
        return offline_reason(db, exc)
    return _("Base de données injoignable ({reason}).").format(reason=offline_reason(db, exc))


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
    remaining: int  # this agent's entries still waiting
    error: str | None = None  # why replay stopped early, or why the database refused a call
    refused: int = 0  # calls the database refused (kept, never dropped: a person must look)
    quarantined: int = 0  # unreadable lines moved to the quarantine file by this replay
    quarantine: Path | None = None  # that file, when it holds anything


@dataclass(frozen=True, slots=True)
class _Entry:
    raw: bytes  # the line as it is in the file, without its newline
    call: CallInput | None  # None: not a readable call (quarantined at the next rewrite)


def _parse(raw: bytes) -> CallInput | None:
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            return None
        call = call_from_json(data)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    # the fields a replay relies on, of the right kind (a forged line may hold anything)
    if not (
        isinstance(call.uuid, str)
        and type(call.agent_id) is int
        and type(call.campaign_id) is int
        and type(call.business_id) is int
        and isinstance(call.outcome, str)
    ):
        return None
    return call


class Outbox:
    """The append-only file of calls waiting for the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_suffix(".lock")
        self.quarantine_path = path.with_suffix(".quarantine.jsonl")

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
        line = (json.dumps(call_to_json(call), ensure_ascii=False) + "\n").encode("utf-8")
        with self._locked():
            with open(self.path, "a+b") as fh:
                # a torn last line (a crash mid-write) must not swallow this one
                if fh.tell() > 0:
                    fh.seek(-1, os.SEEK_END)
                    if fh.read(1) != b"\n":
                        line = b"\n" + line
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())

    def _entries(self) -> list[_Entry]:
        if not self.path.exists():
            return []
        return [
            _Entry(raw, _parse(raw)) for raw in self.path.read_bytes().split(b"\n") if raw.strip()
        ]

    @staticmethod
    def _calls(entries: list[_Entry], agent_id: int | None) -> list[CallInput]:
        calls: list[CallInput] = []
        seen: set[str] = set()
        for entry in entries:
            call = entry.call
            if call is None or (agent_id is not None and call.agent_id != agent_id):
                continue
            if call.uuid not in seen:
                seen.add(call.uuid)
                calls.append(call)
        return calls

    def pending(self, agent_id: int | None = None) -> list[CallInput]:
        """The readable calls waiting (of `agent_id` only, if given), each uuid once."""
        with self._locked():
            return self._calls(self._entries(), agent_id)

    def count(self, agent_id: int | None = None) -> int:
        return len(self.pending(agent_id))

    def unreadable(self) -> int:
        """Lines of the outbox that are not calls (moved aside at the next replay)."""
        with self._locked():
            return sum(1 for e in self._entries() if e.call is None)

    def _quarantine(self, entries: list[_Entry]) -> int:
        """Append the unreadable `entries` to the quarantine file, durably; how many."""
        bad = [e.raw for e in entries if e.call is None]
        if bad:
            with open(self.quarantine_path, "ab") as fh:
                fh.write(b"".join(raw + b"\n" for raw in bad))
                fh.flush()
                os.fsync(fh.fileno())
        return len(bad)

    def _rewrite(self, entries: list[_Entry]) -> None:
        """The outbox holds `entries` (as they were, byte for byte) and nothing else."""
        if not entries:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            fh.write(b"".join(e.raw + b"\n" for e in entries))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def replay(self, record: Callable[[CallInput], RecordResult], *, agent_id: int) -> ReplayReport:
        """Send the waiting calls of `agent_id` (the person logged in) through `record`, in
        order; remove each once it is committed. Unreadable lines are first moved to the
        quarantine file; other agents' entries are left as they are.

        Stops at the first unreachable-database error (the rest stay for the next try). A call
        the database refuses for another reason stays too and is reported, never dropped.
        """
        with self._locked():
            entries = self._entries()
            quarantined = self._quarantine(entries)
            entries = [e for e in entries if e.call is not None]
            if quarantined:
                self._rewrite(entries)
            calls = self._calls(entries, agent_id)
            done = refused = 0
            error: str | None = None
            committed: set[str] = set()
            for call in calls:
                try:
                    record(call)
                except UNREACHABLE as exc:
                    error = _first_line(exc)
                    break
                except OutreachError as exc:
                    error = f"{call.uuid}: {exc}"
                    refused += 1
                    continue
                done += 1
                committed.add(call.uuid)
                # removed at once, so a crash now replays only what is not yet committed
                entries = [
                    e
                    for e in entries
                    if not (
                        e.call is not None
                        and e.call.agent_id == agent_id
                        and e.call.uuid in committed
                    )
                ]
                self._rewrite(entries)
            remaining = len(self._calls(entries, agent_id))
            return ReplayReport(
                done,
                remaining,
                error,
                refused,
                quarantined,
                self.quarantine_path if self.quarantine_path.exists() else None,
            )


def record_or_keep(
    db: Database,
    outbox: Outbox,
    call: CallInput,
    record: Callable[[Database, CallInput], RecordResult],
    kept: Callable[[BaseException], None] | None = None,
) -> RecordResult | None:
    """Record `call`; if the database cannot be reached (or was found damaged), keep it in
    `outbox` and return None (`kept` is told why)."""
    try:
        return record(db, call)
    except UNREACHABLE as exc:
        outbox.append(call)
        if kept is not None:
            kept(exc)
        return None
