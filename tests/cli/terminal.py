"""Running `outreach` on a pseudo-terminal, as a person at a keyboard does."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time


def in_a_terminal(args: list[str], answers: list[str], env: dict[str, str]) -> str:
    """Run `outreach ARGS` on a pseudo-terminal, typing each answer after each prompt."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "outreach", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, **env},
        close_fds=True,
    )
    os.close(follower)
    seen = b""
    pending = list(answers)
    deadline = time.monotonic() + 60  # a hung prompt fails the test instead of hanging it
    while time.monotonic() < deadline:
        ready, _w, _x = select.select([leader], [], [], 1)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if pending and seen.rstrip().endswith(b":"):
            os.write(leader, pending.pop(0).encode() + b"\r")
    proc.wait(timeout=30)
    os.close(leader)
    return seen.decode("utf-8", "replace")
