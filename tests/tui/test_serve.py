"""`outreach serve` in a real browser: headless Chromium (Debian's chromium, installed by .ci/run)
loads the page, the app starts behind it, and typing a login in the browser logs in (the audit
row proves the app ran against our database); the card's phone and e-mail are links a click
opens (tel:, mailto:). Also: no serving beyond localhost without PINs."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from outreach.cli import cli
from outreach.cli.tui import is_local_host
from outreach.db.engine import Database
from outreach.db.models import Agent, AuditLog, Business, Call
from tests.tui.conftest import World
from tests.waiting import wait_for, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    def listening() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the process ended early ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False

    wait_until(listening, f"something listens on port {port}", timeout=timeout)


class Cdp:
    """Just enough of the Chrome DevTools protocol: send a command, wait for its answer."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0

    async def __call__(self, method: str, **params: object) -> dict:
        self.next_id += 1
        await self.ws.send_str(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads((await self.ws.receive()).data)
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    async def js(self, expression: str) -> object:
        result = await self("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def drawn(self, text: str, since: int = 0) -> bool:
        """Has the app drawn `text` in the page (in what it sent after the first `since`
        characters)? See RECORD_DRAWN."""
        return bool(await self.js(f"window.__drawn.indexOf({json.dumps(text)}, {since}) >= 0"))

    async def drawn_so_far(self) -> int:
        return int(str(await self.js("window.__drawn.length")))

    async def key(self, key: str, code: int, text: str) -> None:
        for kind in ("keyDown", "keyUp"):
            await self(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=key,
                windowsVirtualKeyCode=code,
                **({"text": text} if kind == "keyDown" else {}),
            )


def _calls(db: Database) -> list[tuple[str, str]]:
    with db.reading() as s:
        return [
            (login, outcome)
            for login, outcome in s.execute(
                select(Agent.login, Call.outcome).join(Agent, Agent.id == Call.agent_id)
            )
        ]


def _logins(db: Database) -> list[str]:
    with db.reading() as s:
        return list(
            s.execute(
                select(Agent.login)
                .join(AuditLog, AuditLog.agent_id == Agent.id)
                .where(AuditLog.action == "login")
            ).scalars()
        )


# what the app sends to the page's terminal, kept as text in window.__drawn (set up before the
# page's own script opens its websocket): the tests wait until the app has drawn what they need
RECORD_DRAWN = """
window.__drawn = '';
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    const decoder = new TextDecoder();
    this.addEventListener('message', (e) => {
      if (typeof e.data !== 'string') window.__drawn += decoder.decode(e.data, {stream: true});
    });
  }
};
"""

# the page's window.open, recorded instead of leaving the page (tel: would start a softphone)
RECORD_OPENED = (
    "window.__opened = []; window.open = (...args) => { window.__opened.push(args.map(String)); "
    "return null; }; window.confirm = (text) => { window.__opened.push(['confirm', text]); "
    "return false; };"
)


async def _click_the_card(cdp: Cdp) -> list[list[str]]:
    """Click across the business card (its left part, where the phones and the e-mail are;
    never the outcome keys below it), then what the page was asked to open."""
    await cdp.js(RECORD_OPENED)
    rect = json.loads(
        str(
            await cdp.js(
                "JSON.stringify(document.querySelector('.xterm-screen').getBoundingClientRect())"
            )
        )
    )
    for fy in range(8, 31):
        for fx in range(5, 41):
            x = rect["x"] + fx / 100 * rect["width"]
            y = rect["y"] + fy / 100 * rect["height"]
            for kind in ("mousePressed", "mouseReleased"):
                await cdp(
                    "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
                )
    opened: list[list[str]] = []

    async def both_opened() -> bool:
        nonlocal opened
        opened = json.loads(str(await cdp.js("JSON.stringify(window.__opened)")))
        return {o[0] for o in opened} >= {"tel:+33612345601", "mailto:contact@boulangerie.fr"}

    await wait_for(None, both_opened, lambda: f"the page opened tel: and mailto: ({opened})")
    return opened


async def _browse(url: str, profile: Path, db: Database, shot: Path) -> list[list[str]]:
    browser = subprocess.Popen(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0"]
        + ["--window-size=1200,800", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        await wait_for(
            None,
            lambda: port_file.exists() and port_file.read_text().strip(),
            "chromium started (its DevToolsActivePort file)",
            timeout=30,
        )
        devtools = int(port_file.read_text().split()[0])
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{devtools}/json/list") as resp:
                pages = [p for p in await resp.json() if p["type"] == "page"]
            async with http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                cdp = Cdp(ws)
                await cdp("Page.enable")
                await cdp("Page.addScriptToEvaluateOnNewDocument", source=RECORD_DRAWN)
                await cdp("Page.navigate", url=url)
                # textual.js marks the body "-first-byte" once the app's first screen arrives
                await wait_for(
                    None,
                    lambda: cdp.js(
                        "document.body && document.body.classList.contains('-first-byte')"
                    ),
                    "the app drew in the page",
                    timeout=30,
                )
                # the login form, down to its PIN field (its placeholder: no words, any language)
                await wait_for(None, lambda: cdp.drawn("••••"), "the login form drawn", timeout=30)
                await cdp.js("document.querySelector('.xterm-helper-textarea').focus()")
                await cdp("Input.insertText", text="claire")
                await wait_for(None, lambda: cdp.drawn("claire"), "the login typed shown")
                mark = await cdp.drawn_so_far()
                await cdp.key("Enter", 13, "\r")
                # Entrée moved to the PIN field: the app draws that field again (with its cursor)
                await wait_for(None, lambda: cdp.drawn("•••", mark), "the PIN field focused")
                await cdp.key("Enter", 13, "\r")
                await wait_for(
                    None, lambda: "claire" in _logins(db), "claire logged in", timeout=30
                )
                # textual-serve's splash (logo and name) is gone, the terminal is shown
                splash = await cdp.js(
                    "getComputedStyle(document.querySelector('.intro-dialog')).display"
                )
                assert splash == "none", f"the splash page is still shown ({splash!r})"
                # the campaigns screen: Entrée opens the campaign, 2 records "Pas de réponse"
                await wait_for(
                    None, lambda: cdp.drawn("Confinement 2"), "the campaigns screen drawn"
                )
                await cdp.key("Enter", 13, "\r")
                # the call screen loads its business in a worker, then draws its card
                await wait_for(
                    None,
                    lambda: cdp.drawn("Boulangerie du Marché"),
                    "the first business's card drawn",
                    timeout=30,
                )
                # the phone and the e-mail are links a click opens (tel:, mailto:)
                opened = await _click_the_card(cdp)
                await cdp.key("2", 50, "2")
                await wait_for(None, lambda: _calls(db), "the outcome recorded", timeout=30)
                # the screenshot shows the next business
                await wait_for(None, lambda: cdp.drawn("Coiffure Élodie"), "the next card drawn")
                png = await cdp("Page.captureScreenshot", format="png")
                import base64

                shot.write_bytes(base64.b64decode(png["data"]))
                return opened
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()


@pytest.mark.slow
def test_serve_in_headless_chromium(world: World, tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "chromium is missing: apt-get install -y chromium (.ci/run)"
    with world.db.writing() as s:
        s.execute(
            update(Business)
            .where(Business.id == world.business_ids[0])
            .values(email="contact@boulangerie.fr")
        )
    port = _free_port()
    url = world.db.url.render_as_string(hide_password=False)
    env = {**os.environ, "OUTREACH_DATA_DIR": str(tmp_path / "data")}
    server = subprocess.Popen(
        [sys.executable, "-m", "outreach", "--db", url, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the app processes end with it
    )
    try:
        _wait_port(port, server)
        # kept for people to look at: CI keeps $OUTREACH_ARTIFACTS (see .ci/run)
        shots = Path(os.environ.get("OUTREACH_ARTIFACTS") or tmp_path)
        shots.mkdir(parents=True, exist_ok=True)
        shot = shots / "serve.png"
        opened = asyncio.run(
            _browse(f"http://127.0.0.1:{port}/", tmp_path / "chromium", world.db, shot)
        )
        # xterm.js in the page opens only http(s) hyperlinks: these are the app's own clicks,
        # opened by the page in a new tab, with no "dangerous link" question
        assert {tuple(o) for o in opened} == {
            ("tel:+33612345601", "_blank"),
            ("mailto:contact@boulangerie.fr", "_blank"),
        }, opened
        assert _logins(world.db) == ["claire"], "typing in the browser did not log in"
        assert _calls(world.db) == [("claire", "no_answer")], "no outcome recorded in the page"
        assert shot.stat().st_size > 1000
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def test_serve_refuses_other_hosts_without_pins(world: World) -> None:
    url = world.db.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        cli, ["--db", url, "serve", "--host", "0.0.0.0"], obj=None, catch_exceptions=False
    )
    assert result.exit_code == 2
    assert "--pin-required" in result.output
    assert is_local_host("127.0.0.1") and is_local_host("localhost") and is_local_host("::1")
    assert not is_local_host("0.0.0.0") and not is_local_host("192.168.1.10")


def test_serve_on_a_busy_port_says_so_in_one_line(world: World) -> None:
    url = world.db.url.render_as_string(hide_password=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "outreach", "--db", url, "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "OUTREACH_LANG": "fr"},
        )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""  # no "servi sur" first
    assert done.stderr.strip() == (
        f"erreur : le port {port} est déjà pris sur 127.0.0.1 (un autre « outreach serve » ?) : "
        "arrêtez ce programme ou choisissez un autre port avec --port"
    )


@pytest.mark.slow
def test_serve_closes_a_crashed_apps_state_by_itself(world: World) -> None:
    """A crashed app's agent state (lease run out) is stored as closed by `outreach serve`'s
    sweeper, with no browser connected and nobody calling close_expired."""
    from datetime import UTC, datetime, timedelta

    from outreach.db.models import AgentStateEvent
    from outreach.services import agent_states

    crashed = datetime.now(UTC) - timedelta(hours=1)
    agent_states.set_state(world.db, world.agent_id, "ready", now=crashed)
    url = world.db.url.render_as_string(hide_password=False)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "outreach", "--db", url, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def states() -> list[tuple[str, object]]:
        with world.db.reading() as s:
            return [
                (r.state, r.ended_at)
                for r in s.execute(
                    select(AgentStateEvent)
                    .where(AgentStateEvent.agent_id == world.agent_id)
                    .order_by(AgentStateEvent.id)
                ).scalars()
            ]

    try:
        _wait_port(port, server)
        wait_until(
            lambda: states()[-1][0] == "logged_out",
            lambda: f"the crashed state closed by the sweeper ({states()})",
            timeout=30,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    expiry = (crashed + agent_states.LEASE).replace(tzinfo=None)
    assert states() == [("ready", expiry), ("logged_out", None)]
