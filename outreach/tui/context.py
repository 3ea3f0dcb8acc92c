"""What a screen is given by the app, in its constructor: the services (`Backend`), the settings
(clock, time zone, bell, timings), the outbox and the adviser's day; once logged in, the agent.

Screens read these and never the app object: what they want of the app (a campaign entered, a
call counted, another screen) they post as a message (`outreach.tui.messages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from outreach.services.backend import Backend
from outreach.services.outbox import Outbox
from outreach.services.types import AgentInfo
from outreach.tui.settings import TuiSettings

if TYPE_CHECKING:
    from outreach.tui.agent_day import AgentDay


@dataclass(frozen=True)
class AppContext:
    backend: Backend
    settings: TuiSettings
    outbox: Outbox
    day: AgentDay

    def as_agent(self, agent: AgentInfo) -> AgentContext:
        return AgentContext(self.backend, self.settings, self.outbox, self.day, agent)


@dataclass(frozen=True)
class AgentContext(AppContext):
    """The same for the screens of a logged-in adviser."""

    agent: AgentInfo


class AppState(Protocol):
    """What the app shows on every screen's status line (its reactive attributes): read by the
    widgets that show it, written only by the app."""

    agent: AgentInfo | None
    campaign_name: str
    calls_today: int
    reached_today: int
    outbox_waiting: int
    my_times: str
