"""The results: one `Row` per measure (project, reference, target, pass), the table printed
at the end, the machine it ran on, and the Markdown section for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from outreach.db.engine import Database


@dataclass
class Row:
    name: str
    unit: str
    project: float | None
    reference: float | None = None
    target: str = ""
    # "max_ratio" (project/reference <= limit), "min_ratio" (>=), "max" (project <= limit),
    # "min" (project >= limit), "info" (no target here)
    rule: str = "max"
    limit: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.project is None or not self.reference:
            return None
        return self.project / self.reference

    @property
    def passed(self) -> bool | None:
        if self.project is None:
            return None
        if self.rule == "max_ratio":
            return self.ratio is not None and self.ratio <= self.limit
        if self.rule == "min_ratio":
            return self.ratio is not None and self.ratio >= self.limit
        if self.rule == "max":
            return self.project <= self.limit
        if self.rule == "info":  # a figure with no target on this backend
            return None
        return self.project >= self.limit

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        out["passed"] = self.passed
        return out


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        text_ = f"{value:,.0f}".replace(",", " ")
    elif abs(value) >= 10:
        text_ = f"{value:.1f}"
    else:
        text_ = f"{value:.2f}"
    return f"{text_} {unit}"


def print_table(rows: list[Row]) -> None:
    head = ("measure", "project", "reference", "ratio", "target", "result")
    lines = [
        (
            r.name,
            fmt(r.project, r.unit),
            fmt(r.reference, r.unit),
            "-" if r.ratio is None else f"{r.ratio:.2f}x",
            r.target,
            {True: "pass", False: "FAIL", None: "n/a"}[r.passed],
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines, strict=True)]
    for line in (head, *lines):
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))


def machine(bench_db: Database | None, backend: str) -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    info = {
        "nproc": os.cpu_count(),
        "memory": mem,
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    if backend == "postgresql" and bench_db is not None:
        with bench_db.reading() as s:
            info["postgresql"] = s.execute(text("SHOW server_version")).scalar_one()
    return info


def markdown(report: dict[str, Any]) -> str:
    """The results of one run as a Markdown section (for docs/BENCHMARKS.md)."""
    m = report["machine"]
    lines = [
        f"### {report['backend']}, scale {report['scale']:g} ({report['started']})",
        "",
        f"Command: `{report['command']}` ({report['seconds']:.0f} s in all)",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory, Python {m['python']}, "
        f"SQLite {m['sqlite']}"
        + (f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else "")
        + f"; load average {m['loadavg_start'][0]:.1f} at the start, "
        f"{m['loadavg_end'][0]:.1f} at the end.",
        "",
        "| measure | project | reference | ratio | target | result | detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["measures"].values():
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        result = {True: "pass", False: "**FAIL**", None: "n/a"}[r["passed"]]
        detail = ", ".join(
            f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in r["detail"].items()
            if not isinstance(v, list | dict) and k not in ("reference", "measured", "cli_stderr")
        )
        lines.append(
            f"| {r['name']} | {fmt(r['project'], r['unit'])} | "
            f"{fmt(r['reference'], r['unit'])} | {ratio} | {r['target']} | {result} | {detail} |"
        )
    for name, error in report.get("errors", {}).items():
        lines.append(f"\nCould not run `{name}`: {error.splitlines()[0][:300]}")
    return "\n".join(lines) + "\n"
