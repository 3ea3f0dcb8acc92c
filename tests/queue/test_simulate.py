"""`outreach simulate`: campaign days replayed on a simulated clock through the real services,
on SQLite and PostgreSQL. Asserts what the replay did, never how fast (that is scripts/bench.py)."""

from __future__ import annotations

import json
from datetime import UTC, date
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import func, select

from outreach.cli import cli
from outreach.db.engine import Database
from outreach.db.models import Agent, Call, CallTask
from outreach.services.simulate import simulate, slots, working_days
from tests.factories import make_campaign, make_queue
from tests.queue.test_concurrency import attempts_drift

MONDAY = date(2026, 11, 30)


def test_the_calendar_is_weekdays_and_eight_hours() -> None:
    days = working_days(date(2026, 12, 4), 3)  # a Friday
    assert days == [date(2026, 12, 4), date(2026, 12, 7), date(2026, 12, 8)]
    day = slots(MONDAY, 30)
    assert len(day) == 16  # 8 hours of 30-minute calls
    paris = [s.astimezone(ZoneInfo("Europe/Paris")) for s in day]
    assert paris[0].hour == 10 and paris[-1].hour == 18 and paris[-1].minute == 30
    assert all(not (13 <= p.hour < 14) for p in paris)


def test_days_replayed_through_the_services(db: Database) -> None:
    camp = make_campaign(db, retry_delays=[60, 1440], max_attempts=6)
    make_queue(db, camp, 40, department="75")
    summary = simulate(db, 3, 2, chamber="IDF", call_minutes=30, start=MONDAY, seed=7)
    assert [d["date"] for d in summary["by_day"]] == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert all(d["claims"] == 2 * 16 for d in summary["by_day"])
    with db.reading() as s:
        agents = s.scalars(select(Agent.id).where(Agent.login.like("simu-%"))).all()
        calls = s.execute(
            select(Call.started_at, Call.task_id).where(Call.agent_id.in_(agents))
        ).all()
        tried_again = s.execute(
            select(func.count()).select_from(CallTask).where(CallTask.attempts >= 2)
        ).scalar_one()
    assert len(agents) == 2 and len(calls) == summary["calls"] > 0
    assert attempts_drift(db) == 0  # every call applied once to its task
    # every call on the simulated clock: a working day, inside the agents' hours in Paris
    for started, _task in calls:
        local = started.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
        assert local.date() in {MONDAY, date(2026, 12, 1), date(2026, 12, 2)}
        assert 10 <= local.hour < 13 or 14 <= local.hour < 19
    # unanswered calls waited, came due and were called again on a later day
    assert tried_again > 0
    assert summary["first_day"]["day"] == 1 and summary["last_day"]["day"] == 3


def test_simulate_command(db: Database, db_url: str) -> None:
    camp = make_campaign(db, name="Campagne simulée")
    make_queue(db, camp, 10, department="75")
    runner = CliRunner()
    out = runner.invoke(
        cli,
        [
            "--db",
            db_url,
            "simulate",
            "--days",
            "1",
            "--agents",
            "1",
            "--call-minutes",
            "60",
            "--campaign",
            "Campagne simulée",
        ],
    )
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert summary["calls"] == 8 and summary["campaign"] == "Campagne simulée"
    assert "jour 1" in out.stderr
    bad = runner.invoke(cli, ["--db", db_url, "simulate", "--chamber", "XYZ"])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "chambre inconnue : « XYZ »" in bad.output
