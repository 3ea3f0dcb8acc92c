"""A screen works from what its constructor is given and talks to its app by messages: the
campaigns screen hosted by a plain Textual app (not OutreachApp; only the status line's
`AppState`) with an AgentContext on a real SQLite file lists the agent's campaigns, and tells
its host what it showed and which campaign the agent picked (CampaignsShown, OpenCampaign,
CampaignEntered) without calling it."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.message import Message
from textual.reactive import reactive

from outreach.services import auth
from outreach.services.backend import Backend
from outreach.services.outbox import Outbox
from outreach.services.types import AgentInfo
from outreach.tui.agent_day import AgentDay
from outreach.tui.context import AgentContext, AppContext
from outreach.tui.messages import CampaignEntered, CampaignsShown, OpenCampaign
from outreach.tui.screens.campaigns import CampaignsScreen
from outreach.tui.settings import TuiSettings
from tests.tui.conftest import FIXED_NOW, World, settle


class Host(App[None]):
    """Records what the screen asks of it; knows nothing else of the agents' app. What the
    status line shows (`AppState`) is all it must have."""

    agent: reactive[AgentInfo | None] = reactive(None)
    campaign_name: reactive[str] = reactive("")
    calls_today: reactive[int] = reactive(0)
    reached_today: reactive[int] = reactive(0)
    outbox_waiting: reactive[int] = reactive(0)
    my_times: reactive[str] = reactive("")

    def __init__(self) -> None:
        super().__init__()
        self.context: AgentContext | None = None
        self.asked: list[Message] = []

    def on_mount(self) -> None:
        assert self.context is not None
        self.push_screen(CampaignsScreen(self.context))

    def on_campaigns_shown(self, message: CampaignsShown) -> None:
        self.asked.append(message)

    def on_open_campaign(self, message: OpenCampaign) -> None:
        self.asked.append(message)

    def on_campaign_entered(self, message: CampaignEntered) -> None:
        self.asked.append(message)


async def test_campaigns_screen_from_its_context_alone(world: World, tmp_path: Path) -> None:
    settings = TuiSettings(clock=lambda: FIXED_NOW, outbox_dir=tmp_path / "outbox")
    backend = Backend(world.db)
    agent = backend.call(auth.verify_login, "claire", None, now=FIXED_NOW)
    outbox = backend.call(Outbox.for_database, settings.outbox_dir)
    host = Host()
    day = AgentDay(host, backend, settings)
    host.context = AppContext(backend, settings, outbox, day).as_agent(agent)
    host.agent = agent
    async with host.run_test() as pilot:
        await settle(pilot)
        screen = host.screen
        assert isinstance(screen, CampaignsScreen)
        assert [c.name for c in screen.campaigns] == ["Confinement 2 : commerces fermés"]
        assert CampaignEntered("") in host.asked  # the status line: no campaign on this list
        shown = [m for m in host.asked if isinstance(m, CampaignsShown)]
        assert [c.id for c in shown[-1].campaigns] == [world.campaign_id]
        await pilot.press("enter")
        await settle(pilot)
        picked = [m for m in host.asked if isinstance(m, OpenCampaign)]
        assert [m.campaign.id for m in picked] == [world.campaign_id]
        assert host.screen is screen  # the host decides what opens: here, nothing
