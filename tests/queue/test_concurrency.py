"""Many agent processes on one database: no task held by two agents, no call lost.

The load test's own invariant checks run on the database after real processes (multiprocessing
spawn) claimed and recorded concurrently: every call an agent was told was saved is stored
exactly once, no stored call is unreported, no two holds of a task overlap, no agent holds two.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bench.bare import BareSide
from outreach.db.engine import Database
from outreach.db.models import Call, CallTask
from outreach.services.loadtest import ProjectSide, run_loadtest


def _url(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


def attempts_drift(db: Database) -> int:
    """Tasks whose attempts differ from their calls (a call applied twice, or lost): 0."""
    with db.reading() as s:
        return int(
            s.execute(
                select(func.count())
                .select_from(CallTask)
                .where(
                    CallTask.attempts
                    != select(func.count())
                    .where(Call.task_id == CallTask.id)
                    .correlate(CallTask)
                    .scalar_subquery()
                )
            ).scalar_one()
        )


def _check(db: Database, summary: dict, agents: int) -> None:
    assert summary["agents_reporting"] == agents, summary
    assert summary["errors"] == 0, summary["error_samples"]
    assert summary["double_claims"] == 0
    inv = summary["invariants"]
    assert inv["reported_calls_missing_or_duplicated"] == 0
    assert inv["stored_calls_not_reported"] == 0
    assert inv["agents_holding_two_tasks"] == 0
    assert summary["ok"]
    assert summary["calls_recorded"] >= agents  # every agent got work done
    with db.reading() as s:
        stored = s.execute(select(func.count()).select_from(Call)).scalar_one()
    assert stored == summary["calls_recorded"]
    assert attempts_drift(db) == 0


@pytest.mark.slow
def test_eight_processes_on_sqlite(sqlite_db: Database) -> None:
    summary = run_loadtest(_url(sqlite_db), agents=8, seconds=4)
    _check(sqlite_db, summary, 8)


@pytest.mark.slow
@pytest.mark.postgresql
def test_thirty_two_processes_on_postgresql(pg_db: Database) -> None:
    summary = run_loadtest(_url(pg_db), agents=32, seconds=5)
    _check(pg_db, summary, 32)


@pytest.mark.slow
def test_the_bare_twin_alternates_with_the_project_under_the_same_invariants(
    sqlite_db: Database,
) -> None:
    """The benchmark's side (bench.bare) taken in turn with the project's by the same agents."""
    summary = run_loadtest(
        _url(sqlite_db), agents=4, seconds=4, sides=(ProjectSide, BareSide), slice_seconds=1
    )
    _check(sqlite_db, summary, 4)
    sides = summary["calls_by_side"]
    assert sides["project"] > 0 and sides["bare"] > 0
    assert sides["project"] + sides["bare"] == summary["calls_recorded"]
