"""PostgreSQL's claim and record in two statements each (queue.fastpath), and the bare floor.

The round trips are counted as the driver sees them: every statement SQLAlchemy sends, and
whether it ran inside a transaction (a BEGIN and a COMMIT are round trips of their own). The
compare-and-set record is raced by a writer between its read and its write. The load test's
bare twin must write the same rows as the services for every outcome, or it is no floor.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text, update

from bench.bare import BareAgent
from outreach.db.engine import Database
from outreach.db.models import Call, CallTask
from outreach.services.clock import to_db
from outreach.services.queue import claim_next, record_call
from outreach.services.types import CallInput, ReferralInput
from tests.factories import call_on, make_agent, make_business, make_campaign, make_task

pytestmark = pytest.mark.postgresql

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@contextmanager
def round_trips(db: Database) -> Iterator[list[str]]:
    """The statements sent meanwhile, each followed by "+tx" when it ran inside a transaction
    the driver opened (BEGIN and COMMIT round trips)."""
    seen: list[str] = []

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        autocommit = conn.connection.driver_connection.autocommit
        seen.append(statement.split(None, 3)[0] + ("" if autocommit else "+tx"))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def _call(agent: int, task: Any, outcome: str, **kw: Any) -> CallInput:
    return call_on(agent, task, outcome, NOW, **kw)


def test_claim_and_record_are_two_statements_each_outside_transactions(
    pg_db: Database,
) -> None:
    agent = make_agent(pg_db)
    camp = make_campaign(pg_db)
    for _ in range(3):
        make_task(pg_db, camp, make_business(pg_db))
    first = claim_next(pg_db, agent, camp, now=NOW)  # the engine's first record asks its role
    assert first is not None
    record_call(pg_db, _call(agent, first, "refused", answers={"online": "non"}), now=NOW)
    with round_trips(pg_db) as claim_sent:
        task = claim_next(pg_db, agent, camp, now=NOW)
    assert task is not None
    assert claim_sent == ["WITH", "WITH"]  # agent+campaign (waking), then claim+reads
    call = _call(
        agent,
        task,
        "reached",
        referrals=(ReferralInput("click_and_collect"),),
        answers={"online": "oui"},
    )
    with round_trips(pg_db) as record_sent:
        result = record_call(pg_db, call, now=NOW + timedelta(minutes=3))
    assert record_sent == ["SELECT", "WITH"]  # the read, then the compare-and-set write
    assert result.task_state == "follow_up" and not result.lease_lost  # the referral follows
    # an opt-out too: the business, its other tasks and the audit rows in the same statement
    task2 = claim_next(pg_db, agent, camp, now=NOW)
    assert task2 is not None
    with round_trips(pg_db) as opt_out:
        record_call(pg_db, _call(agent, task2, "do_not_call"), now=NOW + timedelta(minutes=3))
    assert opt_out == ["SELECT", "WITH"]


def test_a_write_between_read_and_write_makes_the_record_read_again(pg_db: Database) -> None:
    agent = make_agent(pg_db)
    camp = make_campaign(pg_db, max_attempts=5)
    tid = make_task(pg_db, camp, make_business(pg_db))
    task = claim_next(pg_db, agent, camp, now=NOW)
    assert task is not None
    raced: list[str] = []

    def renew_in_between(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        # the agent's heartbeat renews the lease just before the write: the task changed
        if statement.startswith("WITH t AS") and not raced:
            raced.append(statement)
            with pg_db.engine.begin() as other:
                other.execute(
                    update(CallTask)
                    .where(CallTask.id == tid)
                    .values(lease_expires_at=to_db(NOW + timedelta(minutes=40)))
                )

    event.listen(pg_db.engine, "before_cursor_execute", renew_in_between)
    try:
        result = record_call(pg_db, _call(agent, task, "no_answer"), now=NOW)
    finally:
        event.remove(pg_db.engine, "before_cursor_execute", renew_in_between)
    assert raced
    assert result.task_state == "waiting" and not result.lease_lost
    with pg_db.reading() as s:
        t = s.execute(select(CallTask).where(CallTask.id == tid)).scalar_one()
        calls = s.execute(select(Call).where(Call.task_id == tid)).scalars().all()
    assert (t.attempts, t.state, t.claimed_by, len(calls)) == (1, "waiting", None, 1)


def test_a_lease_taken_between_read_and_write_is_recorded_as_lost(pg_db: Database) -> None:
    agent, rival = make_agent(pg_db), make_agent(pg_db)
    camp = make_campaign(pg_db)
    tid = make_task(pg_db, camp, make_business(pg_db))
    task = claim_next(pg_db, agent, camp, now=NOW)
    assert task is not None
    taken: list[bool] = []

    def rival_takes_it(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if statement.startswith("WITH t AS") and not taken:
            taken.append(True)
            with pg_db.engine.begin() as other:
                other.execute(
                    update(CallTask)
                    .where(CallTask.id == tid)
                    .values(claimed_by=rival, lease_expires_at=to_db(NOW + timedelta(hours=1)))
                )

    event.listen(pg_db.engine, "before_cursor_execute", rival_takes_it)
    try:
        result = record_call(pg_db, _call(agent, task, "refused"), now=NOW)
    finally:
        event.remove(pg_db.engine, "before_cursor_execute", rival_takes_it)
    assert taken and result.lease_lost
    with pg_db.reading() as s:
        t = s.execute(select(CallTask).where(CallTask.id == tid)).scalar_one()
    # the call is kept, the rival's hold is left alone (its own outcome decides the task)
    assert (t.claimed_by, t.state, t.attempts) == (rival, "queued", 1)


def _written(db: Database, call_uuid: str, task_id: int, business_id: int) -> dict[str, Any]:
    """What a record wrote, without ids and times (they differ between two calls)."""
    with db.reading() as s:
        call = s.execute(text("SELECT * FROM calls WHERE uuid = :u"), {"u": call_uuid})
        c = dict(call.mappings().one())
        cid = c["id"]
        out: dict[str, Any] = {
            "call": {
                k: v
                for k, v in c.items()
                if k in ("agent_id", "campaign_id", "outcome", "reached", "notes", "lease_lost")
            },
            "has_callback": c["callback_at"] is not None,
        }
        out["answers"] = sorted(
            tuple(r)
            for r in s.execute(
                text("SELECT question, answer FROM call_answers WHERE call_id = :c"), {"c": cid}
            )
        )
        out["referrals"] = sorted(
            tuple(r)
            for r in s.execute(
                text("SELECT kind, partner, status, notes FROM referrals WHERE call_id = :c"),
                {"c": cid},
            )
        )
        out["referral_events"] = sorted(
            tuple(r)
            for r in s.execute(
                text(
                    "SELECT e.agent_id, e.from_state, e.to_state, e.note, e.at = c.recorded_at"
                    " FROM referral_events e JOIN referrals r ON r.id = e.referral_id"
                    " JOIN calls c ON c.id = r.call_id WHERE c.id = :c"
                ),
                {"c": cid},
            )
        )
        task = s.execute(
            text(
                "SELECT state, attempts, phone_index, claimed_by, lease_expires_at,"
                " callback_agent_id, last_outcome, next_attempt_at IS NULL AS no_next"
                " FROM call_tasks WHERE id = :t"
            ),
            {"t": task_id},
        )
        out["task"] = dict(task.mappings().one())
        biz = s.execute(
            text(
                "SELECT status, phone_flagged, phone_alt_flagged, do_not_call FROM businesses"
                " WHERE id = :b"
            ),
            {"b": business_id},
        )
        out["business"] = dict(biz.mappings().one())
        audit = s.execute(
            text(
                "SELECT action, entity, detail FROM audit_log WHERE (entity = 'call' AND"
                " entity_id = :c) OR (entity = 'business' AND entity_id = :b)"
            ),
            {"c": str(cid), "b": str(business_id)},
        )
        keep = ("task_state", "lease_lost", "via", "status", "phone_flagged", "reason")
        out["audit"] = sorted(
            json.dumps(
                [
                    a["action"],
                    sorted(a["detail"]),
                    {k: v for k, v in a["detail"].items() if k in keep},
                    sorted(a["detail"].get("task_before") or {}),
                    a["detail"].get("business_before"),
                ],
                sort_keys=True,
            )
            for a in audit.mappings()
        )
    return out


@pytest.mark.parametrize(
    "outcome",
    ["no_answer", "reached", "wrong_number", "ceased", "do_not_call", "callback", "refused"],
)
def test_the_bare_floor_writes_what_the_services_write(pg_db: Database, outcome: str) -> None:
    agent = make_agent(pg_db)
    camp = make_campaign(pg_db)
    url = pg_db.url.render_as_string(hide_password=False)
    sides = {}
    for side in ("project", "bare"):
        business = make_business(pg_db, phone_alt=None)
        tid = make_task(pg_db, camp, business)
        # a call of another campaign: the opt-out cancels that task too
        make_task(pg_db, make_campaign(pg_db), business)
        referral = "click_and_collect" if outcome == "reached" else None
        call_uuid = str(uuidlib.uuid4())
        now = datetime.now(UTC).replace(microsecond=0)
        if side == "project":
            task = claim_next(pg_db, agent, camp, now=now)
            assert task is not None and task.task_id == tid
            record_call(
                pg_db,
                CallInput(
                    uuid=call_uuid,
                    agent_id=agent,
                    campaign_id=camp,
                    business_id=business,
                    task_id=tid,
                    outcome=outcome,
                    started_at=now - timedelta(seconds=30),
                    ended_at=now,
                    callback_at=now + timedelta(days=1) if outcome == "callback" else None,
                    referrals=(ReferralInput(referral),) if referral else (),
                    answers={"online": "oui"},
                ),
                now=now,
            )
        else:
            bare = BareAgent(url, agent, camp, None)
            try:
                got = bare.claim(to_db(now))
                assert got == (tid, business)
                bare.record(
                    call_uuid,
                    tid,
                    business,
                    outcome,
                    to_db(now - timedelta(seconds=30)),
                    to_db(now),
                    {"online": "oui"},
                    referral,
                )
            finally:
                bare.close()
        sides[side] = _written(pg_db, call_uuid, tid, business)
    assert sides["bare"] == sides["project"]


def test_the_statements_can_be_compiled_before_the_first_claim(pg_db: Database) -> None:
    from outreach.db import driver
    from outreach.services.queue.fastpath import compile_statements

    compile_statements(pg_db)
    compiled = driver._COMPILED[pg_db.engine.dialect]
    assert len(compiled) == 11  # the context, 8 claim shapes, the record's read and write
    agent = make_agent(pg_db)
    camp = make_campaign(pg_db)
    make_task(pg_db, camp, make_business(pg_db))
    task = claim_next(pg_db, agent, camp, now=NOW)
    assert task is not None
    result = record_call(pg_db, _call(agent, task, "no_answer"), now=NOW)
    assert result.task_state == "waiting"
    assert len(compiled) == 11  # nothing more to compile
