"""Load and chaos tests on any database: a seeded or imported one already holds SIRETs, and the
load test's own businesses must never collide with them; a failure is one clear message."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select

from outreach.cli import cli
from outreach.db.engine import Database
from outreach.db.models import Business, CallTask, Chamber
from outreach.services.chaos import run_chaos
from outreach.services.loadtest import _top_up, ensure_campaign, load_siret


def _seed_demo(url: str) -> None:
    out = CliRunner().invoke(cli, ["--db", url, "seed", "--profile", "demo", "--random-seed", "3"])
    assert out.exit_code == 0, out.output


def test_load_businesses_skip_sirets_already_taken(db: Database) -> None:
    """The SIRETs the load test would make first are already someone's: they are skipped."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with db.writing() as s:
        chamber = s.execute(select(Chamber.id).where(Chamber.code == "BRE")).scalar_one()
        for k in (0, 2):
            siren, siret = load_siret(k)
            s.execute(
                insert(Business).values(
                    siret=siret,
                    siren=siren,
                    name=f"Boulangerie importée {k}",
                    name_key=f"boulangerie importee {k}",
                    department="35",
                    chamber_id=chamber,
                    created_at=now,
                    updated_at=now,
                )
            )
    campaign = ensure_campaign(db)
    assert _top_up(db, campaign, 10) == 10
    with db.reading() as s:
        queued = s.execute(
            select(Business.name, Business.siret)
            .join(CallTask, CallTask.business_id == Business.id)
            .where(CallTask.campaign_id == campaign)
        ).all()
        total = s.execute(select(func.count()).select_from(Business)).scalar_one()
    assert len(queued) == 10 and total == 12
    assert all(name.startswith("Test de charge ") for name, _siret in queued)
    assert {load_siret(0)[1], load_siret(2)[1]}.isdisjoint(siret for _n, siret in queued)
    # a second top-up goes on after the businesses it made, with no collision either
    assert _top_up(db, campaign, 15) == 5


@pytest.mark.slow
def test_loadtest_and_chaos_on_a_seeded_database(db: Database, db_url: str) -> None:
    """As a new user tries it: `seed --profile demo --random-seed 3`, then the load test and
    the chaos run (without the server restart, which has its own test on a private server)."""
    _seed_demo(db_url)
    out = CliRunner().invoke(cli, ["--db", db_url, "loadtest", "--agents", "2", "--seconds", "2"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    assert summary["ok"] is True and summary["errors"] == 0, summary
    assert summary["calls_recorded"] > 0 and summary["tasks_prepared"] > 0
    chaos = run_chaos(db_url, 2, 3, restart=False)
    assert chaos["ok"] is True and chaos["errors"] == 0, chaos
    assert chaos["lost_calls"] == 0 and chaos["double_claims"] == 0


def test_a_database_refusing_the_load_test_gets_a_clear_message(sqlite_db: Database) -> None:
    """A database that refuses the load test's businesses (here a trigger): one line naming
    the reason, exit code 1, no traceback."""
    con = sqlite3.connect(str(sqlite_db.url.database))
    con.execute(
        "CREATE TRIGGER no_new_business BEFORE INSERT ON businesses "
        "BEGIN SELECT RAISE(ABORT, 'businesses are read-only here'); END"
    )
    con.commit()
    con.close()
    url = sqlite_db.url.render_as_string(hide_password=False)
    for extra in ([], ["--chaos"]):
        out = CliRunner().invoke(
            cli, ["--db", url, "loadtest", "--agents", "2", "--seconds", "3", *extra]
        )
        assert out.exit_code == 1, out.output
        assert isinstance(out.exception, SystemExit) and "Traceback" not in out.output
        assert "le test de charge n'a pas pu préparer la base" in out.output
        assert "businesses are read-only here" in out.output
