"""Undo of a call under the agent's own PostgreSQL role: agents have no DELETE on calls (nor on
what a call records), yet the call they just recorded is undone through
outreach_undo_call(), which checks that the caller recorded it and holds its task again under
a live lease. Direct SQL: nothing else can be removed that way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import select, text

from outreach.db.engine import Database
from outreach.db.models import AuditLog, Call, CallAnswer, CallTask, Referral
from outreach.errors import Forbidden
from outreach.services.queue import claim_next, record_call
from outreach.services.queue.undo import undo_call
from outreach.services.types import CallInput, ReferralInput
from tests.factories import make_business, make_campaign, make_task
from tests.security.conftest import Roles
from tests.security.test_rls_pg import db_id

pytestmark = pytest.mark.postgresql


def _record(
    db: Database, me: int, campaign: int, now: datetime, outcome: str = "reached"
) -> tuple[int, str]:
    got = claim_next(db, me, campaign, now=now)
    assert got is not None
    call = CallInput(
        uuid=str(uuid.uuid4()),
        agent_id=me,
        campaign_id=campaign,
        business_id=got.business.id,
        task_id=got.task_id,
        outcome=outcome,
        started_at=now,
        ended_at=now,
        answers={"needs": "site"},
        referrals=(ReferralInput("click_and_collect"),) if outcome == "reached" else (),
    )
    record_call(db, call, now=now)
    return got.task_id, call.uuid


def test_undo_under_the_agents_own_role(pg_db: Database, roles: Roles) -> None:
    login = roles.add("bre.agent1", "BRE").login
    other = roles.add("bre.agent2", "BRE").login
    campaign = make_campaign(pg_db, "Nationale")
    for _ in range(3):
        make_task(pg_db, campaign, make_business(pg_db, department="35"))
    db = roles.database(login)
    me = db_id(db)
    now = datetime.now(UTC)  # the database's clock checks the lease: real time
    task_id, call_uuid = _record(db, me, campaign, now)
    with pg_db.reading() as s:
        call_id = s.scalar(select(Call.id).where(Call.uuid == call_uuid))
    back = undo_call(db, me, call_uuid, now=now + timedelta(seconds=20))
    assert back.task_id == task_id
    with pg_db.reading() as s:
        assert s.scalar(select(Call.id).where(Call.uuid == call_uuid)) is None
        assert s.scalar(select(CallAnswer.id).where(CallAnswer.call_id == call_id)) is None
        assert s.scalar(select(Referral.id).where(Referral.call_id == call_id)) is None
        task = s.execute(select(CallTask).where(CallTask.id == task_id)).scalar_one()
        assert (task.claimed_by, task.attempts, task.state) == (me, 0, "queued")
        undone = s.execute(
            select(AuditLog.agent_id, AuditLog.entity_id).where(AuditLog.action == "call.undo")
        ).all()
    assert undone == [(me, str(call_id))]
    # a call of another agent: the service says so, the database would refuse it too
    their_db = roles.database(other)
    _task, their_uuid = _record(their_db, db_id(their_db), campaign, now, "no_answer")
    with pytest.raises(Forbidden, match="seul le conseiller"):
        undo_call(db, me, their_uuid, now=now)


def test_direct_sql_cannot_delete_calls_through_the_undo(pg_db: Database, roles: Roles) -> None:
    """As bre.agent1 in psql: DELETE stays refused; the undo function removes only a call of
    theirs whose task they hold under a live lease."""
    login = roles.add("bre.agent1", "BRE").login
    other = roles.add("bre.agent2", "BRE").login
    campaign = make_campaign(pg_db, "Nationale")
    for _ in range(3):
        make_task(pg_db, campaign, make_business(pg_db, department="35"))
    db, their_db = roles.database(login), roles.database(other)
    now = datetime.now(UTC)
    _mine_task, mine = _record(db, db_id(db), campaign, now, "no_answer")
    _their_task, theirs = _record(their_db, db_id(their_db), campaign, now, "no_answer")
    with pg_db.reading() as s:
        ids = dict(s.execute(select(Call.uuid, Call.id)).all())
    with roles.connect(login) as conn:
        for refused in ("DELETE FROM calls", "DELETE FROM call_answers", "DELETE FROM referrals"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(refused)
        # someone else's call; their own call while its task is not held (released after
        # the call): refused, nothing removed
        for call_id in (ids[theirs], ids[mine]):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="undo"):
                conn.execute("SELECT outreach_undo_call(%s)", (call_id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="undo"):
            conn.execute("SELECT outreach_undo_call(%s)", (-1,))
    with pg_db.reading() as s:
        assert s.scalar(text("SELECT count(*) FROM calls")) == 2
