"""Faults under load: agents killed mid-call (SQLite and PostgreSQL) and, in one slow test, the
PostgreSQL server restarted under them. Nothing reported saved is lost, nothing held twice,
killed agents' tasks come back after their lease, survivors reconnect by themselves."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
from click.testing import CliRunner

from outreach.cli import cli
from outreach.db import migrate
from outreach.db.engine import Database, open_database
from outreach.services.chaos import ENV_RESTART, _double_claims, run_chaos
from tests.dbutil import require_pg
from tests.pgcluster import private_cluster


def _check(summary: dict[str, Any], agents: int) -> None:
    assert summary["kills"] == max(1, round(agents / 4)), summary
    assert summary["calls"] > 0
    assert summary["lost_calls"] == 0, summary
    assert summary["double_claims"] == 0, summary
    assert summary["invariants"]["reported_calls_missing_or_duplicated"] == 0
    assert summary["invariants"]["agents_holding_two_tasks"] == 0
    # every task a killed agent held: refused to others while leased, claimable after
    assert summary["recovered_tasks"] == summary["killed_agents_tasks"] >= summary["kills_mid_call"]
    assert summary["kills_mid_call"] >= 1
    assert summary["outbox_pending"] == 0
    assert summary["errors"] == 0, summary["error_samples"]
    assert summary["ok"] is True


def test_double_claims_are_seen() -> None:
    """The measure itself: a second claim inside a dead holder's lease is a double claim."""
    claims = [
        {"task": 1, "agent": 10, "at": 0.0, "lease": 60.0},  # killed: no call, held to 60
        {"task": 1, "agent": 11, "at": 30.0, "lease": 90.0},
        {"task": 2, "agent": 10, "at": 0.0, "lease": 60.0},
        {"task": 2, "agent": 11, "at": 61.0, "lease": 121.0},  # after the lease: fine
        {"task": 3, "agent": 12, "at": 0.0, "lease": 60.0},
        {"task": 3, "agent": 13, "at": 5.0, "lease": 65.0},  # after 12 recorded at 2.0: fine
    ]
    calls = [
        {"task": 1, "agent": 11, "from": 30.0, "to": 31.0},
        {"task": 2, "agent": 11, "from": 61.0, "to": 62.0},
        {"task": 3, "agent": 12, "from": 0.0, "to": 2.0},
        {"task": 3, "agent": 13, "from": 5.0, "to": 6.0},
    ]
    assert _double_claims(claims, calls) == 1


@pytest.mark.slow
def test_chaos_kills_on_both_backends(db: Database, db_url: str) -> None:
    summary = run_chaos(db_url, 4, 5, restart=False)
    _check(summary, 4)
    assert summary["server_restarts"] == 0


@pytest.mark.slow
@pytest.mark.postgresql
def test_chaos_cli_with_a_postgresql_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Agents killed and the server restarted under the survivors. The server is a private
    cluster: restarting the shared one would break the other workers' PostgreSQL tests."""
    require_pg()
    with private_cluster() as (url, restart):
        monkeypatch.setenv(ENV_RESTART, shlex.join(restart))
        db = open_database(url)
        migrate.upgrade(db)
        db.dispose()
        # a seeded database, as a new user tries it: the load test's SIRETs must not collide
        seeded = CliRunner().invoke(
            cli, ["--db", url, "seed", "--profile", "demo", "--random-seed", "3"]
        )
        assert seeded.exit_code == 0, seeded.output
        out = CliRunner().invoke(
            cli, ["--db", url, "loadtest", "--agents", "8", "--seconds", "12", "--chaos"]
        )
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    _check(summary, 8)
    assert summary["server_restarts"] == 1 and summary["server_restart_error"] is None
    assert summary["survivors_reconnected"] == summary["survivors"] == 6
    assert summary["unreachable_errors"] > 0  # the restart was felt, and survived
