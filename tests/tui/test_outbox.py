"""The outbox file: durable append, replay exactly once, entries removed only once committed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import OperationalError

from outreach.errors import InvalidInput
from outreach.services.outbox import Outbox, call_from_json, call_to_json
from outreach.services.types import CallInput, RecordResult, ReferralInput

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _call(outcome: str = "no_answer") -> CallInput:
    return CallInput(
        uuid=str(uuid.uuid4()),
        agent_id=1,
        campaign_id=2,
        business_id=3,
        task_id=4,
        outcome=outcome,
        started_at=T0,
        ended_at=T0,
        notes="rappeler après 14 h",
        callback_at=T0,
        referrals=(ReferralInput("platform", "Wizishop", "veut un site"),),
        answers={"online": "non"},
    )


def _ok(call: CallInput) -> RecordResult:
    return RecordResult(1, call.uuid, False, False, "done", None)


def test_round_trip_json() -> None:
    call = _call()
    assert call_from_json(call_to_json(call)) == call


def test_replay_removes_only_committed_entries(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    calls = [_call() for _ in range(3)]
    for call in calls:
        box.append(call)
    box.append(calls[0])  # the same call twice (a retry): replayed once
    assert box.count() == 3
    seen: list[str] = []

    def flaky(call: CallInput) -> RecordResult:
        if len(seen) == 2:
            raise OperationalError("INSERT", {}, Exception("unable to open database file"))
        seen.append(call.uuid)
        return _ok(call)

    report = box.replay(flaky, agent_id=1)
    assert (report.replayed, report.remaining) == (2, 1)
    assert "unable to open database file" in (report.error or "")
    assert [c.uuid for c in box.pending()] == [calls[2].uuid]

    def steady(call: CallInput) -> RecordResult:
        seen.append(call.uuid)
        return _ok(call)

    report = box.replay(steady, agent_id=1)
    assert (report.replayed, report.remaining, report.error) == (1, 0, None)
    assert seen == [c.uuid for c in calls]
    assert not box.path.exists()


def test_refused_call_is_kept_not_dropped(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    bad, good = _call(), _call()
    box.append(bad)
    box.append(good)

    def record(call: CallInput) -> RecordResult:
        if call.uuid == bad.uuid:
            raise InvalidInput("refusé")
        return _ok(call)

    report = box.replay(record, agent_id=1)
    assert (report.replayed, report.remaining, report.refused) == (1, 1, 1)
    assert report.error == f"{bad.uuid}: refusé"
    assert [c.uuid for c in box.pending()] == [bad.uuid]


def test_torn_last_line_is_not_a_call(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    call = _call()
    box.append(call)
    with open(box.path, "a") as fh:
        fh.write('{"uuid": "tronqu')
    assert [c.uuid for c in box.pending()] == [call.uuid]
    assert box.unreadable() == 1  # kept aside at the next replay (tests/faults)
