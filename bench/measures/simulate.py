"""`simulate`: claims after --days simulated working days (last: it adds calls)."""

from __future__ import annotations

from bench.context import LIVE_CAMPAIGN, Bench, log, warm_cache
from bench.report import Row


def measure_simulate(bench: Bench) -> None:
    """`outreach simulate`: IDF agents (20 x scale, at least 2) work the live campaign for
    --days working days on a simulated clock; claim p50/p99 of the last day against the
    first. Runs last: it adds calls to the database."""
    from outreach.services.simulate import simulate

    agents = max(2, round(20 * bench.scale))
    days = int(bench.args.days)
    warmed = warm_cache(bench)
    log(f"simulate {days} day(s), {agents} agents of IDF on the live campaign")
    summary = simulate(
        bench.db,
        days,
        agents,
        chamber="IDF",
        campaign=LIVE_CAMPAIGN,
        progress=lambda d: log(
            f"  day {d.day}: {d.calls} calls, claim p50 {d.claim_p50_ms:.2f} ms, "
            f"p99 {d.claim_p99_ms:.2f} ms, {d.waiting_at_end} waiting"
        ),
    )
    first, last = summary["first_day"], summary["last_day"]
    detail = {
        "agents": agents,
        "days": days,
        "calls": summary["calls"],
        "seconds": summary["seconds"],
        "waiting_after_last_day": last["waiting_at_end"],
        "queued_after_last_day": last["queued_at_end"],
        "cache_warmed_s": round(warmed, 1),
    }
    bench.add(
        Row(
            "simulated_claim_p50",
            "ms",
            float(last["claim_p50_ms"]),
            float(first["claim_p50_ms"]),
            f"day {days} <= 1.5x day 1",
            "max_ratio",
            1.5,
            detail,
        )
    )
    limit = 5.0 if bench.sqlite else 10.0
    bench.add(
        Row(
            "simulated_claim_p99",
            "ms",
            float(last["claim_p99_ms"]),
            float(first["claim_p99_ms"]),
            f"day {days} p99 < {limit:g} ms",
            "max",
            limit,
            {"reference": "day 1"},
        )
    )
