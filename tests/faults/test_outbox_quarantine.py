"""The outbox under hostile or damaged lines: nothing is dropped (bad lines go, byte for byte,
to the quarantine file and are reported), nothing stops the good calls, and a replay sends
only the logged-in agent's entries, never before a login (real files, real app via Pilot)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from outreach.db.engine import Database
from outreach.db.models import Call
from outreach.services.outbox import Outbox, call_to_json
from outreach.services.types import CallInput, RecordResult
from tests.tui.conftest import app_for, build_world, settle

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def a_call(agent_id: int = 1, **kw: object) -> CallInput:
    values: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "agent_id": agent_id,
        "campaign_id": 2,
        "business_id": 3,
        "task_id": 4,
        "outcome": "no_answer",
        "started_at": T0,
        "ended_at": T0,
    }
    values.update(kw)
    return CallInput(**values)


def line(call: CallInput) -> bytes:
    return json.dumps(call_to_json(call), ensure_ascii=False).encode("utf-8")


def ok(call: CallInput) -> RecordResult:
    return RecordResult(1, call.uuid, False, False, "done", None)


def recording(seen: list[CallInput]) -> Callable[[CallInput], RecordResult]:
    """`ok`, keeping in `seen` each call it is given."""

    def record(call: CallInput) -> RecordResult:
        seen.append(call)
        return ok(call)

    return record


def test_the_probes_of_the_issue(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    first, extra_brace, last = a_call(), a_call(), a_call()
    not_utf8 = b'{"uuid": "\xff\xfe caf\xe9"}'
    braced = line(extra_brace) + b"}"
    box.path.write_bytes(b"\n".join([line(first), not_utf8, braced, line(last)]) + b"\n")
    seen: list[CallInput] = []
    report = box.replay(recording(seen), agent_id=1)
    assert [c.uuid for c in seen] == [first.uuid, last.uuid]  # the bad lines stop nothing
    assert (report.replayed, report.remaining, report.quarantined) == (2, 0, 2)
    assert report.quarantine == box.quarantine_path
    assert box.quarantine_path.read_bytes() == not_utf8 + b"\n" + braced + b"\n"
    assert not box.path.exists()


def test_torn_last_line_is_kept_aside_and_does_not_swallow_the_next(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    box.append(a_call())
    with open(box.path, "ab") as fh:
        fh.write(b'{"uuid": "tronqu')  # a crash mid-write
    after = a_call()
    box.append(after)
    assert [c.uuid for c in box.pending()][-1] == after.uuid and box.unreadable() == 1
    report = box.replay(ok, agent_id=1)
    assert (report.replayed, report.quarantined) == (2, 1)
    assert box.quarantine_path.read_bytes() == b'{"uuid": "tronqu\n'


def test_only_the_logged_in_agents_entries_are_replayed(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    mine, forged = a_call(agent_id=1), a_call(agent_id=2)
    box.append(forged)
    box.append(mine)
    seen: list[CallInput] = []
    report = box.replay(recording(seen), agent_id=1)
    assert [c.agent_id for c in seen] == [1] and (report.replayed, report.remaining) == (1, 0)
    assert [c.uuid for c in box.pending()] == [forged.uuid]  # waits for its own agent
    assert box.count(1) == 0 and box.count(2) == 1


_call_lines = st.builds(
    a_call,
    agent_id=st.sampled_from([1, 2]),
    notes=st.one_of(st.none(), st.text(max_size=30)),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.lists(
        st.one_of(
            _call_lines,
            st.binary(max_size=40).filter(lambda b: b"\n" not in b and b.strip()),
        ),
        max_size=12,
    )
)
def test_any_lines_nothing_lost(tmp_path: Path, items: list[object]) -> None:
    box = Outbox(tmp_path / f"outbox-{uuid.uuid4().hex}.jsonl")
    raw = [line(i) if isinstance(i, CallInput) else i for i in items]
    box.path.write_bytes(b"".join(r + b"\n" for r in raw if isinstance(r, bytes)))
    seen: list[CallInput] = []
    box.replay(recording(seen), agent_id=1)
    calls = [i for i in items if isinstance(i, CallInput)]
    assert [c.uuid for c in seen] == list(dict.fromkeys(c.uuid for c in calls if c.agent_id == 1))
    assert [c.uuid for c in box.pending()] == [c.uuid for c in calls if c.agent_id != 1]
    # every line that was no call is there, byte for byte, in order, and nothing else
    expected = b"".join(i + b"\n" for i in items if isinstance(i, bytes))
    held = box.quarantine_path.read_bytes() if box.quarantine_path.exists() else b""
    assert held == expected


async def test_app_replays_nothing_before_login_then_only_its_agents(
    sqlite_db: Database, tmp_path: Path
) -> None:
    world = build_world(sqlite_db, tasks=3)
    app = app_for(sqlite_db, outbox_dir=tmp_path / "box")
    box = app.outbox
    box.path.parent.mkdir(parents=True)
    claire = a_call(
        agent_id=world.agent_id,
        campaign_id=world.campaign_id,
        business_id=world.business_ids[2],
        task_id=world.task_ids[2],
    )
    forged = a_call(
        agent_id=world.agent_id + 100,
        campaign_id=world.campaign_id,
        business_id=world.business_ids[1],
        task_id=world.task_ids[1],
    )
    content = line(forged) + b"\n" + b"\xff\xfe\n" + line(claire) + b"\n"
    box.path.write_bytes(content)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.replay_outbox()  # the timer's replay, at the login screen
        await settle(pilot)
        assert box.path.read_bytes() == content  # untouched before anyone logs in
        assert not box.quarantine_path.exists()
        await pilot.press(*"claire", "enter", "enter")
        await settle(pilot)
        notes = [n.message for n in app._notifications]
        assert any("1 ligne(s) illisible(s)" in m and str(box.quarantine_path) in m for m in notes)
    with sqlite_db.reading() as s:
        recorded = s.execute(select(Call.uuid, Call.agent_id)).all()
    assert recorded == [(claire.uuid, world.agent_id)]
    assert [c.uuid for c in box.pending()] == [forged.uuid]
    assert box.quarantine_path.read_bytes() == b"\xff\xfe\n"
