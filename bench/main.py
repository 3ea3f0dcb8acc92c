"""Benchmarks at national scale (issue 6): every hot path next to its bare floor, in one run.

    python scripts/bench.py [--scale F] [--db sqlite|postgresql] [--only NAME[,NAME]]
                            [--json PATH] [--keep] [--agents N,M] [--seconds S]

Seeds the national profile at --scale (default 1.0) into a fresh database (a SQLite file in a
temporary directory, or a throwaway PostgreSQL database on 127.0.0.1 dropped at the end), then
runs each measure next to its bare reference in the same process/session, so the ratio holds on
a noisy machine. The project's side always goes through the project's own services or CLI; the
reference is the plain driver (or tool) doing the same work. Prints a table (measure, project,
reference, ratio, target, pass/fail) and writes the JSON with --json.

Measures (names for --only): seed, claim_record, claim_latency, rollup, dashboard, board,
export, import, search, tui_keys, tui_start (which also gives tui_memory), simulate (claims
after --days simulated working days, last; it adds calls).
`--scale 0.002` is the CI smoke test (tests/test_bench_smoke.py): it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.context import Bench, Target, log
from bench.measures.claim import measure_claim_latency, measure_claim_record
from bench.measures.export import measure_export
from bench.measures.feeds import measure_board, measure_dashboard, measure_rollup
from bench.measures.importing import measure_import
from bench.measures.search import measure_search
from bench.measures.seed import measure_seed, seed_project
from bench.measures.simulate import measure_simulate
from bench.measures.tui import measure_tui_keys, measure_tui_paste, measure_tui_start
from bench.report import machine, markdown, print_table
from outreach.db.engine import open_database

GROUPS = (
    "seed",
    "claim_record",
    "claim_latency",
    "rollup",
    "dashboard",
    "board",
    "export",
    "import",
    "search",
    "tui_keys",
    "tui_paste",
    "tui_start",
    "simulate",
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--only", help="comma-separated measures: " + ",".join(GROUPS))
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--md", type=Path, help="also write the results as a Markdown section here")
    p.add_argument(
        "--url",
        help="measure this database (seeded with the national profile at --scale) instead of "
        "seeding a fresh one; it is kept, with the calls and businesses the run adds",
    )
    p.add_argument("--keep", action="store_true", help="keep the database (prints where)")
    p.add_argument("--agents", help="loadtest agent counts, e.g. 1,8 (default 1,8 / 1,32 on PG)")
    p.add_argument("--seconds", type=float, help="loadtest seconds per run (default by scale)")
    p.add_argument("--days", type=int, default=20, help="simulated working days (default 20)")
    args = p.parse_args(argv)
    only = set(GROUPS) if not args.only else {x.strip() for x in args.only.split(",")}
    unknown = only - set(GROUPS)
    if unknown:
        p.error(f"unknown measure(s): {', '.join(sorted(unknown))} (known: {', '.join(GROUPS)})")
    if args.seconds is None:
        args.seconds = 1.0 if args.scale < 0.05 else 10.0
    if args.url:
        args.db = "sqlite" if make_url(args.url).get_backend_name() == "sqlite" else "postgresql"
    workdir = Path(tempfile.mkdtemp(prefix="outreach-bench-"))
    target = Target(args.db, workdir)
    if args.url:  # an existing seeded database: no seeding, kept (and changed) afterwards
        url = args.url
        args.keep = True
        only.discard("seed")
    else:
        url = target.new("main")
    started = time.time()
    load_start = os.getloadavg()
    log(f"bench: {args.db}, scale {args.scale:g}, work in {workdir}")
    bench = None
    try:
        project_seed = 0.0
        if not args.url:
            # (the project's seed opens no database of its own: no Database to give)
            project_seed = seed_project(Bench(args, target, url, None, workdir))  # type: ignore[arg-type]
            log(f"seeded in {project_seed:.1f} s")
        db = open_database(url)
        bench = Bench(args, target, url, db, workdir)
        steps: list[tuple[str, Callable[[], None]]] = [
            ("seed", lambda: measure_seed(bench, project_seed)),
            ("search", lambda: measure_search(bench)),
            ("claim_latency", lambda: measure_claim_latency(bench)),
            ("rollup", lambda: measure_rollup(bench)),
            ("dashboard", lambda: measure_dashboard(bench)),
            ("board", lambda: measure_board(bench)),
            ("export", lambda: measure_export(bench)),
            ("tui_keys", lambda: measure_tui_keys(bench)),
            ("tui_paste", lambda: measure_tui_paste(bench)),
            ("tui_start", lambda: measure_tui_start(bench)),
            ("claim_record", lambda: measure_claim_record(bench)),
            ("import", lambda: measure_import(bench)),
            ("simulate", lambda: measure_simulate(bench)),
        ]
        errors: dict[str, str] = {}
        for name, step in steps:
            if name in only:
                log(f"measure {name}")
                try:
                    step()
                except Exception as exc:  # noqa: BLE001 - one broken measure keeps the others
                    errors[name] = f"{type(exc).__name__}: {exc}"[:2000]
                    log(f"measure {name} FAILED: {errors[name]}")
        print_table(bench.rows)
        if args.json or args.md:
            report = {
                "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
                "backend": args.db,
                "scale": args.scale,
                "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
                "seconds": round(time.time() - started, 1),
                "machine": {
                    **machine(db, args.db),
                    "loadavg_start": load_start,
                    "loadavg_end": os.getloadavg(),
                },
                "measures": {r.name: r.as_json() for r in bench.rows},
                "errors": errors,
            }
            if args.json:
                args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
            if args.md:
                args.md.write_text(markdown(report))
        failed = [r.name for r in bench.rows if r.passed is False]
        log(f"done in {time.time() - started:.0f} s; missed targets: {', '.join(failed) or 'none'}")
        if errors:
            log(f"measures that could not run: {', '.join(errors)}")
        return 1 if errors else 0
    finally:
        if bench is not None:
            bench.db.dispose()
        if args.keep:
            log(f"kept: {url}")
        else:
            target.drop_all()
        if not args.keep or args.url:  # with --url the work directory holds only temporary files
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
