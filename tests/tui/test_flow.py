"""The whole agent flow through Pilot, on a real SQLite file: log in, pick a campaign, record
every outcome by its key (callback, referral with notes, do-not-call), callbacks, search."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from textual.pilot import Pilot

from outreach.db.engine import Database
from outreach.db.models import AuditLog, Business, Call, CallAnswer, CallTask, Referral
from outreach.services.clock import utcnow
from outreach.tui.app import OutreachApp
from outreach.tui.screens.call import CallScreen
from outreach.tui.screens.callbacks import CallbacksScreen
from outreach.tui.screens.campaigns import CampaignsScreen
from outreach.tui.screens.help import HelpScreen
from outreach.tui.screens.login import LoginScreen
from outreach.tui.screens.modals import (
    CallbackTimeModal,
    ConfirmDoNotCallModal,
    ReferralModal,
)
from outreach.tui.screens.search import SearchScreen
from tests.factories import make_agent, make_business
from tests.tui.conftest import World, app_for, build_world, palette_run, settle
from tests.waiting import wait_for


def _calls(db: Database) -> list[Call]:
    with db.reading() as s:
        return list(s.execute(select(Call).order_by(Call.id)).scalars())


async def _login(pilot: Pilot[None], login: str = "claire", pin: str = "") -> None:
    await settle(pilot)
    assert isinstance(pilot.app.screen, LoginScreen)
    await pilot.press(*login, "enter", *pin, "enter")
    await settle(pilot)


def _shown(app: OutreachApp) -> str | None:
    screen = app.screen
    assert isinstance(screen, CallScreen)
    return screen.current.business.name if screen.current else None


async def test_every_outcome_by_its_key(db: Database) -> None:
    """On SQLite and on PostgreSQL."""
    sqlite_db = db
    world = build_world(sqlite_db, tasks=10)
    # PostgreSQL's login screen asks for a person's own role and password: straight in there
    app = app_for(sqlite_db, agent_login="claire" if db.is_postgresql else None)
    async with app.run_test(size=(100, 30)) as pilot:
        if db.is_postgresql:
            await settle(pilot)
        else:
            await _login(pilot)
        assert isinstance(app.screen, CampaignsScreen)
        await pilot.press("enter")
        await settle(pilot)
        seen = [_shown(app)]
        assert seen == ["Boulangerie du Marché"]

        # 1 reached: notes, a script answer, then two referrals incl. a labelled platform
        # the first answer has the focus: `non` answers it, Escape leaves it, `n` is Notes
        await pilot.press(*"non", "escape")
        await pilot.press("n", *"gérant intéressé", "enter")
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, ReferralModal)
        await pilot.press("space", "down", "space", "tab", "enter")  # click-and-collect, platform
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # the 2nd platform of the list
        await pilot.press("tab", *"site à créer", "enter")
        await settle(pilot)
        seen.append(_shown(app))

        for key in "234578":
            await pilot.press(key)
            await settle(pilot)
            seen.append(_shown(app))

        await pilot.press("6")
        await settle(pilot)
        assert isinstance(app.screen, CallbackTimeModal)
        await pilot.press("enter")  # the suggested time, personal
        await settle(pilot)
        seen.append(_shown(app))

        await pilot.press("9")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDoNotCallModal)
        await pilot.press("o")
        await settle(pilot)
        seen.append(_shown(app))
        assert (app.calls_today, app.reached_today) == (9, 5)

    calls = _calls(sqlite_db)
    assert [c.outcome for c in calls] == [
        "reached",
        "no_answer",
        "busy",
        "voicemail",
        "wrong_number",
        "refused",
        "ceased",
        "callback",
        "do_not_call",
    ]
    assert len({c.uuid for c in calls}) == 9
    assert all(c.agent_id == world.agent_id for c in calls)
    # each outcome was recorded on the business shown when its key was pressed
    with sqlite_db.reading() as s:
        names = dict(s.execute(select(Business.id, Business.name)).all())
        refs = s.execute(select(Referral.kind, Referral.partner, Referral.notes)).all()
        answers = s.execute(select(CallAnswer.question, CallAnswer.answer)).all()
        dnc = s.execute(select(Business.do_not_call).where(Business.id == calls[-1].business_id))
        cb = s.execute(select(CallTask.state).where(CallTask.id == calls[-2].task_id)).scalar()
        dnc_flag = dnc.scalar()
    assert [names[c.business_id] for c in calls] == seen[:9]
    assert len(set(seen)) == 10  # a new business after every outcome
    assert calls[0].notes == "gérant intéressé"
    assert sorted(refs) == [
        ("click_and_collect", None, "site à créer"),
        ("platform", "Wizishop", "site à créer"),
    ]
    assert answers == [("online", "non")]
    assert cb == "callback" and calls[-2].callback_at is not None
    assert calls[-2].callback_at > utcnow() + timedelta(minutes=30)
    assert dnc_flag is True


async def test_callbacks_then_take_one(world: World) -> None:
    db = world.db
    # the third business's task becomes a personal callback due now
    with db.writing() as s:
        s.execute(
            CallTask.__table__.update()
            .where(CallTask.id == world.task_ids[2])
            .values(
                state="callback",
                callback_agent_id=world.agent_id,
                next_attempt_at=utcnow() - timedelta(minutes=5),
            )
        )
    app = app_for(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _login(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CallbacksScreen)
        assert [i.business_name for i in app.screen.items] == ["Garage des Tilleuls"]
        await pilot.press("enter")
        await settle(pilot)
        assert _shown(app) == "Garage des Tilleuls"
        await pilot.press("7")
        await settle(pilot)
    calls = _calls(db)
    assert [(c.business_id, c.outcome) for c in calls] == [(world.business_ids[2], "refused")]


async def test_inbound_call_search_then_record(world: World) -> None:
    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert _shown(app) == "Boulangerie du Marché"
        await pilot.press("escape", "s")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"+33 (0)6.12.34.56.03", "enter")
        await settle(pilot)
        assert [h.business.name for h in app.screen.hits] == ["Garage des Tilleuls"]
        await pilot.press("enter")
        await settle(pilot)
        assert _shown(app) == "Garage des Tilleuls"
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("ctrl+s")  # reached, no referral
        await settle(pilot)
        assert _shown(app) != "Garage des Tilleuls"
    calls = _calls(world.db)
    assert [(c.business_id, c.outcome) for c in calls] == [(world.business_ids[2], "reached")]


async def test_empty_queue_says_why(sqlite_db: Database) -> None:
    build_world(sqlite_db, tasks=0)
    app = app_for(sqlite_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert _shown(app) is None
        banner = str(app.screen.query_one("#banner").render())
        assert "File vide" in banner
        offered = {b.action for _n, b, _e, _t in app.screen.active_bindings.values() if b.show}
        assert "retry" in offered  # f5: ask the queue again
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CampaignsScreen)


async def test_help_and_command_palette(world: World) -> None:
    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _login(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await palette_run(pilot, "mes rappels", "Mes rappels")
        await settle(pilot)
        assert isinstance(app.screen, CallbacksScreen)


async def test_hand_back_with_reason_then_leave(world: World) -> None:
    db = world.db
    app = app_for(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert _shown(app) == "Boulangerie du Marché"
        await pilot.press("escape", "r")
        await settle(pilot)
        await pilot.press("down", "enter")  # the second reason
        await settle(pilot)
        assert _shown(app) == "Coiffure Élodie"
        await pilot.press("escape", "escape")  # out of the answer, back to the campaigns
        await settle(pilot)
        assert isinstance(app.screen, CampaignsScreen)
    with db.reading() as s:
        held = s.execute(select(CallTask.id).where(CallTask.claimed_by.is_not(None))).all()
        details = s.execute(
            select(AuditLog.entity_id, AuditLog.detail)
            .where(AuditLog.action == "task.release")
            .order_by(AuditLog.id)
        ).all()
    assert held == []
    assert [(int(e), d["reason"]) for e, d in details] == [
        (world.task_ids[0], "personal_link"),
        (world.task_ids[1], "left_screen"),
    ]
    assert _calls(db) == []


async def test_lease_is_renewed_while_the_screen_is_open(world: World) -> None:
    db = world.db
    app = app_for(db, lease_renew_seconds=0.3)

    def lease() -> datetime | None:
        with db.reading() as s:
            return s.execute(
                select(CallTask.lease_expires_at).where(CallTask.id == world.task_ids[0])
            ).scalar()

    async with app.run_test(size=(100, 30)) as pilot:
        await _login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        first = lease()
        assert first is not None
        # the screen's timer renews it (every 0.3 s here), with no key pressed
        await wait_for(pilot, lambda: (lease() or first) > first, "the lease renewed")


async def test_inbound_call_from_a_business_in_no_campaign(world: World) -> None:
    """Found by its SIRET typed with spaces, from the campaigns list: it joins the agent's
    campaign and the call is recorded there."""
    newcomer = make_business(
        world.db, "Plomberie Nouvelle", siret="73282932000223", phone="+33612340099"
    )
    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _login(pilot)
        await pilot.press("s")
        await pilot.press(*"732 829 320 00223", "enter")
        await settle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        assert [h.business.name for h in search.hits] == ["Plomberie Nouvelle"]
        await pilot.press("enter")
        await settle(pilot)
        assert _shown(app) == "Plomberie Nouvelle"
        await pilot.press("3")
        await settle(pilot)
    calls = _calls(world.db)
    assert [(c.business_id, c.campaign_id, c.outcome) for c in calls] == [
        (newcomer, world.campaign_id, "busy")
    ]


async def test_supervisor_opens_the_dashboard_from_the_palette(world: World) -> None:
    make_agent(world.db, "sophie", name="Sophie Leroy", chamber="IDF", role="supervisor")
    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _login(pilot, "sophie")
        await palette_run(pilot, "tableau", "Tableau de bord")
        await settle(pilot)
        assert type(app.screen).__name__ == "DashboardScreen"


async def test_a_claim_that_ends_after_the_adviser_left_is_handed_back(world: World) -> None:
    """Leaving the call screen while a claim is on its way (the retry timer fired just before):
    the business claimed for nobody goes straight back to the queue, audited."""
    db = world.db
    app = app_for(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen) and screen.current is not None
        first = screen.current.task_id
        await pilot.press("escape")  # out of the answer
        await settle(pilot)
        # Escape again would leave: what it does before the screen goes (action_leave)...
        screen.leaving = True
        screen._hand_back_shown()
        # ...while a claim the retry timer had just started ends (its worker, its thread)
        screen._claim()
        await settle(pilot)
        assert screen.current is None  # nothing shown for nobody
    with db.reading() as s:
        held = s.execute(select(CallTask.id).where(CallTask.claimed_by.is_not(None))).all()
        released = s.execute(
            select(AuditLog.entity_id).where(AuditLog.action == "task.release")
        ).scalars()
        released_ids = [int(e) for e in released]
    assert held == []  # the claim ended for nobody: handed back, not held for 15 minutes
    assert released_ids[0] == first
