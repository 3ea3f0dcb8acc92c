"""The call screen at 80x24 keeps the card, a question and every footer key; history rows stay
one line; the other number is dialled by key; the referral modal keeps the focus after its error
and says which boxes are ticked; the search says when it is capped and forgets an empty one."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select, update
from textual.app import App
from textual.screen import Screen
from textual.widget import Widget

from outreach.db.models import Business, Call
from outreach.tui.screens.modals import ReferralModal
from outreach.tui.screens.search import SearchScreen
from outreach.tui.widgets.business_card import BusinessCard
from outreach.tui.widgets.script_form import ChoiceField
from outreach.tui.widgets.tick_list import TickList
from tests.tui.conftest import World, app_for, settle
from tests.tui.test_call_keys import _open


def screen_text(app: App[Any]) -> str:
    """What the terminal shows, as text (as export_screenshot draws it)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def _visible(screen: Screen[Any], widget: Widget) -> bool:
    region = widget.region
    return region.height > 0 and screen.region.contains_region(region)


async def test_80x24_keeps_card_question_and_footer(world: World) -> None:
    app = app_for(world.db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(pilot)
        card = screen.query_one(BusinessCard)
        assert _visible(screen, card)
        # the whole card is there, down to its attempt row
        assert "Boulangerie du Marché" in screen_text(pilot.app)
        first = screen.query_one("#answer-0", ChoiceField)
        assert _visible(screen, first) and first.has_focus
        await pilot.press("escape")
        await settle(pilot)
        shot = screen_text(app)
        for key in ("Notes", "Rendre", "Rechercher", "Aide", "Campagnes", "Quitter", "tentative"):
            assert key in shot, key


async def test_other_number_by_key(world: World) -> None:
    with world.db.writing() as s:
        s.execute(
            update(Business)
            .where(Business.id == world.business_ids[0])
            .values(phone_alt="+33145678901", email="contact@boulangerie.fr")
        )
    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        assert "contact@boulangerie.fr" in screen_text(app)
        await pilot.press("escape", "d")
        assert screen.dialled == "+33145678901"
        await pilot.press("2")
        await settle(pilot)
    with world.db.reading() as s:
        assert s.scalar(select(Call.phone)) == "+33145678901"


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_the_card_names_the_person_to_ask_for(world: World, size: tuple[int, int]) -> None:
    with world.db.writing() as s:
        s.execute(
            update(Business)
            .where(Business.id == world.business_ids[0])
            .values(contact_name="Anne Le Goff", email="contact@boulangerie.fr")
        )
        s.execute(
            update(Business)
            .where(Business.id == world.business_ids[1])
            .values(contact_name="Yann Riou")
        )
    app = app_for(world.db)
    async with app.run_test(size=size) as pilot:
        screen = await _open(pilot)
        shot = screen_text(app)
        assert "Contact    Anne Le Goff  ·" in shot and "contact@boulangerie.fr" in shot
        if size == (100, 30):  # the whole card, down to its attempt row (80x24 cuts it)
            assert "Anne Le Goff  ·  contact@boulangerie.fr" in shot and "tentative" in shot
        await pilot.press("escape", "2")  # the next business: a contact, no e-mail
        await settle(pilot)
        assert screen.current is not None and screen.current.business.id == world.business_ids[1]
        shot = screen_text(app)
        assert "Yann Riou" in shot and "E-mail" not in shot


async def test_referral_error_keeps_the_focus_and_ticks_show(world: World) -> None:
    app = app_for(world.db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot)
        await pilot.press("1")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ReferralModal)
        await pilot.press("down", "space")  # the labelled platform, no platform picked
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "plateforme" in str(modal.query_one("#modal-error").render())
        kinds = modal.query_one("#kinds", TickList)
        assert modal.focused is kinds  # the next keys still tick
        await pilot.press("up", "space")
        assert set(kinds.selected) == {"platform", "click_and_collect"}
        shot = screen_text(app)
        assert shot.count("☑") == 2


async def test_search_empty_and_capped(world: World) -> None:
    app = app_for(world.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open(pilot)
        await pilot.press("escape", "s")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"zzz", "enter")
        await settle(pilot)
        status = app.screen.query_one("#search-status")
        assert "Aucune entreprise" in str(status.render())
        await pilot.press("ctrl+a", "ctrl+k", "enter")  # an empty search
        await settle(pilot)
        assert "Aucune" not in str(status.render())
        assert not app.screen.query_one("#hits").display
        await pilot.press(*"boul", "enter")
        await settle(pilot)
        assert str(status.render()).startswith("1 résultat pour")
