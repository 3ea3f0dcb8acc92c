"""The benchmarks and their tools, beside the product (not in the wheel: pyproject's
`[tool.hatch.build.targets.wheel]` takes `outreach` only).

- `scripts/bench.py`: the entry point (`python scripts/bench.py --help`), the measures in
  `bench.measures`, the table and the JSON in `bench.report`;
- `bench.bare`: the bare twin of a simulated agent's claim + record (hand-written SQL on the raw
  driver; on PostgreSQL the floor, `PgFloor`), the reference the load test is compared with;
- `bench.tui_launch`: the app started as `outreach --agent LOGIN` is, under an auto-pilot that
  times the first business drawn (`python -m bench.tui_launch --agent LOGIN`);
- `bench.roundtrips`: round trips of a claim + record on PostgreSQL, counted by a TCP proxy;
- `bench.claim_record_cpu`: client CPU of a claim + record on PostgreSQL, project against floor.

The product never imports this package (an import-linter contract in pyproject.toml); this
package uses the product's services as any tool would.
"""
