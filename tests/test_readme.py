"""The README as a new user follows it (issue #16): the quickstart's demo, then every command of
the supervisors' section, typed as written, against a fresh data directory, exit 0 each.

The commands run with the virtualenv's bin directory first on PATH, as `. .venv/bin/activate`
leaves it (the README says to activate it once after the quickstart)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shlex
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=$]*[a-zA-Z~]|\x1b\][^\x07]*\x07")


def block_after(heading: str, index: int = 0) -> list[str]:
    """The commands of the `index`-th ```sh block after `heading`: continuation lines joined,
    blank and comment-only lines left out."""
    section = README[README.index(heading) :]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    text = blocks[index].replace("\\\n", " ")
    return [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def _user_env(data: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OUTREACH_") and k not in ("VIRTUAL_ENV", "COLUMNS", "LINES")
    }
    env.update(
        PATH=f"{BIN}{os.pathsep}/usr/bin{os.pathsep}/bin",
        OUTREACH_DATA_DIR=str(data),
        OUTREACH_LANG="fr",
        TERM="xterm-256color",
    )
    return env


def open_demo(env: dict[str, str], cwd: Path) -> str:
    """`outreach demo` on a pseudo-terminal: wait for the app's first screen, quit with ctrl+q;
    what the terminal showed, without its escape sequences."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [str(BIN / "outreach"), "demo"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=cwd,
        close_fds=True,
        start_new_session=True,
    )
    os.close(follower)
    seen, quit_sent = b"", 0.0
    deadline = time.monotonic() + 300  # a stuck app fails the test instead of hanging it
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            ready, _w, _x = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(leader, 65536)
                except OSError:  # the app closed the terminal: it is ending
                    proc.wait(30)
                    break
            # the app's first screen (its footer's first key) is drawn: ctrl+q, again if a loaded machine
            # let the first one arrive before the app listened
            drawn = b"Mes rappels" in ESCAPES.sub(b"", seen)
            if drawn and time.monotonic() - quit_sent > 5:
                os.write(leader, b"\x11")
                quit_sent = time.monotonic()
        shown = ESCAPES.sub(b"", seen).decode("utf-8", "replace")
        assert quit_sent, f"the application never drew its first screen:\n{shown[-2000:]}"
        assert proc.poll() == 0, shown[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    return shown


def run_line(line: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def test_quickstart_commands_are_the_ones_tested() -> None:
    quickstart = block_after("## Quickstart")
    assert quickstart == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/outreach demo"
    ]
    assert block_after("## Quickstart", 2) == [". .venv/bin/activate"]


@pytest.mark.slow
def test_readme_from_the_demo_to_the_supervisors_commands(tmp_path: Path) -> None:
    env = _user_env(tmp_path / "data")
    work = tmp_path / "work"
    work.mkdir()
    assert (BIN / "outreach").exists(), "the console script is installed with the package"
    shown = open_demo(env, work)
    assert "Création de la base de démonstration" in shown
    assert (tmp_path / "data" / "outreach.sqlite3").exists()

    # `liste.csv` stands for the supervisor's own file: one business of BRE
    (work / "liste.csv").write_text(
        "siret;raison sociale;code postal;telephone\n"
        "35600000000048;Nouvelle boulangerie;35000;02 99 12 34 56\n",
        encoding="utf-8",
    )
    commands = block_after("### Supervisors")
    assert any(c.startswith("outreach report lockdowns") for c in commands)
    for line in commands:
        if line.startswith("export "):  # the shell keeps it for the next lines
            name, _eq, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0]
            continue
        done = run_line(line, env, work)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, line
    assert (work / "rapports" / "bilan-confinements.xlsx").exists()
    assert (work / "appels.xlsx").exists() and (work / "opposition.csv").exists()
    opposition = (work / "opposition.csv").read_text(encoding="utf-8-sig")
    assert "75141200800011" in opposition  # the README's own `dnc add`, in BRE


def test_help_in_both_languages_and_short_option(tmp_path: Path) -> None:
    env = _user_env(tmp_path / "data")
    french = run_line("outreach -h", env, tmp_path)
    assert french.returncode == 0 and french.stdout.startswith("Utilisation : outreach")
    english = run_line("outreach --lang en --help", env, tmp_path)
    assert english.stdout.startswith("Usage: outreach")
    assert "Log in directly as this agent." in english.stdout
    report = run_line("outreach report lockdowns -h", env, tmp_path)
    assert "Écrit le bilan des confinements" in report.stdout
