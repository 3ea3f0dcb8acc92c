"""Writing the checked rows: the guarded upsert by SIRET, a batch per transaction, per backend
(SQLite multi-row statements; PostgreSQL COPY, in a writer thread), and the refused SIRETs."""

from __future__ import annotations

import functools
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, text, update
from sqlalchemy.orm import Session

from outreach.db.engine import Database, rowcount
from outreach.db.models import Business, CallTask
from outreach.i18n import _
from outreach.services import bulk
from outreach.services.audit import record_audit
from outreach.services.gdpr import ERASED_NAME
from outreach.services.importer.check import COLUMNS
from outreach.services.importer.summary import _RUN, Reject
from outreach.services.queue.context import OPEN_STATES
from outreach.services.types import AgentInfo

BATCH = 5_000
# tests and tuning: rows a batch (each its own transaction); a test hook that stops the import
# (sleeping) once that many batches are committed, for a test to kill it there
ENV_BATCH = "OUTREACH_IMPORT_BATCH_ROWS"
ENV_PAUSE = "OUTREACH_TEST_IMPORT_PAUSE_AFTER_BATCHES"


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
# the stage a batch is COPYed into on PostgreSQL when some of its SIRETs are there already
_STAGE = "import_businesses"


@dataclass(frozen=True, slots=True)
class _Statements:
    sqlite: bulk.SqliteInsert  # multi-row upserts (see bulk.SQLITE_ROWS)
    pg_upsert: str  # from the staged copy (xmax = 0 on a row it inserted, not updated)


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
        sqlite=bulk.SqliteInsert.of("businesses", COLUMNS, on_conflict),
        pg_upsert=(
            f"WITH upserted AS (INSERT INTO businesses ({_NAMES}) SELECT {_NAMES} "
            f"FROM {_STAGE} ORDER BY n {on_conflict} RETURNING xmax = 0 AS fresh) "
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


def follow_moved_businesses(session: Session, sirets: list[str]) -> int:
    """The open tasks (queued, waiting, callback) of the firms of `sirets` follow a move the
    import made: a new address in another département (maybe another chamber) changes the task's
    chamber and département, which the claim and the calling window read from the task. Without
    it a chamber's claim hands out a firm now of another chamber, whose record is then refused.
    Returns how many tasks moved."""
    t, b = CallTask.__table__, Business.__table__
    moved = session.execute(
        update(t)
        .where(
            t.c.business_id == b.c.id,
            b.c.siret.in_(sirets),
            t.c.state.in_(OPEN_STATES),
            or_(t.c.chamber_id != b.c.chamber_id, t.c.department != b.c.department),
        )
        .values(chamber_id=b.c.chamber_id, department=b.c.department)
    )
    return rowcount(moved)


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
    """The batch is first COPYed straight into the table (`bulk.pg_copy_new`): when none of its
    SIRETs is there yet (a new list), that costs a fifth less server time than INSERT ... SELECT.
    A SIRET already there stops the COPY on the unique index (on a re-run, at the first row): the
    batch is then upserted from a staged copy. No query looks the SIRETs up first: with 5,000 of
    them PostgreSQL may choose to scan the whole table."""
    import psycopg

    with driver.cursor() as cur:
        # FeatureNotSupported: a person's role, under row-level security, may not COPY into
        # the table (the staged upsert below checks each row against the policies)
        refused = (psycopg.errors.FeatureNotSupported,)
        if bulk.pg_copy_new(cur, "businesses", COLUMNS, rows, refused):
            return len(rows)
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
    bulk.pg_stage(cur, _STAGE, "businesses", COLUMNS, rows)
    cur.execute(stmts.pg_upsert)
    added = cur.fetchone()
    return int(added[0]) if added else 0


def _upsert(session: Session, rows: list[tuple[Any, ...]], stmts: _Statements) -> int:
    """INSERT ... ON CONFLICT (siret) DO UPDATE of `rows` (tuples of COLUMNS, unique SIRETs) in
    the session's transaction, on the driver's connection (no SQLAlchemy parameter processing
    per row): SQLite runs prepared statements of 50 rows (`bulk.SqliteInsert`); PostgreSQL a
    COPY (see `_upsert_postgresql`). Returns how many rows were new (the rest updated a
    business, or were refused by the guard: see `refused_sirets`)."""
    conn = session.connection()
    driver = bulk.driver(conn)
    if conn.dialect.name == "postgresql":
        return _upsert_postgresql(driver, rows, stmts)
    cur = driver.cursor()
    try:
        # the transaction holds the write lock (BEGIN IMMEDIATE): no one else adds rows, and
        # a new row's id is above every id there before
        (top,) = cur.execute("SELECT coalesce(max(id), 0) FROM businesses").fetchone()
        stmts.sqlite.run(cur, rows)
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
        if new < len(batch.rows) and sirets:
            follow_moved_businesses(session, sirets)
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


def _refresh_statistics(db: Database) -> None:
    """Planner statistics for `businesses` once rows were added (`bulk.sqlite_analyze`: SQLite
    keeps none by itself). PostgreSQL's autovacuum analyses on its own; an ANALYZE there takes
    ~0.6 s, so none here."""
    with db.writing() as session:
        cur = bulk.driver(session.connection()).cursor()
        try:
            bulk.sqlite_analyze(cur, "businesses")
        finally:
            cur.close()
