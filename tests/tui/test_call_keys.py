"""The call screen does what the adviser means: typed answers land in the focused answer and are
saved, letters never fire commands from an answer, choices by choice keys, the saved line and its
undo, a real confirmation for an opposition, ctrl+q asking and handing the business back."""

from __future__ import annotations

from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Input

from outreach.db.engine import Database
from outreach.db.models import AuditLog, Business, Call, CallAnswer, CallTask
from outreach.tui.screens.call import CallScreen
from outreach.tui.screens.modals import ConfirmDoNotCallModal, ConfirmQuitModal
from outreach.tui.widgets.script_form import ChoiceField
from tests.tui.conftest import World, app_for, settle

LOGIN = ("c", "l", "a", "i", "r", "e", "enter", "enter")


async def _open(pilot: Pilot[None]) -> CallScreen:
    await settle(pilot)
    await pilot.press(*LOGIN)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CallScreen) and screen.current is not None
    return screen


def _shown(screen: CallScreen) -> str:
    """The name of the business on the call screen."""
    assert screen.current is not None
    return screen.current.business.name


def _answers(db: Database) -> list[tuple[str, str | None]]:
    with db.reading() as s:
        rows = s.execute(select(CallAnswer.question, CallAnswer.answer)).all()
    return sorted((question, answer) for question, answer in rows)


async def test_typed_answers_land_in_the_answers_and_are_saved(world: World) -> None:
    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        first = screen.query_one("#answer-0", ChoiceField)
        assert screen.focused is first  # visibly on the first answer, at once
        # the keys: `non` (n is Notes, r Rendre la fiche outside a field)
        await pilot.press("n", "o", "n")
        assert first.value == "non" and screen.focused is first
        await pilot.press("r", "x")  # start no choice: refused, no command
        await settle(pilot)
        assert app.screen is screen and first.value == "non"
        await pilot.press("tab", *"site", "space", *"web")
        await pilot.press("2")  # a digit in a free-text field is text
        assert screen.query_one("#answer-1", Input).value == "site web2"
        await pilot.press("escape", "2")
        await settle(pilot)
        assert _shown(screen) == "Coiffure Élodie"
        assert screen.focused is screen.query_one("#answer-0", ChoiceField)
        assert screen.query_one("#answer-0", ChoiceField).value == ""
        # `o` picks oui, then `n` switches to non, left/right move; digits are outcomes
        await pilot.press("o")
        assert screen.query_one("#answer-0", ChoiceField).value == "oui"
        await pilot.press("right", "3")
        await settle(pilot)
    assert _answers(world.db) == [("needs", "site web2"), ("online", "non"), ("online", "non")]


async def test_saved_line_and_undo(world: World) -> None:
    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        await pilot.press("o", "escape", "n", *"rappeler le gérant", "enter", "4")
        await settle(pilot)
        shown = screen.query_one("#saved")
        assert shown.display and "Messagerie" in str(shown.render())
        assert _shown(screen) == "Coiffure Élodie"
        assert app.calls_today == 1
        await pilot.press("ctrl+z")  # from the focused answer too
        await settle(pilot)
        assert _shown(screen) == "Boulangerie du Marché"
        assert screen.query_one("#answer-0", ChoiceField).value == "oui"
        assert screen.query_one("#notes", Input).value == "rappeler le gérant"
        assert app.calls_today == 0
        with world.db.reading() as s:
            assert s.execute(select(Call)).first() is None
            held = dict(s.execute(select(CallTask.id, CallTask.claimed_by)).all())
            undo = s.execute(select(AuditLog).where(AuditLog.action == "call.undo")).scalar_one()
        assert held[world.task_ids[0]] == world.agent_id and held[world.task_ids[1]] is None
        assert undo.agent_id == world.agent_id
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("ctrl+s")  # the referral modal: no referral
        await settle(pilot)
    with world.db.reading() as s:
        calls = s.execute(select(Call.outcome, Call.notes)).all()
    assert calls == [("reached", "rappeler le gérant")]
    assert _answers(world.db) == [("online", "oui")]


async def test_opposition_needs_o_not_enter(world: World) -> None:
    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        await pilot.press("9")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDoNotCallModal)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDoNotCallModal)
        assert "tapez o" in str(app.screen.query_one("#modal-error").render())
        await pilot.press("o")
        await settle(pilot)
        assert app.screen is screen
        assert not screen.query_one("#saved").display or "ctrl+z" not in str(
            screen.query_one("#saved").render()
        )
        assert screen.undoable is None  # an opposition is final
    with world.db.reading() as s:
        assert s.scalar(select(Business.do_not_call).where(Business.id == world.business_ids[0]))


async def test_ctrl_q_asks_and_hands_the_business_back(world: World) -> None:
    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmQuitModal)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen)
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
    assert app.return_code == 0
    with world.db.reading() as s:
        held = s.scalar(select(CallTask.claimed_by).where(CallTask.id == world.task_ids[0]))
        reason = s.scalar(select(AuditLog.detail).where(AuditLog.action == "task.release"))
    assert held is None and reason is not None and reason["reason"] == "quit"


async def test_hand_back_other_asks_for_text_out_of_target_removes(world: World) -> None:
    from outreach.tui.screens.modals import ReleaseModal

    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        await pilot.press("escape", "r")
        await settle(pilot)
        assert isinstance(app.screen, ReleaseModal)
        await pilot.press("down", "down", "down", "down", "enter")  # "Autre motif"
        await settle(pilot)
        assert isinstance(app.screen, ReleaseModal)
        await pilot.press("enter")
        assert "préciser" in str(app.screen.query_one("#modal-error").render())
        await pilot.press(*"en congé", "enter")
        await settle(pilot)
        assert app.screen is screen and _shown(screen) == "Coiffure Élodie"
        await pilot.press("escape", "r", "enter")  # the first reason: out of target
        await settle(pilot)
        assert _shown(screen) == "Garage des Tilleuls"
    with world.db.reading() as s:
        states = dict(s.execute(select(CallTask.id, CallTask.end_reason)).all())
        notes = [
            d.get("note")
            for d in s.scalars(select(AuditLog.detail).where(AuditLog.action == "task.release"))
        ]
    assert states[world.task_ids[1]] == "not_target" and states[world.task_ids[0]] is None
    assert "en congé" in notes
