#!/usr/bin/env python
"""Client CPU of one claim + record on PostgreSQL: the project's services against the bare floor.

    python -m bench.claim_record_cpu URL [--calls N] [--outcome CODE] [--profile FILE]

URL is a PostgreSQL database seeded with the national profile. In one process, agent
idf.agent1 claims and records N calls (default 200) on the live campaign with the project's
services (`claim_next`, `record_call`) and N with the bare floor (`PgFloor`), in blocks of 20
that alternate, after a warm-up of each; every call "no answer" (or --outcome) with a script
answer. Printed: `time.process_time()` per claim and per record (this process's CPU, which moves
little with the machine's load), and the wall time. --profile writes a cProfile of the project's
side (open it with `python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import cProfile
import sys
import time
import uuid
from datetime import timedelta

from bench.bare import BareAgent
from bench.calls import call_on
from bench.roundtrips import _ids
from outreach.db.engine import open_database
from outreach.services.clock import utcnow
from outreach.services.queue import claim_next, record_call

BLOCK = 20


def _add(acc: list[float] | None, cpu: tuple[float, ...], wall: tuple[float, ...]) -> None:
    """Add one claim + record's CPU and wall times (marks before and after each) to `acc`:
    claim CPU, record CPU, claim wall, record wall, count."""
    if acc is not None:
        acc[0] += cpu[1] - cpu[0]
        acc[1] += cpu[3] - cpu[2]
        acc[2] += wall[1] - wall[0]
        acc[3] += wall[3] - wall[2]
        acc[4] += 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("url")
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--outcome", default="no_answer")
    p.add_argument("--profile", help="write a cProfile of the project's side here")
    args = p.parse_args(argv)
    agent_id, campaign_id, chamber_id = _ids(args.url)
    db = open_database(args.url, pool_size=1, max_overflow=2)
    bare = BareAgent(args.url, agent_id, campaign_id, chamber_id)
    code = args.outcome
    prof = cProfile.Profile(time.process_time) if args.profile else None
    # [cpu claim, cpu record, wall claim, wall record, calls]
    sums = {"project": [0.0, 0.0, 0.0, 0.0, 0], "bare": [0.0, 0.0, 0.0, 0.0, 0]}

    def project(acc: list[float] | None) -> None:
        c0, w0 = time.process_time(), time.perf_counter()
        if prof and acc:
            prof.enable()
        task = claim_next(db, agent_id, campaign_id)
        if prof and acc:
            prof.disable()
        c1, w1 = time.process_time(), time.perf_counter()
        assert task is not None, "nothing to claim"
        call = call_on(task, agent_id, code, answers={"vente_en_ligne": "oui"})
        c2, w2 = time.process_time(), time.perf_counter()
        if prof and acc:
            prof.enable()
        record_call(db, call)
        if prof and acc:
            prof.disable()
        c3, w3 = time.process_time(), time.perf_counter()
        _add(acc, (c0, c1, c2, c3), (w0, w1, w2, w3))

    def floor(acc: list[float] | None) -> None:
        c0, w0 = time.process_time(), time.perf_counter()
        got = bare.claim(utcnow())
        c1, w1 = time.process_time(), time.perf_counter()
        assert got is not None, "nothing to claim"
        now = utcnow()
        started = now - timedelta(seconds=30)
        c2, w2 = time.process_time(), time.perf_counter()
        bare.record(
            str(uuid.uuid4()), got[0], got[1], code, started, now, answers={"vente_en_ligne": "oui"}
        )
        c3, w3 = time.process_time(), time.perf_counter()
        _add(acc, (c0, c1, c2, c3), (w0, w1, w2, w3))

    for _ in range(BLOCK):  # warm-up: compiled statements, prepared statements, caches
        project(None)
        floor(None)
    done = 0
    while done < args.calls:
        n = min(BLOCK, args.calls - done)
        for _ in range(n):
            project(sums["project"])
        for _ in range(n):
            floor(sums["bare"])
        done += n
    bare.close()
    db.dispose()
    print(f"per call, mean over {args.calls} calls each ({code}, one script answer)")
    print(f"{'side':8} {'claim CPU':>10} {'record CPU':>11} {'claim wall':>11} {'record wall':>12}")
    for side, (cc, rc, cw, rw, n) in sums.items():
        print(
            f"{side:8} {1000 * cc / n:8.2f}ms {1000 * rc / n:9.2f}ms"
            f" {1000 * cw / n:9.2f}ms {1000 * rw / n:10.2f}ms"
        )
    if prof:
        prof.dump_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
