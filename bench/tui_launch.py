"""The app under the benchmark's auto-pilot (TUI start and memory, `scripts/bench.py`).

    OUTREACH_BENCH_FIRST_BUSINESS=<file> python -m bench.tui_launch --agent LOGIN

runs `outreach --agent LOGIN` (the same command line, the same start path) with the app under an
auto-pilot that opens the first campaign of the logged-in agent as soon as the list is loaded,
waits for the first business to be drawn, writes to <file> one JSON line (the wall-clock moment
the call screen painted its first frame with a business, the moment the app was idle after it
by Textual's test harness, the process's resident memory) and exits. With OUTREACH_BENCH_CAMPAIGN=<name> it
opens that campaign rather than the first one; with OUTREACH_BENCH_CALLS=<n> it then records n
"no answer" outcomes (key 2) and measures memory after the last business is drawn.

The app knows nothing of this: the launcher wraps `OutreachApp.run` in its own process only.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App
    from textual.pilot import Pilot

ENV_MARKER = "OUTREACH_BENCH_FIRST_BUSINESS"
ENV_CAMPAIGN = "OUTREACH_BENCH_CAMPAIGN"
ENV_CALLS = "OUTREACH_BENCH_CALLS"
TIMEOUT = 120.0


def _status_kb(field: str) -> int:
    """A size from /proc/self/status (0 where there is none)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_kb() -> int:
    return _status_kb("VmRSS")


def _peak_rss_kb() -> int:
    """The process's peak resident set since it started this program. VmHWM, not getrusage's
    ru_maxrss, which keeps the peak of the parent's copy the process was forked from before
    exec (the benchmark, hundreds of MB after its earlier measures)."""
    return _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _until(test: Callable[[], Any], deadline: float) -> Any:
    while time.monotonic() < deadline:
        got = test()
        if got:
            return got
        await asyncio.sleep(0.002)
    raise TimeoutError("bench hook: timed out")


def _auto_pilot(path: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def pilot_run(pilot: Pilot[Any]) -> None:
        from outreach.tui.screens.call import CallScreen
        from outreach.tui.screens.campaigns import CampaignsScreen

        app = pilot.app
        deadline = time.monotonic() + TIMEOUT
        wanted = os.environ.get(ENV_CAMPAIGN)
        # the moment the call screen paints a frame with a business on it (its compositor's
        # "draw what changed" step, as tui_keys times it)
        painted: list[float] = []
        paint = CallScreen._compositor_refresh

        def first_business_painted(screen: CallScreen) -> None:
            paint(screen)
            if not painted and screen.current is not None and screen is screen.app.screen:
                painted.append(time.time())

        CallScreen._compositor_refresh = first_business_painted  # type: ignore[method-assign,assignment]  # the launcher's own hook
        try:
            screen = await _until(
                lambda: (
                    isinstance(app.screen, CampaignsScreen) and app.screen.campaigns and app.screen
                ),
                deadline,
            )
            chosen = next((c for c in screen.campaigns if c.name == wanted), screen.campaigns[0])
            app.open_campaign(chosen)  # type: ignore[attr-defined]  # pilot.app: an OutreachApp
            call = await _until(
                lambda: (
                    isinstance(app.screen, CallScreen)
                    and app.screen.current is not None
                    and app.screen
                ),
                deadline,
            )
            await _until(lambda: painted, deadline)
            await pilot.pause()  # drawn, and the app idle (Textual's test harness: its CPU
            idle = time.time()  # sampled over 20 ms sleeps, with one more frame forced)
            for _ in range(int(os.environ.get(ENV_CALLS) or 0)):
                before = call.current.task_id

                def moved_on(before: int = before) -> bool:
                    return call.current is not None and call.current.task_id != before

                await pilot.press("2")
                await _until(moved_on, deadline)
                await pilot.pause()
            record: dict[str, Any] = {
                "shown_at": painted[0],
                "idle_at": idle,
                "rss_kb": _rss_kb(),
                "max_rss_kb": _peak_rss_kb(),
            }
        except Exception as exc:  # noqa: BLE001 - reported to the benchmark, which fails the row
            record = {"error": repr(exc)}
        with open(path, "w") as out:
            out.write(json.dumps(record) + "\n")
        app.exit()

    return pilot_run


def main(argv: list[str] | None = None) -> None:
    """`outreach ARGV...` with every app it runs under the auto-pilot (see the docstring)."""
    import gc

    path = os.environ.get(ENV_MARKER)
    if not path:
        raise SystemExit(f"bench.tui_launch: {ENV_MARKER}=<file> is required")
    # the order of the real start: the CLI's modules, then the app's with the collector off
    # (outreach.cli.tui does the same before it imports the app)
    from outreach.cli import main as outreach_main

    gc.disable()
    from outreach.tui.app import OutreachApp

    run = OutreachApp.run

    def run_with_pilot(self: App[Any], *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("auto_pilot", _auto_pilot(path))
        return run(self, *args, **kwargs)

    OutreachApp.run = run_with_pilot  # type: ignore[method-assign]  # the launcher's own run
    outreach_main(argv)


if __name__ == "__main__":
    main()
