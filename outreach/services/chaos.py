"""The chaos run (`outreach loadtest --chaos`): simulated agents work while a quarter of them are
killed with SIGKILL in the middle of a call and, on PostgreSQL, the server is restarted once.

Each agent is the load test's simulated agent (`loadtest.agent_process`), working like the app
does: claim, call, then record through the outbox (`record_or_keep`: a call the database cannot
take now is kept on disk and replayed with the same uuid). It logs every claim (task, lease) and
every call it was told was saved. Afterwards,
from the logs and the database:
- lost calls: calls an agent was told were saved that are not in `calls` exactly once (after the
  outboxes, the killed agents' too, are replayed as their app would on restart): must be 0;
- double claims: one task held by two agents at once (claim to record, or to lease expiry when
  the holder died): must be 0;
- recovered tasks: every task a killed agent held is refused to others while its lease runs and
  claimable once it has expired (a short 1-minute lease campaign is used);
- survivors reconnect by themselves: each survivor saves calls after the server came back.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import shlex
import signal
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from outreach.db.engine import Database, open_database
from outreach.db.models import CallTask
from outreach.errors import Forbidden, InvalidInput, OutreachError
from outreach.i18n import _
from outreach.services.clock import from_db, utcnow
from outreach.services.loadtest import (
    IN_CALL,
    LOAD_CHAMBER,
    Plan,
    _ensure_agents,
    _overlaps,
    _top_up,
    agent_process,
    collect_reports,
    ensure_campaign,
    preparing,
    question_of,
    read_logs,
    start_agents,
    tally,
    verify,
)

CHAOS_CAMPAIGN = "Test de charge (chaos)"
LEASE_MINUTES = 1
KILL_FRACTION = 0.25
ENV_RESTART = "OUTREACH_PG_RESTART"  # the command that restarts the server (else pg_ctlcluster)
# the phone call itself lasts this long: a kill "mid-call" lands inside it
CALL_SECONDS = (0.02, 0.08)


def restart_command() -> list[str] | None:
    """The command restarting the local PostgreSQL server, or None when none is known."""
    if os.environ.get(ENV_RESTART):
        return shlex.split(os.environ[ENV_RESTART])
    base = Path("/etc/postgresql")
    versions = sorted(p.name for p in base.iterdir()) if base.is_dir() else []
    if not versions:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"]


def _double_claims(claims: list[dict[str, Any]], calls: list[dict[str, Any]]) -> int:
    """Holds of one task by two agents at once: each claim holds until its call is recorded,
    or (no call: the agent died) until its lease expires."""
    ends = {(c["agent"], c["task"], c["from"]): c["to"] for c in calls}
    holds: dict[int, list[tuple[float, float, int]]] = {}
    for c in claims:
        end = ends.get((c["agent"], c["task"], c["at"]), c["lease"])
        holds.setdefault(c["task"], []).append((c["at"], end, c["agent"]))
    return _overlaps(holds)


def _recover(
    db: Database, campaign_id: int, checker: int, tasks: set[int], killed: set[int]
) -> tuple[int, int]:
    """(recovered, refused while leased) over the tasks the killed agents held: each must be
    refused to another agent while its lease runs and claimable once it has expired."""
    from outreach.services.queue import release_task, take_task

    recovered = guarded = 0
    for task_id in sorted(tasks):
        with db.reading() as s:
            row = s.execute(
                select(CallTask.claimed_by, CallTask.lease_expires_at).where(CallTask.id == task_id)
            ).one()
        if row.claimed_by not in killed:
            recovered += 1  # a survivor already took it over, or it was finished
            continue
        expiry = from_db(row.lease_expires_at)
        assert expiry is not None
        if expiry > datetime.now(UTC):
            try:
                take_task(db, checker, campaign_id, task_id=task_id)
            except Forbidden:
                guarded += 1
            else:
                release_task(db, checker, task_id, "chaos", delay_minutes=0)
                continue  # taken while leased: a double claim, not a recovery
        later = max(expiry, datetime.now(UTC)) + timedelta(seconds=1)
        try:
            take_task(db, checker, campaign_id, task_id=task_id, now=later)
        except OutreachError:
            continue
        release_task(db, checker, task_id, "chaos", delay_minutes=0, now=later)
        recovered += 1
    return recovered, guarded


def run_chaos(
    url: str, agents: int, seconds: float, *, restart: bool | None = None
) -> dict[str, Any]:
    """The chaos run (see the module's docstring); its JSON-ready summary."""
    if agents < 2 or seconds < 3:
        raise InvalidInput(_("--chaos : au moins 2 agents et 3 secondes"))
    db = open_database(url)
    try:
        restart = db.is_postgresql if restart is None else restart
        command = restart_command() if restart else None
        if restart and command is None:
            raise InvalidInput(
                _(
                    "--chaos : commande de redémarrage de PostgreSQL inconnue (variable {env})"
                ).format(env=ENV_RESTART)
            )
        with preparing():
            campaign_id = ensure_campaign(db, CHAOS_CAMPAIGN, LEASE_MINUTES)
            wanted = int(min(max(agents * seconds * 30, 3000), 40000))
            prepared = _top_up(db, campaign_id, wanted)
            agent_ids = _ensure_agents(db, agents, LOAD_CHAMBER)
        since = utcnow()
        log_dir = tempfile.mkdtemp(prefix="outreach-chaos-")
        plan = Plan(
            url,
            campaign_id,
            agent_ids,
            None,
            seconds,
            log_dir,
            question=question_of(db, campaign_id),
            call_seconds=CALL_SECONDS,
            outbox=True,
        )
        ctx = mp.get_context("spawn")
        start, results = ctx.Event(), ctx.Queue()
        state, held = ctx.Array("i", agents, lock=False), ctx.Array("i", agents, lock=False)
        procs = start_agents(
            ctx,
            agents,
            agent_process,
            lambda i, ready: (plan, i, ready, start, results, state, held),
        )
        rng = random.Random(agents * 31 + int(seconds))
        victims = rng.sample(range(agents), max(1, round(agents * KILL_FRACTION)))
        # kills spread over 15%..60% of the run; the restart at 40%
        spread = max(1, len(victims) - 1)
        kill_at = [seconds * (0.15 + 0.45 * k / spread) for k in range(len(victims))]
        schedule = list(zip(kill_at, victims, strict=True))
        restart_at = seconds * 0.4 if command else None
        killed: dict[int, int] = {}  # index -> task held when killed (0: none)
        restart_window: tuple[float, float] | None = None
        restart_error: str | None = None
        t0 = time.monotonic()
        start.set()
        while time.monotonic() - t0 < seconds:
            elapsed = time.monotonic() - t0
            if schedule and elapsed >= schedule[0][0]:
                _when, victim = schedule.pop(0)
                wait_until = time.monotonic() + 2.0
                while state[victim] != IN_CALL and time.monotonic() < wait_until:
                    time.sleep(0.001)
                os.kill(procs[victim].pid, signal.SIGKILL)
                killed[victim] = held[victim] if state[victim] == IN_CALL else 0
                continue
            if command is not None and restart_at is not None and elapsed >= restart_at:
                restart_at = None
                began = time.time()
                done = subprocess.run(command, capture_output=True, text=True, timeout=120)
                if done.returncode != 0:
                    restart_error = (done.stderr or done.stdout).strip()[:300]
                restart_window = (began, time.time())
                continue
            time.sleep(0.01)
        survivors = [i for i in range(agents) if i not in killed]
        reports = collect_reports(results, len(survivors), seconds + 120)
        for p in procs:
            p.join(timeout=30)
        # the killed agents' apps, restarted, replay what their outbox kept
        from outreach.services.outbox import Outbox
        from outreach.services.queue import record_call

        replayed_after = 0
        for victim in killed:
            box = Outbox(Path(log_dir) / f"outbox-{victim:03d}.jsonl")
            if box.path.exists():
                replayed_after += box.replay(
                    lambda c: record_call(db, c), agent_id=agent_ids[victim]
                ).replayed
        claims, calls = read_logs(log_dir)
        checks = verify(db, calls, agent_ids, since)
        double = _double_claims(claims, calls) + checks["overlapping_holds_in_calls"]
        killed_ids = {agent_ids[i] for i in killed}
        killed_tasks = {t for t in killed.values() if t}
        # every task still held by a killed agent, too (a kill between claim and state flag)
        with db.reading() as s:
            killed_tasks |= set(
                s.scalars(
                    select(CallTask.id).where(
                        CallTask.campaign_id == campaign_id,
                        CallTask.claimed_by.in_(killed_ids or {-1}),
                    )
                )
            )
        checker = agent_ids[survivors[0]]
        recovered, guarded = _recover(db, campaign_id, checker, killed_tasks, killed_ids)
        reconnected = None
        if restart_window is not None:
            back = restart_window[1]
            reconnected = len(
                {c["agent"] for c in calls if c["at"] > back and c["agent"] not in killed_ids}
            )
        errors, samples = tally(reports)
        lost = checks["reported_calls_missing_or_duplicated"]
        pending = sum(r.get("pending", 0) for r in reports)
        ok = (
            lost == 0
            and double == 0
            and pending == 0
            and recovered == len(killed_tasks)
            and checks["agents_holding_two_tasks"] == 0
            and len(reports) == len(survivors)
            and restart_error is None
            and (reconnected is None or reconnected == len(survivors))
        )
        return {
            "backend": db.url.get_backend_name(),
            "mode": "chaos",
            "agents": agents,
            "seconds": seconds,
            "campaign": CHAOS_CAMPAIGN,
            "lease_minutes": LEASE_MINUTES,
            "tasks_prepared": prepared,
            "claims": len(claims),
            "calls": len(calls),
            "calls_kept_then_replayed": sum(1 for c in calls if c["kept"]),
            "kills": len(killed),
            "kills_mid_call": sum(1 for t in killed.values() if t),
            "server_restarts": 1 if restart_window else 0,
            "server_restart_seconds": round(restart_window[1] - restart_window[0], 2)
            if restart_window
            else None,
            "server_restart_error": restart_error,
            "lost_calls": lost,
            "double_claims": double,
            "killed_agents_tasks": len(killed_tasks),
            "tasks_refused_while_leased": guarded,
            "recovered_tasks": recovered,
            "survivors": len(survivors),
            "survivors_reconnected": reconnected,
            "calls_replayed_after_restart_of_killed_apps": replayed_after,
            "outbox_pending": pending,
            "unreachable_errors": sum(r.get("unreachable", 0) for r in reports),
            "errors": sum(errors.values()),
            "error_kinds": dict(errors),
            "error_samples": samples[:5],
            "invariants": checks,
            "ok": ok,
            "logs": log_dir,
        }
    finally:
        db.dispose()
