"""The seeding service: plan, generate, write in one transaction, audit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.services.audit import record_audit
from outreach.services.clock import to_db, utcnow
from outreach.services.seeding.followups import seed_followups
from outreach.services.seeding.plan import Plan, plan_for
from outreach.services.seeding.reference import Reference, load_reference
from outreach.services.seeding.rows import SeedRows
from outreach.services.seeding.tables import COUNTED, Batch
from outreach.services.seeding.writer import write_batches

DEFAULT_SEED = 2020
# (done, total, stage) of the counted rows, called after each batch; stage is "rows", then
# "indexes" while the indexes are rebuilt.
ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SeedReport:
    profile: str
    scale: float
    random_seed: int
    counts: dict[str, int]  # rows written per table
    write_seconds: dict[str, float]  # time in the driver per table ("indexes": rebuilds)
    total_seconds: float
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def national_batches(
    ref: Reference, scale: float = 1.0, seed: int = DEFAULT_SEED, now: datetime | None = None
) -> Iterator[Batch]:
    """The national profile's rows, for a bare baseline to write its own way (benchmarks)."""
    return SeedRows(plan_for("national", scale), ref, seed, to_db(now or utcnow())).batches()


def _finish(rows: SeedRows) -> Callable[[Connection], None]:
    def finish(conn: Connection) -> None:
        # an opted-out business's opposition dates from its do_not_call call
        conn.execute(
            text(
                "UPDATE businesses SET do_not_call_at = (SELECT max(c.started_at) FROM calls c "
                "WHERE c.business_id = businesses.id AND c.outcome = 'do_not_call') "
                "WHERE do_not_call AND do_not_call_at IS NULL"
            )
        )
        # the follow-up referrals' lifecycles, verification calls and goals; then every other
        # seeded referral's history starts with its creation event
        seed_followups(conn, rows.plan, rows.seed, rows.now, rows.agent_ids["cmaf.admin"])
        conn.execute(text("UPDATE referrals SET updated_at = created_at WHERE updated_at IS NULL"))
        conn.execute(
            text(
                "INSERT INTO referral_events (referral_id, at, agent_id, from_state, to_state) "
                "SELECT r.id, r.created_at, c.agent_id, NULL, r.status FROM referrals r "
                "JOIN calls c ON c.id = r.call_id WHERE NOT EXISTS (SELECT 1 FROM "
                "referral_events e WHERE e.referral_id = r.id) ORDER BY r.id"
            )
        )
        with Session(bind=conn) as session:
            record_audit(
                session,
                agent_id=None,
                action="seed",
                entity="database",
                entity_id=rows.plan.profile,
                detail={
                    "profile": rows.plan.profile,
                    "scale": rows.plan.scale,
                    "random_seed": rows.seed,
                    "counts": dict(rows.counts),
                },
                at=rows.now,
            )
            session.flush()

    return finish


def seed_plan(
    db: Database,
    plan: Plan,
    seed: int = DEFAULT_SEED,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
) -> SeedReport:
    """Seed `plan` into an empty (migrated) database; InvalidInput if it holds businesses."""
    started = time.perf_counter()
    with db.reading() as session:
        ref = load_reference(session)
    rows = SeedRows(plan, ref, seed, to_db(now or utcnow()))
    total = rows.expected_rows()
    done = 0

    def advance(table: str, count: int) -> None:
        nonlocal done
        if table in COUNTED:
            done += count
        if progress is not None:
            progress(done, total, "indexes" if table == "indexes" else "rows")

    seconds = write_batches(db, rows.batches(), advance, _finish(rows))
    return SeedReport(
        profile=plan.profile,
        scale=plan.scale,
        random_seed=seed,
        counts=dict(rows.counts),
        write_seconds=seconds,
        total_seconds=time.perf_counter() - started,
    )


def seed_profile(
    db: Database,
    profile: str,
    scale: float | None = None,
    seed: int = DEFAULT_SEED,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
) -> SeedReport:
    """Seed `profile` ("demo" or "national" at `scale`); InvalidInput for bad arguments."""
    return seed_plan(db, plan_for(profile, scale), seed, progress, now)


def seed_demo(
    db: Database,
    seed: int = DEFAULT_SEED,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
) -> SeedReport:
    return seed_profile(db, "demo", None, seed, progress, now)


def seed_national(
    db: Database,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
) -> SeedReport:
    return seed_profile(db, "national", scale, seed, progress, now)
