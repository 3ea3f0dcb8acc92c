"""The adviser's state as the app knows it, written through `services.agent_states` in order.

Screens say what the adviser does (`track`: a business shown, an outcome key, a pause...); each
change is queued with the moment it happened and written by a thread worker, one at a time and
in order, so a quick wrap-up then next business never lands the wrong way round. The app's
heartbeat writes the current state again (the service extends its lease). A database away just
skips the write: the next heartbeat puts the state back. The same writer stores other advisers'
run-out leases as closed (`agent_states.close_expired`): at the first write `sweep_seconds`
after login, then every `sweep_seconds` (a crashed app's state is closed even when no server
sweeps).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from textual.app import App

from outreach.errors import OutreachError
from outreach.services import agent_states
from outreach.services.backend import Backend
from outreach.services.outbox import UNREACHABLE
from outreach.services.types import AgentInfo
from outreach.tui.settings import TuiSettings


@dataclass(frozen=True, slots=True)
class Wanted:
    state: str
    at: datetime  # aware UTC
    reason: str | None = None
    note: str | None = None
    business_id: int | None = None
    campaign_id: int | None = None


class AgentDay:
    """The adviser's current state in the app and the writer of its changes."""

    def __init__(self, app: App[Any], backend: Backend, settings: TuiSettings) -> None:
        self.app = app  # runs the writer's thread workers
        self.backend = backend
        self.settings = settings
        self.agent: AgentInfo | None = None  # who is logged in (set by the app)
        self.current: Wanted | None = None
        self.last_wrap_up: timedelta | None = None  # the last wrap-up's length
        self.reasons: dict[str, str] = {}  # pause reason code -> label (read with the pause)
        self.listeners: list[Callable[[], None]] = []  # told of each change (the timer line)
        self._pending: deque[tuple[int, Wanted]] = deque()
        self._lock = threading.Lock()
        # time.monotonic() of the last close_expired; the first is due one sweep period after
        # login, not at it: at login it took the write lock while the app drew its first
        # business (a scan of every open state, ~100 ms cold at national scale, and the app's
        # own state write waiting ~50 ms behind it). Readers already count a run-out lease as
        # ended; the sweep only stores it
        self._swept_at: float = time.monotonic()

    @property
    def paused(self) -> bool:
        return self.current is not None and self.current.state == "paused"

    def track(
        self,
        state: str,
        *,
        reason: str | None = None,
        note: str | None = None,
        business_id: int | None = None,
        campaign_id: int | None = None,
    ) -> None:
        """The adviser is now in `state` (queued, written in a thread worker)."""
        agent = self.agent
        if agent is None:
            return
        now = self.settings.now()
        before = self.current
        if before is not None and before.state == "wrap_up" and state != "wrap_up":
            self.last_wrap_up = now - before.at
        self.current = Wanted(state, now, reason, note, business_id, campaign_id)
        self._pending.append((agent.id, self.current))
        self._start()
        for listener in self.listeners:
            listener()

    def reason_label(self, code: str) -> str:
        return self.reasons.get(code, code)

    def heartbeat(self) -> None:
        """The current state again, now: the service extends its lease."""
        agent, wanted = self.agent, self.current
        if agent is None or wanted is None:
            return
        again = Wanted(wanted.state, self.settings.now(), *_details(wanted))
        self._pending.append((agent.id, again))
        self._start()

    def _start(self) -> None:
        self.app.run_worker(self._drain, thread=True, exit_on_error=False, group="agent_state")

    def drain(self) -> None:
        """Write every queued change, in order (also called at exit, in the caller's thread)."""
        self._drain()

    def _drain(self) -> None:
        with self._lock:
            while self._pending:
                agent_id, wanted = self._pending.popleft()
                try:
                    self.backend.call(
                        agent_states.set_state,
                        agent_id,
                        wanted.state,
                        reason=wanted.reason,
                        note=wanted.note,
                        business_id=wanted.business_id,
                        campaign_id=wanted.campaign_id,
                        now=wanted.at,
                    )
                except UNREACHABLE:
                    continue  # the heartbeat writes the state again when the database is back
                except OutreachError as exc:
                    self.app.log.error(f"agent state {wanted.state}: {exc}")
            self._sweep()

    def _sweep(self) -> None:
        """Run-out leases of the advisers this person may see stored as closed, when due."""
        every = self.settings.sweep_seconds
        started = time.monotonic()
        if started - self._swept_at < every:
            return
        try:
            self.backend.call(agent_states.close_expired, now=self.settings.now_arg())
        except UNREACHABLE:
            return  # tried again at the next write
        except OutreachError as exc:
            self.app.log.error(f"close_expired: {exc}")
        self._swept_at = started


def _details(w: Wanted) -> tuple[str | None, str | None, int | None, int | None]:
    return w.reason, w.note, w.business_id, w.campaign_id
