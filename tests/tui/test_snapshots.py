"""Snapshots of the login, campaign, call, callback and search screens (pytest-textual-snapshot),
on fixed data with a fixed clock. Review the SVG report before `--snapshot-update`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import update
from textual.pilot import Pilot

from outreach.db.engine import Database
from outreach.db.models import CallTask, Campaign
from outreach.services.queue import record_call
from outreach.services.types import CallInput, ReferralInput
from outreach.tui.app import OutreachApp
from tests.factories import make_agent, make_campaign, make_task
from tests.tui.conftest import FIXED_NOW, SnapCompare, World, app_for, build_world, settle

SIZE = (100, 30)


def _fixed_uuid(n: int) -> str:
    return str(uuid.UUID(int=n))


@pytest.fixture
def snap_world(sqlite_db: Database) -> World:
    return build_snap_world(sqlite_db)


def build_snap_world(sqlite_db: Database) -> World:
    """The small world, plus history on the first business and callbacks of Claire."""
    world = build_world(sqlite_db)
    db = world.db
    marc = make_agent(db, "marc", name="Marc Petit", chamber="IDF")
    earlier = make_campaign(db, "Confinement 1 : premiers appels")
    old_task = make_task(db, earlier, world.business_ids[0])
    day1 = FIXED_NOW - timedelta(days=200)
    record_call(
        db,
        CallInput(
            uuid=_fixed_uuid(1),
            agent_id=marc,
            campaign_id=earlier,
            business_id=world.business_ids[0],
            task_id=old_task,
            outcome="reached",
            started_at=day1,
            ended_at=day1 + timedelta(minutes=4),
            notes="Intéressé par la vente à emporter",
            referrals=(ReferralInput("platform", "Ma Ville Mon Shopping"),),
        ),
        now=day1,
    )
    with db.writing() as s:
        s.execute(update(Campaign).where(Campaign.id == earlier).values(status="closed"))
        s.execute(
            update(CallTask)
            .where(CallTask.id == world.task_ids[0])
            .values(
                state="callback",
                callback_agent_id=world.agent_id,
                next_attempt_at=FIXED_NOW - timedelta(minutes=10),
            )
        )
        s.execute(
            update(CallTask)
            .where(CallTask.id == world.task_ids[3])
            .values(
                state="callback",
                callback_agent_id=world.agent_id,
                next_attempt_at=FIXED_NOW + timedelta(days=1),
            )
        )
    return world


def _app(world: World) -> OutreachApp:
    return app_for(world.db, clock=lambda: FIXED_NOW)


def _steps(*presses: str) -> Callable:
    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in presses:
            await pilot.press(key)
            await settle(pilot)

    return run


LOGIN = ("c", "l", "a", "i", "r", "e", "enter", "enter")


def test_login_screen(snap_compare: SnapCompare, snap_world: World) -> None:
    assert snap_compare(_app(snap_world), terminal_size=SIZE, run_before=_steps())


def test_campaigns_screen(snap_compare: SnapCompare, snap_world: World) -> None:
    assert snap_compare(_app(snap_world), terminal_size=SIZE, run_before=_steps(*LOGIN))


def test_call_screen(snap_compare: SnapCompare, snap_world: World) -> None:
    assert snap_compare(_app(snap_world), terminal_size=SIZE, run_before=_steps(*LOGIN, "enter"))


def test_callbacks_screen(snap_compare: SnapCompare, snap_world: World) -> None:
    assert snap_compare(_app(snap_world), terminal_size=SIZE, run_before=_steps(*LOGIN, "c"))


def test_search_screen(snap_compare: SnapCompare, snap_world: World) -> None:
    steps = _steps(*LOGIN, "s", *"boulangerie", "enter")
    assert snap_compare(_app(snap_world), terminal_size=SIZE, run_before=steps)


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param(("question_mark",), id="help"),  # every key of the campaigns screen
        pytest.param(("enter", "escape", "p"), id="pause"),  # the pause reasons, on a call
        pytest.param(("enter", "escape", "question_mark"), id="help-on-call"),
    ],
)
def test_help_and_pause_screens(
    snap_compare: SnapCompare, snap_world: World, keys: tuple[str, ...]
) -> None:
    assert snap_compare(_app(snap_world), terminal_size=SIZE, run_before=_steps(*LOGIN, *keys))
