"""Waiting in tests on the condition a test needs, never a fixed sleep hoping it happened: poll
briefly until the condition holds, and fail at the deadline saying what never happened.

`wait_until` from plain code (threads, processes), `wait_for` from async code: a Pilot (each
poll lets the app process its messages and timers) or plain asyncio (pilot=None); its
condition may be async (a question to a browser)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

POLL = 0.02  # seconds between two looks


What = str | Callable[[], str]  # what is awaited, said when it never came (a function: said as
# things stand at the deadline)


def _late(what: What, timeout: float) -> AssertionError:
    said = what if isinstance(what, str) else what()
    return AssertionError(f"waited {timeout:g} s and still not: {said}")


def wait_until(condition: Callable[[], object], what: What, *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise _late(what, timeout)
        time.sleep(POLL)


async def wait_for(
    pilot: Pilot[Any] | None,
    condition: Callable[[], object | Awaitable[object]],
    what: What,
    *,
    timeout: float = 10.0,
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if time.monotonic() > deadline:
            raise _late(what, timeout)
        if pilot is not None:
            await pilot.pause(POLL)
        else:
            await asyncio.sleep(POLL)
