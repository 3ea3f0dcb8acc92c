"""The "waiting" state: a task due later (retry delay, 30-day cap, handed back) is out of the
queued range the claim walks, and a claim makes it queued again once due. Every reader of task
states keeps counting it as open work. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import select

from outreach.db import migrate
from outreach.db.engine import Database
from outreach.db.models import Business, CallTask
from outreach.domain.siret import luhn_complete
from outreach.services import campaigns as campaign_service
from outreach.services.agents import get_agent
from outreach.services.gdpr import erase_business
from outreach.services.queue import (
    campaigns_for_agent,
    claim_next,
    record_call,
    release_task,
    take_task,
    why_empty,
)
from outreach.services.types import CallInput, ClaimedTask, RecordResult
from tests.factories import claim, make_agent, make_business, make_campaign, make_task

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday


def _state(db: Database, task_id: int) -> tuple[str, datetime | None]:
    with db.reading() as s:
        row = s.execute(
            select(CallTask.state, CallTask.next_attempt_at).where(CallTask.id == task_id)
        ).one()
    return row.state, row.next_attempt_at


def _no_answer(db: Database, agent: int, task: ClaimedTask, at: datetime) -> RecordResult:
    return record_call(
        db,
        CallInput(
            uuid=str(uuidlib.uuid4()),
            agent_id=agent,
            campaign_id=task.campaign_id,
            business_id=task.business.id,
            task_id=task.task_id,
            outcome="no_answer",
            started_at=at,
            ended_at=at + timedelta(minutes=1),
        ),
        now=at,
    )


def test_a_retry_waits_then_a_claim_wakes_it_when_due(db: Database) -> None:
    agent = make_agent(db)
    camp = make_campaign(db, retry_delays=[60])
    tid = make_task(db, camp, make_business(db), priority=10)
    other = make_task(db, camp, make_business(db), priority=0)
    task = claim_next(db, agent, camp, now=NOW)
    assert task is not None and task.task_id == tid
    assert _no_answer(db, agent, task, NOW).task_state == "waiting"
    assert _state(db, tid) == ("waiting", (NOW + timedelta(minutes=60)).replace(tzinfo=None))
    # before it is due: the priority-0 task comes, the waiting one stays waiting
    soon = NOW + timedelta(minutes=30)
    got = claim_next(db, agent, camp, now=soon)
    assert got is not None and got.task_id == other
    release_task(db, agent, other, "plus tard", delay_minutes=120, now=soon)
    assert _state(db, tid)[0] == "waiting"
    assert claim_next(db, agent, camp, now=soon) is None
    # once due, the claim makes it queued again and takes it (priority 10 first)
    due = NOW + timedelta(minutes=62)
    got = claim_next(db, agent, camp, now=due)
    assert got is not None and got.task_id == tid
    assert _state(db, tid)[0] == "queued"


def test_handing_back_waits_only_with_a_delay(db: Database) -> None:
    agent = make_agent(db)
    camp = make_campaign(db)
    first = make_task(db, camp, make_business(db), priority=5)
    second = make_task(db, camp, make_business(db))
    assert claim(db, agent, camp, now=NOW).task_id == first
    release_task(db, agent, first, "occupé", delay_minutes=10, now=NOW)
    assert _state(db, first)[0] == "waiting"
    assert claim(db, agent, camp, now=NOW).task_id == second
    release_task(db, agent, second, "erreur de clic", delay_minutes=0, now=NOW)
    assert _state(db, second)[0] == "queued"
    # a waiting task taken by hand (an inbound call) is the agent's until recorded
    taken = take_task(db, agent, camp, task_id=first, now=NOW)
    assert taken.task_id == first
    assert claim(db, agent, camp, now=NOW).task_id == first


def test_the_thirty_day_cap_puts_a_task_to_wait(db: Database) -> None:
    agent = make_agent(db)
    c1 = make_campaign(db, max_attempts_30d=1, max_attempts=10)
    c2 = make_campaign(db, max_attempts_30d=1, max_attempts=10)
    biz = make_business(db)
    make_task(db, c1, biz)
    t2 = make_task(db, c2, biz)
    _no_answer(db, agent, claim(db, agent, c1, now=NOW), NOW)
    assert claim_next(db, agent, c2, now=NOW + timedelta(days=1)) is None
    assert _state(db, t2) == ("waiting", (NOW + timedelta(days=30)).replace(tzinfo=None))
    got = claim_next(db, agent, c2, now=NOW + timedelta(days=30, minutes=1))
    assert got is not None and got.task_id == t2


def test_readers_count_waiting_tasks_as_open_work(db: Database) -> None:
    agent = make_agent(db)
    make_agent(db, "sup.national", role="supervisor", chamber="CMAF")
    supervisor = get_agent(db, "sup.national")
    camp = make_campaign(db, retry_delays=[60])
    biz = make_business(db)
    tid = make_task(db, camp, biz)
    _no_answer(db, agent, claim(db, agent, camp, now=NOW), NOW)
    assert _state(db, tid)[0] == "waiting"
    # the agent's campaign list and the campaign's summary: still open work
    [summary] = [c for c in campaigns_for_agent(db, agent, now=NOW) if c.id == camp]
    assert summary.queued == 1
    info = next(c for c in campaign_service.list_campaigns(db, supervisor) if c.id == camp)
    assert info.open_tasks == 1
    # why the queue is empty: waiting for the next attempt, with its time
    empty = why_empty(db, agent, camp, now=NOW + timedelta(minutes=5))
    assert empty.reason == "retry_delay"
    assert empty.next_at == NOW + timedelta(minutes=60)
    # RGPD erasure cancels it like any unfinished task
    with db.reading() as s:
        siret = s.execute(select(Business.siret).where(Business.id == biz)).scalar_one()
    done = erase_business(db, "sup.national", siret, now=NOW + timedelta(minutes=5))
    assert done.tasks_cancelled == 1
    assert _state(db, tid)[0] == "cancelled"


def _insert(conn: sa.Connection, table: str, values: dict[str, object]) -> None:
    """A row written as before the "waiting" revision, in plain SQL (the models follow head)."""
    cols = ", ".join(values)
    params = ", ".join(f":{c}" for c in values)
    conn.execute(sa.text(f"INSERT INTO {table} ({cols}) VALUES ({params})"), values)


def _before_waiting() -> str:
    """The revision before the one that brought the "waiting" state."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    rev = next(r for r in script.walk_revisions() if '"waiting"' in (r.doc or ""))
    assert isinstance(rev.down_revision, str)
    return rev.down_revision


