"""Fixtures of the TUI tests: a real SQLite file with a small fixed world, Pilot helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from outreach.db.engine import Database
from outreach.domain.siret import luhn_complete
from outreach.services.backend import Backend
from outreach.tui.app import OutreachApp, make_app
from outreach.tui.settings import TuiSettings
from tests.factories import make_agent, make_business, make_campaign, make_task
from tests.waiting import wait_for

# A Tuesday, 10:00 in Paris: inside the default window.
FIXED_NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

NAMES = [
    ("Boulangerie du Marché", "75", "+33612345601", "10.71CZ", "Boulangerie"),
    ("Coiffure Élodie", "75", "+33612345602", "96.02AA", "Coiffure"),
    ("Garage des Tilleuls", "93", "+33612345603", "45.20AA", "Entretien automobile"),
    ("Fleurs de Bourbon", "974", "+262692123404", "47.76ZA", "Fleuriste"),
]
SIRETS = ["73282932000017", "44306184100013", "41953964800016", "51234567900017"]


def _extra(n: int) -> tuple[str, str, str, str, str, str]:
    siren = luhn_complete(f"{61000000 + n * 7:08d}")
    return (
        f"Atelier fixe {n}",
        "75",
        f"+336123457{n:02d}",
        "43.32AA",
        "Menuiserie",
        luhn_complete(siren + "0001"),
    )


@dataclass
class World:
    db: Database
    agent_id: int
    campaign_id: int
    business_ids: list[int]
    task_ids: list[int]


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A steady cursor, so snapshots do not depend on when they are taken."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


def build_world(db: Database, *, tasks: int = 4) -> World:
    """Claire (CMA France: every chamber) and a national campaign open all day, every day,
    with `tasks` businesses queued in a fixed order (the first ones closed by the lockdown)."""
    agent_id = make_agent(db, "claire", name="Claire Martin", chamber="CMAF")
    campaign_id = make_campaign(
        db,
        "Confinement 2 : commerces fermés",
        script_intro="Bonjour, je vous appelle de la CMA au sujet du confinement.",
    )
    business_ids, task_ids = [], []
    rows = [(*row, SIRETS[i]) for i, row in enumerate(NAMES)]
    rows += [_extra(n) for n in range(1, max(0, tasks - len(NAMES)) + 1)]
    for index, (name, dep, phone, code, label, siret) in enumerate(rows[:tasks]):
        bid = make_business(
            db,
            name,
            department=dep,
            phone=phone,
            siret=siret,
            trade_code=code,
            trade_label=label,
            address=f"{index + 1} rue de la République",
            city="Paris" if dep == "75" else ("Montreuil" if dep == "93" else "Saint-Denis"),
            postcode={"75": "75011", "93": "93100", "974": "97400"}[dep],
            status="closed_admin" if index % 2 == 0 else "open",
            sells_online=index == 1,
        )
        business_ids.append(bid)
        task_ids.append(make_task(db, campaign_id, bid, priority=100 - index))
    return World(db, agent_id, campaign_id, business_ids, task_ids)


@pytest.fixture
def world(sqlite_db: Database) -> World:
    return build_world(sqlite_db)


# pytest-textual-snapshot's snap_compare fixture: (app, press=, terminal_size=, run_before=) -> bool
SnapCompare = Callable[..., bool]


def app_for(db: Database, tmp_outbox: object = None, **settings: Any) -> OutreachApp:
    values: dict[str, Any] = {
        "replay_seconds": 3600.0,
        "lease_renew_seconds": 3600.0,
        "empty_retry_seconds": 3600.0,
    }
    values.update(settings)
    return make_app(Backend(db), TuiSettings(**values))


async def settle(pilot: Pilot[None], rounds: int = 100) -> None:
    """Wait until no worker runs and the messages they posted are handled."""
    app = pilot.app
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            await pilot.pause()
            if not any(w.is_running for w in app.workers):
                return
    raise AssertionError("workers still running")


def _palette_choice(app: OutreachApp) -> str:
    """The command the palette's Entrée would run now ("" when none is highlighted)."""
    palette = app.screen
    if not isinstance(palette, CommandPalette):
        return ""
    commands = palette.query_one(CommandList)
    if commands.highlighted is None:
        return ""
    return str(commands.get_option_at_index(commands.highlighted).prompt)


async def palette_run(pilot: Pilot[None], search: str, command: str) -> None:
    """Open the command palette, type `search`, wait until `command` is the one highlighted
    (the palette searches in a worker), then Entrée."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*search)
    app = pilot.app
    assert isinstance(app, OutreachApp)
    await wait_for(
        pilot,
        lambda: command in _palette_choice(app),
        lambda: (
            f"the palette offers {command!r} for {search!r} (highlighted: {_palette_choice(app)!r})"
        ),
    )
    await pilot.press("enter")


@pytest.fixture
def fixed_clock() -> Iterator[datetime]:
    yield FIXED_NOW
