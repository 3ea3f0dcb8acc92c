"""What an import reports: its summary, its rejects, the SIRETs found twice, the run it
follows that never ended; and the names of the audit rows that mark a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
