"""`export`: the calls export through the CLI, next to the same query on the plain driver."""

from __future__ import annotations

import csv

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.context import SUPERVISOR, Bench, cli_env, outreach_cmd, run_child
from bench.report import Row


def bare_calls_query(url: str, keys: list[str], sqlite: bool) -> str:
    """The export's joined query in plain SQL: calls with business, agent, chamber, campaign,
    lockdown, referral kinds and one column per script answer, in call order."""
    agg = "group_concat(r.kind, ',')" if sqlite else "string_agg(r.kind, ',' ORDER BY r.id)"
    answers = "".join(
        f", (SELECT a.answer FROM call_answers a WHERE a.call_id = c.id AND a.question = "
        f"'{k.replace(chr(39), chr(39) * 2)}' LIMIT 1)"
        for k in keys
    )
    return (
        "SELECT c.uuid, c.started_at, c.ended_at, ag.login, ch.code, cp.name, l.name, b.siret, "
        "b.name, b.department, coalesce(c.phone, b.phone), c.outcome, "
        f"(SELECT {agg} FROM referrals r WHERE r.call_id = c.id), c.notes{answers} "
        "FROM calls c JOIN businesses b ON b.id = c.business_id "
        "LEFT JOIN agents ag ON ag.id = c.agent_id LEFT JOIN chambers ch ON ch.id = c.chamber_id "
        "LEFT JOIN campaigns cp ON cp.id = c.campaign_id "
        "LEFT JOIN lockdowns l ON l.id = cp.lockdown_id ORDER BY c.id"
    )


def measure_export(bench: Bench) -> None:
    out = bench.workdir / "calls.csv"
    env = cli_env(bench.url, OUTREACH_AS=SUPERVISOR)
    seconds, rss_kb, _err = run_child(outreach_cmd("export", "calls", "--out", str(out)), env)
    with out.open(encoding="utf-8-sig") as f:
        header = next(csv.reader(f, delimiter=";"))
    keys = [h.removeprefix("answer_") for h in header[14:]]
    size = out.stat().st_size
    out.unlink()
    query = bare_calls_query(bench.url, keys, bench.sqlite)
    bare_out = bench.workdir / "calls-bare.csv"
    if bench.sqlite:
        cmd = ["sqlite3", "-csv", "-header", make_url(bench.url).database or "", query]
    else:
        u = make_url(bench.url)
        cmd = [
            "psql",
            "-X",
            "-q",
            "-h",
            u.host or "127.0.0.1",
            "-p",
            str(u.port or 5432),
            "-U",
            u.username or "postgres",
            "-d",
            u.database or "",
            "-c",
            f"\\copy ({query}) TO STDOUT WITH (FORMAT csv, HEADER)",
        ]
    with bare_out.open("wb") as sink:
        bare_seconds, bare_rss, _ = run_child(cmd, None, stdout=sink)
    bare_size = bare_out.stat().st_size
    bare_out.unlink()
    with bench.db.reading() as s:
        calls = s.execute(text("SELECT count(*) FROM calls")).scalar_one()
    bench.add(
        Row(
            "export_calls",
            "s",
            seconds,
            bare_seconds,
            "<= 2x bare",
            "max_ratio",
            2.0,
            {"calls": int(calls), "bytes": size, "reference_bytes": bare_size},
        )
    )
    bench.add(
        Row(
            "export_memory",
            "MB",
            rss_kb / 1024,
            bare_rss / 1024,
            "< 150 MB",
            "max",
            150.0,
            {"measured": "peak RSS (VmHWM) of the `outreach export calls` process"},
        )
    )
