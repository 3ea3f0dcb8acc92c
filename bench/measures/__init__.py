"""The measures of `scripts/bench.py`, a module per area; each `measure_*` adds its rows to the
run (`bench.context.Bench`), the project's side next to its bare reference."""

from __future__ import annotations
