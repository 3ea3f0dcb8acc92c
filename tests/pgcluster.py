"""A private PostgreSQL server for the one test that restarts its server.

Restarting the shared server would break the PostgreSQL tests other pytest-xdist workers run at
the same moment, so that test gets a throwaway cluster of its own (initdb in a temporary folder,
its own port, run as the `postgres` user when we are root), stopped and removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def private_cluster() -> Iterator[tuple[str, list[str]]]:
    """(SQLAlchemy URL of its `postgres` database, the command that restarts it)."""
    bindir = _bin_dir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    # directly under the temp dir: pytest's own tmp_path is private to root
    root = Path(tempfile.mkdtemp(prefix="outreach-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        root.chmod(0o777)
    data = root / "pgdata"
    port = _free_port()
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        capture_output=True,
    )
    ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log")]
    subprocess.run([*ctl, "-o", opts, "start"], check=True, capture_output=True)
    try:
        restart = [*ctl, "-o", opts, "-m", "fast", "restart"]
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", restart
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
