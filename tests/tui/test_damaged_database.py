"""The SQLite file damaged while the app runs (overwritten, truncated): the screen names the
damage and the way back (the latest `outreach db backup`), never "erreur inattendue", and the
call being recorded, with what was typed, waits in the outbox as for a database that went
away (a real file, damaged in place under the running app)."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import Input

from outreach.db.engine import open_database
from outreach.tui.app import OutreachApp
from outreach.tui.screens.call import CallScreen
from tests.dbutil import Templates
from tests.tui.conftest import app_for, build_world, settle


def _notices(app: OutreachApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_database_damaged_mid_session_keeps_the_call_and_says_what_to_do(
    templates: Templates, tmp_path: Path
) -> None:
    path = tmp_path / "outreach.sqlite3"
    shutil.copyfile(templates.sqlite(), path)
    db = open_database(f"sqlite:///{path}")
    build_world(db, tasks=3)
    app = app_for(db, outbox_dir=tmp_path / "outbox")
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press(*"claire", "enter", "enter")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, CallScreen) and screen.current is not None
            shown = screen.current.business.id
            await pilot.press("escape", "n", *"rappeler le gérant", "escape")
            typed = screen.query_one("#notes", Input).value
            assert typed == "rappeler le gérant"

            # the file is damaged under the running app: its header overwritten, cut short
            with path.open("r+b") as f:
                f.write(b"\x00garbage, not a database\x00" * 8)
                f.truncate(4096)
            for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                extra.unlink(missing_ok=True)
            # the pool's open connections would go on from their page caches for a while; the
            # next connection (another worker, a recycled one) reads the damaged file
            db.engine.dispose()

            await pilot.press("3")  # busy
            await settle(pilot)
            assert app.outbox.count() == 1
            kept = app.outbox.pending()[0]
            assert (kept.outcome, kept.business_id) == ("busy", shown)
            assert kept.notes == typed
            said = "\n".join([str(screen.query_one("#banner").render()), *_notices(app)])
            assert "endommagée" in said and "outreach db backup" in said, said
            assert "inattendue" not in said, said
    finally:
        db.dispose()
