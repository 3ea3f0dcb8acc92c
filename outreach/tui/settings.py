"""What the app is started with: who logs in, whether PINs are required, the clock, timings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from outreach.domain.geography import PARIS


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TuiSettings:
    agent_login: str | None = None  # skip the login screen for this agent (unless it has a PIN)
    require_pin: bool = False  # every agent must type a PIN (the app served to other hosts)
    # the browser's address when served (the source of login attempts)
    remote_address: str | None = None
    clock: Callable[[], datetime] | None = None  # a fixed clock for tests; None: real time
    display_timezone: str = PARIS  # the agent's own times (callbacks list, header)
    outbox_dir: Path | None = None  # None: the user data directory
    lease_renew_seconds: float = 60.0
    replay_seconds: float = 10.0
    empty_retry_seconds: float = 30.0
    callback_check_seconds: float = 30.0  # due callbacks looked for (the alert banner)
    callback_bell: bool = False  # the terminal bell when a callback falls due (`--bell`)
    heartbeat_seconds: float = 60.0  # the adviser's state confirmed (services.agent_states.LEASE)
    session_seconds: float = 15.0  # this run's session confirmed (services.sessions.EXPIRY)
    # other advisers' run-out states closed (services.agent_states.close_expired), at the first
    # state write after each such interval from login (the heartbeat writes every minute)
    sweep_seconds: float = 60.0
    # a wrap-up shows in the timer line once it has lasted this long (widgets.day_bar)
    wrap_up_shown_after: float = 0.2

    def now(self) -> datetime:
        """Now, aware UTC (the fixed clock when one is set)."""
        return (self.clock or _utc_now)()

    def now_arg(self) -> datetime | None:
        """What services get as `now=`: None (their own clock) unless a fixed clock is set."""
        return self.clock() if self.clock else None
