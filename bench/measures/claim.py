"""`claim_record` (the load test, project and bare twin alternating in slices; on PostgreSQL
also the round trips of a claim and a record) and `claim_latency`.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from sqlalchemy import text

from bench.calls import call_on
from bench.context import AGENT, LIVE_CAMPAIGN, Bench, log, pct, warm_cache
from bench.report import Row
from outreach.db.engine import Database
from outreach.services.agents import get_agent
from outreach.services.queue import claim_next, record_call


def compare_sides(
    calls_by_side: dict[str, int], seconds: float, slice_seconds: float
) -> dict[str, dict[str, Any]]:
    """Calls per second of each side of a load test alternating project and bare in slices
    (the project's first): each side's calls over the time its slices lasted."""
    spent = {"project": 0.0, "bare": 0.0}
    k = 0
    while k * slice_seconds < seconds:
        spent["project" if k % 2 == 0 else "bare"] += min(
            slice_seconds, seconds - k * slice_seconds
        )
        k += 1
    out: dict[str, dict[str, Any]] = {}
    for side, took in spent.items():
        calls = calls_by_side.get(side, 0)
        rate = calls / took if took else 0.0
        out[side] = {"calls": calls, "seconds": took, "calls_per_second": round(rate, 1)}
    return out


def measure_claim_record(bench: Bench) -> None:
    from bench.bare import BareSide
    from outreach.services.loadtest import ProjectSide, run_loadtest

    counts = (
        [int(x) for x in bench.args.agents.split(",")]
        if bench.args.agents
        else ([1, 8] if bench.sqlite else [1, 32])
    )
    limit = 0.5 if bench.sqlite else 0.8
    seconds = bench.args.seconds
    # one "compare" run per agent count: every agent process alternates between the project's
    # services and the bare twin in 1-second slices, so both sides see the same machine load
    # (two separate runs on a shared machine measured the neighbours as much as the code)
    slice_seconds = 1.0 if seconds >= 2 else seconds / 2
    if not bench.sqlite:
        measure_round_trips(bench)
    for n in counts:
        log(f"loadtest {n} agent(s), project and bare alternating, {2 * seconds:g} s")
        summary = run_loadtest(
            bench.url,
            n,
            2 * seconds,
            campaign=LIVE_CAMPAIGN,
            sides=(ProjectSide, BareSide),
            slice_seconds=slice_seconds,
        )
        shutil.rmtree(summary.get("logs", ""), ignore_errors=True)
        sides = compare_sides(summary["calls_by_side"], 2 * seconds, slice_seconds)
        bench.add(
            Row(
                f"claim_record_{n}",
                "calls/s",
                float(sides["project"]["calls_per_second"]),
                float(sides["bare"]["calls_per_second"]),
                f">= {limit}x bare",
                "min_ratio",
                limit,
                {
                    "agents": n,
                    "seconds": 2 * seconds,
                    "slice_seconds": slice_seconds,
                    "ok": summary["ok"],
                    "project_calls": sides["project"]["calls"],
                    "bare_calls": sides["bare"]["calls"],
                    "errors": summary["errors"],
                    "error_samples": summary["error_samples"][:2],
                },
            )
        )


def measure_round_trips(bench: Bench) -> None:
    """PostgreSQL: round trips of a claim and of a record, the project's services against the
    bare floor, counted by a TCP proxy (bench/roundtrips.py; every outcome in turn)."""
    from bench.roundtrips import measure

    got = measure(bench.url, 27)
    for step in ("claim", "record"):
        bench.add(
            Row(
                f"{step}_round_trips",
                "round trips",
                float(got["project"][step][0]),
                float(got["bare"][step][0]),
                "<= bare floor",
                "max_ratio",
                1.0,
                {
                    "project_messages": got["project"][step][1],
                    "bare_messages": got["bare"][step][1],
                    **(
                        {"project_by_outcome": got["project"]["by_outcome"]}
                        if step == "record"
                        else {}
                    ),
                },
            )
        )


def _record_no_answer(db: Database, agent_id: int, task: Any) -> None:
    record_call(db, call_on(task, agent_id, "no_answer"))


def work_calls(db: Database, agent_id: int, campaign_id: int, n: int) -> list[float]:
    """Claim and record `n` calls as the agent; the claim times (ms)."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        task = claim_next(db, agent_id, campaign_id)
        times.append((time.perf_counter() - t0) * 1000)
        if task is None:
            break
        _record_no_answer(db, agent_id, task)
    return times


def measure_claim_latency(bench: Bench) -> None:
    campaign_id = bench.live_campaign_id()
    with bench.db.reading() as s:
        queued = s.execute(
            text("SELECT count(*) FROM call_tasks WHERE campaign_id = :c AND state = 'queued'"),
            {"c": campaign_id},
        ).scalar_one()
    agent = get_agent(bench.db, AGENT)
    n = 300 if bench.scale >= 0.05 else 40
    warmed = warm_cache(bench)
    work_calls(bench.db, agent.id, campaign_id, 5)  # warm caches and connections
    times = work_calls(bench.db, agent.id, campaign_id, n)
    bench.add(
        Row(
            "claim_latency_p99",
            "ms",
            pct(times, 0.99),
            None,
            # the issue sets this target on SQLite; PostgreSQL's figure is shown without one
            "p99 < 5 ms" if bench.sqlite else "(p99 < 5 ms on SQLite)",
            "max" if bench.sqlite else "info",
            5.0,
            {
                "p50_ms": pct(times, 0.5),
                "claims": len(times),
                "tasks_queued": int(queued),
                "cache_warmed_s": round(warmed, 1),
            },
        )
    )
