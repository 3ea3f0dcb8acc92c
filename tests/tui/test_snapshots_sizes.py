"""Snapshots of the call screen and its modals at 80x24, 100x30 and 160x48, in French and in
English (pytest-textual-snapshot; review the SVG report before `--snapshot-update`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from outreach.db.engine import Database
from outreach.i18n import set_language
from tests.tui.conftest import SnapCompare, World
from tests.tui.test_snapshots import LOGIN, _app, _steps, build_snap_world

SIZES = [(80, 24), (100, 30), (160, 48)]
VIEWS = {
    "call": (),
    "callback": ("escape", "6"),
    "referral": ("escape", "1"),
    "release": ("escape", "r"),
    "opposition": ("escape", "9"),
}


@pytest.fixture
def snap_world(sqlite_db: Database) -> World:
    return build_snap_world(sqlite_db)


@pytest.fixture(params=["fr", "en"])
def lang(request: pytest.FixtureRequest) -> Iterator[str]:
    set_language(request.param)
    yield request.param
    set_language("fr")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_call_screen_sizes(
    snap_compare: SnapCompare, snap_world: World, size: tuple[int, int], lang: str
) -> None:
    steps = _steps(*LOGIN, "enter")
    assert snap_compare(_app(snap_world), terminal_size=size, run_before=steps)


@pytest.mark.parametrize("view", [v for v in VIEWS if v != "call"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_modal_sizes(
    snap_compare: SnapCompare, snap_world: World, size: tuple[int, int], view: str, lang: str
) -> None:
    steps = _steps(*LOGIN, "enter", *VIEWS[view])
    assert snap_compare(_app(snap_world), terminal_size=size, run_before=steps)
