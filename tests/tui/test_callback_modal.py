"""The callback modal: Enter validates from every field, dates roll into next year, a time
outside the calling window is said before it is kept, the time is read back and echoed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from textual import events
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input

from outreach.db.models import Call, Campaign
from outreach.tui.format import parse_local_time
from outreach.tui.screens.call import CallScreen
from outreach.tui.screens.modals import CallbackTimeModal
from tests.tui.conftest import World, app_for, settle
from tests.tui.test_call_keys import _open

DEC3 = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # Thursday 16:00 in Paris


def test_date_rolls_into_next_year() -> None:
    when = parse_local_time("02/01 10h", DEC3, "Europe/Paris")
    assert (when.year, when.month, when.day, when.hour) == (2027, 1, 2, 10)
    assert parse_local_time("04/12 9h", DEC3, "Europe/Paris").year == 2026
    with pytest.raises(ValueError):
        parse_local_time("03/12/2026 9h", DEC3, "Europe/Paris")


async def _callback_modal(pilot: Pilot[None]) -> CallbackTimeModal:
    await pilot.press("6")
    await settle(pilot)
    modal = pilot.app.screen
    assert isinstance(modal, CallbackTimeModal)
    return modal


@pytest.mark.parametrize("field", ["#when", "#personal"])
async def test_enter_validates_from_every_field(world: World, field: str) -> None:
    app = app_for(world.db, clock=lambda: DEC3)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        modal = await _callback_modal(pilot)
        modal.query_one(field).focus()
        await pilot.press("space") if field == "#personal" else None  # team callback
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert "Rappel le " in str(screen.query_one("#saved").render())
    with world.db.reading() as s:
        assert s.scalar(select(Call.outcome)) == "callback"


async def test_outside_window_warned_then_kept_and_stale_error_cleared(world: World) -> None:
    with world.db.writing() as s:
        s.execute(
            update(Campaign).values(window_days="12345", window_hours="10:00-13:00,14:00-20:00")
        )
    app = app_for(world.db, clock=lambda: DEC3)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open(pilot)
        modal = await _callback_modal(pilot)
        when = modal.query_one("#when", Input)
        when.value = "xx"
        await pilot.press("enter")
        await settle(pilot)
        error = modal.query_one("#modal-error")
        assert "illisible" in str(error.render())
        when.value = "02/01 10h"  # a Saturday: outside Mon-Fri
        await settle(pilot)
        assert str(error.render()) == ""  # no stale error after a valid edit
        assert "sam. 02/01/2027 10:00" in str(modal.query_one("#when-read").render())
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CallbackTimeModal)
        assert "hors de la plage" in str(error.render())
        assert modal.query_one("#personal", Checkbox).value
        await pilot.press("enter")  # kept on a second Enter
        await settle(pilot)
        assert isinstance(app.screen, CallScreen)
        assert "sam. 02/01/2027 10:00" in str(app.screen.query_one("#saved").render())
    with world.db.reading() as s:
        assert s.scalar(select(Call.callback_at)) == datetime(2027, 1, 2, 9, 0)


@pytest.mark.parametrize("burst", [True, False])
async def test_time_typed_right_after_6_lands_in_the_field(world: World, burst: bool) -> None:
    """`6` then the time and Enter, with no pause: on a loaded machine every key is queued
    before the modal is even mounted (burst: the keys posted at once, as a busy terminal
    delivers them); else as Pilot types them. The time typed replaces the suggestion and is
    the callback saved."""
    app = app_for(world.db, clock=lambda: DEC3)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        await pilot.press("escape")  # out of the first answer: 6 is the callback key
        await settle(pilot)
        keys = ["6", "1", "7", "h", "3", "0"]
        if burst:
            for key in keys:
                app.post_message(events.Key(key, key))
        else:
            await pilot.press(*keys)
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, CallbackTimeModal)
        field = modal.query_one("#when", Input)
        assert field.value == "17h30" and app.focused is field
        assert "jeu. 03/12/2026 17:30" in str(modal.query_one("#when-read").render())
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
    with world.db.reading() as s:
        assert s.scalar(select(Call.callback_at)) == datetime(2026, 12, 3, 16, 30)


async def test_enter_typed_before_the_modal_is_up_saves_the_time_typed(world: World) -> None:
    app = app_for(world.db, clock=lambda: DEC3)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        await pilot.press("escape")
        await settle(pilot)
        for key in ["6", "1", "8", "h", "backspace", ":", "1", "5", "enter"]:
            app.post_message(events.Key(key, None if len(key) > 1 else key))
        await settle(pilot)
        assert app.screen is screen
    with world.db.reading() as s:
        assert s.scalar(select(Call.callback_at)) == datetime(2026, 12, 3, 17, 15)
