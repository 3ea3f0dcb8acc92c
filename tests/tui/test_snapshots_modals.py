"""Snapshots of the modals no other snapshot shows: the quit confirmation on a call, the
"session opened elsewhere" notice, and the command palette finding the app's own commands
(pytest-textual-snapshot, fixed data and clock; review the SVG report before
`--snapshot-update`)."""

from __future__ import annotations

from textual.pilot import Pilot

from outreach.db.engine import Database
from outreach.services.sessions import open_session
from outreach.tui.app import OutreachApp
from outreach.tui.screens.modals import ConfirmQuitModal, SessionTakenModal
from tests.tui.conftest import FIXED_NOW, SnapCompare, World, app_for, settle
from tests.tui.test_snapshots import LOGIN, SIZE, build_snap_world


def _app(world: World) -> OutreachApp:
    return app_for(world.db, clock=lambda: FIXED_NOW)


async def _press(pilot: Pilot[None], *keys: str) -> None:
    await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def test_quit_confirmation_on_a_call(snap_compare: SnapCompare, sqlite_db: Database) -> None:
    world = build_snap_world(sqlite_db)
    app = _app(world)

    async def run_before(pilot: Pilot[None]) -> None:
        await _press(pilot, *LOGIN, "enter", "ctrl+q")
        assert isinstance(app.screen, ConfirmQuitModal)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_session_taken_notice(snap_compare: SnapCompare, sqlite_db: Database) -> None:
    world = build_snap_world(sqlite_db)
    app = _app(world)

    async def run_before(pilot: Pilot[None]) -> None:
        await _press(pilot, *LOGIN, "enter")
        # the same adviser logs in from a browser: this window's next heartbeat learns it
        open_session(world.db, world.agent_id, "browser", "poste-2", now=FIXED_NOW)
        app._session_beat()
        await settle(pilot)
        assert isinstance(app.screen, SessionTakenModal)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_command_palette(snap_compare: SnapCompare, sqlite_db: Database) -> None:
    world = build_snap_world(sqlite_db)
    app = _app(world)

    async def run_before(pilot: Pilot[None]) -> None:
        # a query: with none, the palette lists its providers' commands in the order their
        # searches end, which varies from run to run
        await _press(pilot, *LOGIN, "ctrl+p", *"rappel")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
