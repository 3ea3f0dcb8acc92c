"""Never lose a call: with the database gone, an outcome goes to the local outbox, the screen
says how many calls wait, and the call is replayed exactly once (same uuid) when the database is
back, by the running app or by the next start of the app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.pilot import Pilot

from outreach.db.engine import Database, open_database
from outreach.db.models import Call
from outreach.tui.screens.call import CallScreen
from tests.dbutil import Templates, _admin
from tests.tui.conftest import app_for, build_world, settle


class MovableDatabase:
    """A SQLite file in its own directory, which the test takes away and brings back."""

    def __init__(self, root: Path, template: Path) -> None:
        self.home = root / "dbdir"
        self.away = root / "dbdir-away"
        self.home.mkdir()
        shutil.copyfile(template, self.home / "outreach.sqlite3")
        self.db = open_database(f"sqlite:///{self.home / 'outreach.sqlite3'}")

    def take_away(self) -> None:
        self.home.rename(self.away)
        self.db.engine.dispose()  # open connections would keep the moved file alive

    def bring_back(self) -> None:
        self.away.rename(self.home)


@pytest.fixture
def movable(templates: Templates, tmp_path: Path) -> Iterator[MovableDatabase]:
    m = MovableDatabase(tmp_path, templates.sqlite())
    yield m
    m.db.dispose()


class PgOutage:
    """A PostgreSQL database that refuses connections for a while (a server away)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.name = db.url.database

    def take_away(self) -> None:
        _admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        _admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()"
        )

    def bring_back(self) -> None:
        _admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


async def test_outbox_on_postgresql_server_away(pg_db: Database) -> None:
    build_world(pg_db, tasks=3)
    outage = PgOutage(pg_db)
    # straight in as claire: PostgreSQL's login screen asks for a person's own role and password
    app = app_for(pg_db, agent_login="claire")
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(pilot.app.screen, CallScreen)
            outage.take_away()
            await pilot.press("4")  # voicemail
            await settle(pilot)
            assert app.outbox.count() == 1 and app.outbox_waiting == 1
            kept = app.outbox.pending()[0]
            outage.bring_back()
            app.replay_outbox()
            await settle(pilot)
            assert app.outbox_waiting == 0 and not app.outbox.path.exists()
            screen = app.screen
            assert isinstance(screen, CallScreen) and screen.current is not None
    finally:
        outage.bring_back()
    assert [(c[0], c[1]) for c in _calls(pg_db)] == [(kept.uuid, "voicemail")]


def _calls(db: Database) -> list[tuple[str, str, int]]:
    with db.reading() as s:
        rows = s.execute(select(Call.uuid, Call.outcome, Call.business_id))
        return [(call_uuid, outcome, business) for call_uuid, outcome, business in rows]


async def _to_call_screen(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press(*"claire", "enter", "enter")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CallScreen)


async def test_outbox_while_database_is_away_then_replay(movable: MovableDatabase) -> None:
    world = build_world(movable.db, tasks=3)
    app = app_for(movable.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _to_call_screen(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen) and screen.current is not None
        first = screen.current.business.id

        movable.take_away()
        await pilot.press("3")  # busy
        await settle(pilot)
        assert app.outbox_waiting == 1
        assert app.outbox.count() == 1
        kept = app.outbox.pending()[0]
        assert (kept.outcome, kept.business_id) == ("busy", first)
        assert screen.current is None
        banner = str(screen.query_one("#banner").render())
        assert "injoignable" in banner and "1 appel(s) en attente" in banner
        assert "1 appel(s) en attente de la base" in str(screen.query_one("StatusBar").render())

        app.replay_outbox()  # still away: nothing changes, nothing is lost
        await settle(pilot)
        assert app.outbox.count() == 1

        movable.bring_back()
        app.replay_outbox()
        await settle(pilot)
        assert app.outbox_waiting == 0
        assert not app.outbox.path.exists()
        # the screen fetched the next business on its own once the database was back
        assert screen.current is not None and screen.current.business.id != first
        app.replay_outbox()  # a second replay finds nothing to send
        await settle(pilot)

    assert _calls(movable.db) == [(kept.uuid, "busy", world.business_ids[0])]


async def test_outbox_replayed_after_restart(movable: MovableDatabase) -> None:
    build_world(movable.db, tasks=3)
    app = app_for(movable.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _to_call_screen(pilot)
        movable.take_away()
        await pilot.press("2")
        await settle(pilot)
        assert app.outbox.count() == 1
        kept = app.outbox.pending()[0]
    movable.bring_back()
    assert _calls(movable.db) == []

    # a new start of the app (same database, same data directory) sends it once the agent
    # who made the call logs in, not before
    again = app_for(movable.db)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert _calls(movable.db) == [] and again.outbox.count() == 1
        await pilot.press(*"claire", "enter", "enter")
        await settle(pilot)
        assert again.outbox_waiting == 0
    assert [c[0] for c in _calls(movable.db)] == [kept.uuid]
    assert not again.outbox.path.exists()


async def test_header_counts_the_replayed_calls_without_f5(movable: MovableDatabase) -> None:
    """Calls kept offline then replayed by a new start of the app: the header's "today" counts
    come from the database once the replay is done, then the login's count is not zero."""
    build_world(movable.db, tasks=3)
    app = app_for(movable.db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _to_call_screen(pilot)
        movable.take_away()
        await pilot.press("2")
        await settle(pilot)
        assert app.calls_today == 1
    movable.bring_back()
    again = app_for(movable.db)
    async with again.run_test(size=(100, 30)) as pilot:
        await _to_call_screen(pilot)
        await settle(pilot)
        assert again.outbox_waiting == 0
        assert again.calls_today == 1  # from the database (the replayed call), no F5
        assert "Aujourd'hui : 1 appel" in str(again.screen.query_one("StatusBar").render())
