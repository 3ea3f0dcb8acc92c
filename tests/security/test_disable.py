"""`outreach agent disable LOGIN` ends what the person had going, in one audited transaction:
their live sessions, their state (logged_out) and the tasks they held (back in the queue at
once). Both backends through the command; on PostgreSQL also with real roles, the person's
own connection still open."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db.engine import Database
from outreach.db.models import AgentSession, AgentStateEvent, AuditLog, CallTask, Referral
from outreach.services.agent_states import current_state, set_state
from outreach.services.followup import claim_referral
from outreach.services.queue import claim_next, record_call
from outreach.services.sessions import heartbeat, open_session
from outreach.services.types import CallInput, ReferralInput
from tests.factories import make_agent, make_business, make_campaign, make_task
from tests.security.conftest import Roles
from tests.security.test_rls_pg import db_id

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def _held(db: Database, task_id: int) -> tuple[int | None, object]:
    with db.reading() as s:
        row = s.execute(
            select(CallTask.claimed_by, CallTask.lease_expires_at).where(CallTask.id == task_id)
        ).one()
    return row[0], row[1]


def _disable_audit(db: Database) -> dict:
    with db.reading() as s:
        (detail,) = s.scalars(
            select(AuditLog.detail).where(AuditLog.action == "agent.disable")
        ).all()
    return detail


def _run(url: str, *args: str) -> str:
    r = CliRunner().invoke(cli, ["--db", url, *args], obj=AppContext(), env={})
    assert r.exit_code == 0, r.output
    return r.output


def test_disable_ends_sessions_state_and_claims(db: Database) -> None:
    agent = make_agent(db, "bre.agent1", chamber="BRE")
    other = make_agent(db, "bre.agent2", chamber="BRE")
    campaign = make_campaign(db, "Nationale")
    tasks = [make_task(db, campaign, make_business(db, department="35")) for _ in range(3)]
    mine = claim_next(db, agent, campaign, now=NOW)
    theirs = claim_next(db, other, campaign, now=NOW)
    assert mine is not None and theirs is not None
    # a referral of theirs held in the follow-up worklist
    record_call(
        db,
        CallInput(
            uuid=str(uuid.uuid4()),
            agent_id=agent,
            campaign_id=campaign,
            business_id=theirs.business.id,
            task_id=None,
            outcome="reached",
            started_at=NOW,
            ended_at=NOW,
            referrals=(ReferralInput("click_and_collect"),),
        ),
        now=NOW,
    )
    with db.reading() as s:
        referral = s.execute(select(Referral.id)).scalar_one()
    claim_referral(db, agent, referral, now=NOW)
    session = open_session(db, agent, "tui", "poste-1", now=NOW)
    open_session(db, other, "tui", "poste-2", now=NOW)
    set_state(db, agent, "ready", now=NOW)
    set_state(db, agent, "on_call", business_id=mine.business.id, now=NOW)

    out = _run(db.url.render_as_string(hide_password=False), "agent", "disable", "bre.agent1")
    assert "bre.agent1 désactivé" in out
    assert "sessions fermées : 1 ; entreprises rendues à la file : 1" in out

    assert _held(db, mine.task_id) == (None, None)  # back in the queue at once
    assert _held(db, theirs.task_id)[0] == other  # nobody else's claim is touched
    assert heartbeat(db, session.id) is False  # the app stops at its next heartbeat
    with db.reading() as s:
        live = s.scalars(select(AgentSession.agent_id).where(AgentSession.ended_at.is_(None)))
        assert list(live) == [other]
        states = s.scalars(
            select(AgentStateEvent.state)
            .where(AgentStateEvent.agent_id == agent)
            .order_by(AgentStateEvent.id)
        ).all()
    assert states == ["ready", "on_call", "logged_out"]
    state = current_state(db, agent, now=datetime.now(UTC) + timedelta(minutes=1))
    assert state is not None and state.state == "logged_out"
    detail = _disable_audit(db)
    assert detail == {
        "sessions_ended": 1,
        "tasks_released": [mine.task_id],
        "referrals_released": [referral],
        "state": "on_call",
    }
    with db.reading() as s:
        assert s.scalar(select(Referral.claimed_by).where(Referral.id == referral)) is None
    # the business is offered to the next agent straight away
    again = claim_next(db, other, campaign, now=NOW)
    assert again is not None and again.task_id in tasks
    # disabling again: nothing more to end
    assert "sessions fermées" not in _run(
        db.url.render_as_string(hide_password=False), "agent", "disable", "bre.agent1"
    )


@pytest.mark.postgresql
def test_disable_as_an_admins_role_cuts_the_agents_open_connection(
    pg_db: Database, roles: Roles
) -> None:
    """The agent works under their own role; an admin, under theirs, disables them: the
    agent's claim is released, their session and state closed, and their connection still
    open sees nothing more (the policies know only active people)."""
    login = roles.add("bre.agent1", "BRE").login
    admin = roles.add("cmaf.admin", "CMAF", "admin").login
    campaign = make_campaign(pg_db, "Nationale")
    tasks = [make_task(pg_db, campaign, make_business(pg_db, department="35")) for _ in range(2)]
    own = roles.database(login)
    me = db_id(own)
    got = claim_next(own, me, campaign, now=NOW)
    assert got is not None
    session = open_session(own, me, "web", "navigateur", now=NOW)
    set_state(own, me, "ready", now=NOW)

    out = _run(roles.url(admin), "agent", "disable", login)
    assert "entreprises rendues à la file : 1" in out

    assert _held(pg_db, got.task_id) == (None, None)
    detail = _disable_audit(pg_db)
    assert detail == {
        "sessions_ended": 1,
        "tasks_released": [got.task_id],
        "referrals_released": [],
        "state": "ready",
    }
    # the agent's connection opened before: no task, no heartbeat, no claim any more
    assert heartbeat(own, session.id) is False
    assert claim_next(own, me, campaign, now=NOW) is None
    with own.reading() as s:
        assert s.scalar(select(CallTask.id).where(CallTask.id.in_(tasks))) is None
    with pg_db.reading() as s:
        last = s.scalar(
            select(AgentStateEvent.state)
            .where(AgentStateEvent.agent_id == me)
            .order_by(AgentStateEvent.id.desc())
            .limit(1)
        )
    assert last == "logged_out"