def test_migration_moves_queued_tasks_due_later(empty_db: Database) -> None:
    db = empty_db
    before = _before_waiting()
    migrate.upgrade(db, before)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    later, past = now + timedelta(days=2), now - timedelta(days=2)
    with db.engine.begin() as conn:
        idf = conn.execute(sa.text("SELECT id FROM chambers WHERE code = 'IDF'")).scalar_one()
        _insert(
            conn,
            "campaigns",
            {
                "id": 71,
                "name": "Avant la migration",
                "status": "active",
                "max_attempts": 5,
                "retry_delays": "[60]",
                "window_days": "1234567",
                "window_hours": "00:00-24:00",
                "skip_holidays": False,
                "max_attempts_30d": 4,
                "callback_grace_minutes": 30,
                "lease_minutes": 15,
                "script": "[]",
                "created_at": past,
            },
        )
        tasks = {"later": ("queued", later), "past": ("queued", past), "fresh": ("queued", None)}
        tasks["callback"] = ("callback", later)
        for n, (key, (state, due)) in enumerate(tasks.items(), start=1):
            siren = luhn_complete(f"{12345670 + n:08d}")
            _insert(
                conn,
                "businesses",
                {
                    "id": 70 + n,
                    "siret": luhn_complete(siren + "0001"),
                    "siren": siren,
                    "name": key,
                    "name_key": key,
                    "department": "75",
                    "chamber_id": idf,
                    "created_at": past,
                    "updated_at": past,
                },
            )
            _insert(
                conn,
                "call_tasks",
                {
                    "id": 70 + n,
                    "campaign_id": 71,
                    "business_id": 70 + n,
                    "chamber_id": idf,
                    "department": "75",
                    "state": state,
                    "next_attempt_at": due,
                    "created_at": past,
                    "updated_at": past,
                },
            )
    ids = {key: 70 + n for n, key in enumerate(tasks, start=1)}
    migrate.upgrade(db)
    states = {k: _state(db, v)[0] for k, v in ids.items()}
    assert states == {
        "later": "waiting",
        "past": "queued",
        "fresh": "queued",
        "callback": "callback",
    }
    assert _state(db, ids["later"])[1] == later  # its due time kept
    # the schema takes the new state, and still refuses one outside the list
    with db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(sa.text("UPDATE call_tasks SET state = 'lost' WHERE id = :i"), {"i": 72})
    migrate.downgrade(db, before)
    assert _state(db, ids["later"])[0] == "queued"
    migrate.upgrade(db)
    assert _state(db, ids["later"])[0] == "waiting"
