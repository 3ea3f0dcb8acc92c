"""The Suivis screen by keyboard through Pilot (real SQLite file, fixed clock): from the
campaigns screen (key f) and the command palette, filters, a diagnostic worked from proposed to
done with its action plan, a refused move, the lease held while open and handed back on leaving;
and its snapshot."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from textual.pilot import Pilot

from outreach.db.engine import Database
from outreach.db.models import Referral, ReferralAction, ReferralEvent
from outreach.services.queue import record_call
from outreach.services.types import CallInput, ReferralInput
from outreach.tui.app import OutreachApp
from outreach.tui.screens.campaigns import CampaignsScreen
from outreach.tui.screens.followup import BookModal, FollowUpScreen, PlanModal
from outreach.tui.screens.followups import FollowUpsScreen
from tests.tui.conftest import (
    FIXED_NOW,
    SnapCompare,
    World,
    app_for,
    build_world,
    palette_run,
    settle,
)

LOGIN = ("c", "l", "a", "i", "r", "e", "enter", "enter")


def _refer(world: World, index: int, kind: str, n: int, days_ago: int) -> None:
    at = FIXED_NOW - timedelta(days=days_ago)
    record_call(
        world.db,
        CallInput(
            uuid=str(uuid.UUID(int=1000 + n)),
            agent_id=world.agent_id,
            campaign_id=world.campaign_id,
            business_id=world.business_ids[index],
            task_id=None,
            outcome="reached",
            started_at=at,
            ended_at=at + timedelta(minutes=5),
            referrals=(ReferralInput(kind, notes="à rappeler"),),
        ),
        now=at,
    )


@pytest.fixture
def fu_world(sqlite_db: Database) -> World:
    world = build_world(sqlite_db)
    _refer(world, 0, "digital_diagnostic", 1, days_ago=3)  # overdue (2 days)
    _refer(world, 2, "click_and_collect", 2, days_ago=1)
    _refer(world, 3, "platform", 3, days_ago=0)
    return world


def _app(world: World) -> OutreachApp:
    return app_for(world.db, clock=lambda: FIXED_NOW)


def _rows(app: OutreachApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, FollowUpsScreen)
    return [i.business_name for i in screen.items]


async def test_work_a_diagnostic_by_keyboard(fu_world: World) -> None:
    db = fu_world.db
    app = _app(fu_world)
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press(*LOGIN)
        await settle(pilot)
        assert isinstance(app.screen, CampaignsScreen)
        await pilot.press("f")
        await settle(pilot)
        assert _rows(app) == ["Boulangerie du Marché", "Garage des Tilleuls", "Fleurs de Bourbon"]
        await pilot.press("t")  # kind: click and collect
        await settle(pilot)
        assert _rows(app) == ["Garage des Tilleuls"]
        for _ in range(3):  # platform, website, digital diagnostic
            await pilot.press("t")
            await settle(pilot)
        assert _rows(app) == ["Boulangerie du Marché"]
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FollowUpScreen) and screen.detail is not None
        assert screen.detail.state == "proposed"
        with db.reading() as s:
            assert s.scalar(select(Referral.claimed_by)) == fu_world.agent_id
        await pilot.press("d")  # a diagnostic is booked before it is done: refused on screen
        await settle(pilot)
        assert screen.detail.state == "proposed"
        assert "impossible" in str(screen.query_one("#fu-error").render())
        await pilot.press("a")
        await settle(pilot)
        assert screen.detail.state == "accepted"
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, BookModal)
        await pilot.press(*"26/11 14:30", "enter")  # Enter validates (adviser: Claire)
        await settle(pilot)
        assert screen.detail.state == "scheduled"
        # the firm has no e-mail address: no invitation, and the screen says so
        notes = [str(n.message) for n in app._notifications]
        assert "Pas de courriel : aucune adresse connue" in notes
        assert screen.detail.adviser_login == "claire"
        # 14:30 in Paris (the business's zone) on 26 November is 13:30 UTC
        assert screen.detail.scheduled_at is not None
        assert screen.detail.scheduled_at.hour == 13 and screen.detail.scheduled_at.day == 26
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, PlanModal)
        await pilot.press("space", "down", "space", "ctrl+s")  # website and online payment
        await settle(pilot)
        assert screen.detail.state == "done"
        assert [a.action for a in screen.detail.actions] == ["site", "payment"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpsScreen)
        assert _rows(app) == []  # done: no longer open
    with db.reading() as s:
        moves = s.execute(
            select(ReferralEvent.from_state, ReferralEvent.to_state).order_by(ReferralEvent.id)
        ).all()
        assert s.scalar(select(Referral.claimed_by).where(Referral.status == "done")) is None
        assert s.scalar(select(ReferralAction.status).limit(1)) == "planned"
    assert [tuple(m) for m in moves][-3:] == [
        ("proposed", "accepted"),
        ("accepted", "scheduled"),
        ("scheduled", "done"),
    ]


async def test_command_palette_opens_suivis(fu_world: World) -> None:
    app = _app(fu_world)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*LOGIN)
        await settle(pilot)
        await palette_run(pilot, "suivis", "Suivis des orientations")
        await settle(pilot)
        assert isinstance(app.screen, FollowUpsScreen)
        assert len(_rows(app)) == 3


def test_suivis_screen_snapshot(snap_compare: SnapCompare, fu_world: World) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in (*LOGIN, "f"):
            await pilot.press(key)
            await settle(pilot)

    assert snap_compare(_app(fu_world), terminal_size=(100, 30), run_before=run_before)


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param(("enter",), id="referral"),  # the soonest due: the diagnostic, proposed
        pytest.param(("enter", "a", "r"), id="book"),
        pytest.param(("enter", "a", "r", *"26/11 14:30", "enter", "d"), id="plan"),
    ],
)
def test_follow_up_and_its_modals_snapshot(
    snap_compare: SnapCompare, fu_world: World, keys: tuple[str, ...]
) -> None:
    """One referral open (card, state, history, keys), the booking modal and the plan modal."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in (*LOGIN, "f", *keys):
            await pilot.press(key)
            await settle(pilot)

    assert snap_compare(_app(fu_world), terminal_size=(100, 30), run_before=run_before)
