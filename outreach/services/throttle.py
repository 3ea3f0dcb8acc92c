"""Wrong logins per address, for the app served to other hosts.

Each browser session of `outreach serve` is a process of its own, so the count lives in a file
of the data directory that every session reads and writes under a lock. The count per login is
the login's own lockout (services.auth); this one stops an address trying many logins.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from outreach.config import data_dir

MAX_PER_ADDRESS = 20
WINDOW = timedelta(minutes=15)
ENV_REMOTE_ADDRESS = "OUTREACH_REMOTE_ADDRESS"  # set by `outreach serve` for each session


class AddressThrottle:
    """Failed logins per remote address over the last WINDOW (a JSON file, locked)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / "login-failures.json"

    def _update(self, change: str | None, now: datetime) -> dict[str, list[str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                seen = json.loads(fh.read() or "{}")
            except ValueError:
                seen = {}  # a damaged file forgets, it does not lock everyone out
            oldest = (now - WINDOW).isoformat()
            kept = {a: [t for t in ts if t > oldest] for a, ts in seen.items()}
            if change is not None:
                kept.setdefault(change, []).append(now.isoformat())
            kept = {a: ts for a, ts in kept.items() if ts}
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps(kept))
            return kept

    def blocked_until(self, address: str | None, now: datetime) -> datetime | None:
        """When `address` may try again, or None if it may now."""
        if not address:
            return None
        times = self._update(None, now).get(address, [])
        if len(times) < MAX_PER_ADDRESS:
            return None
        return datetime.fromisoformat(times[-MAX_PER_ADDRESS]) + WINDOW

    def failed(self, address: str | None, now: datetime) -> None:
        if address:
            self._update(address, now)
