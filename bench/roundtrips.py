#!/usr/bin/env python
"""Round trips of one claim + record on PostgreSQL: the project's services against the bare twin.

    python -m bench.roundtrips URL [--calls N]

URL is a PostgreSQL database seeded with the national profile (`outreach seed --profile
national`). Both sides connect through a small TCP proxy on 127.0.0.1 that counts the turns of
the conversation: a round trip is the client speaking after the server last spoke (or first), so
statements sent together in one flush (a pipeline, a multi-statement query) count once, and a
BEGIN or COMMIT the driver sends on its own counts as what it is. The proxy also counts the
protocol messages the client sent (Parse, Bind, Execute, Query, Sync...). Each side claims and
records N calls (default 27: every outcome of the catalogue in turn, "reached" with a referral,
all with a script answer) after two warm-up rounds; the figures are per claim and per record,
and per outcome for the record.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench.bare import BareAgent
from bench.calls import call_on
from outreach.db.engine import open_database
from outreach.db.models import Agent, Campaign
from outreach.domain.outcomes import OUTCOMES_BY_CODE
from outreach.services.clock import utcnow
from outreach.services.queue import claim_next, record_call
from outreach.services.types import ReferralInput

LIVE_CAMPAIGN = "Accompagnement numérique des artisans (en cours)"
OUTCOMES = tuple(OUTCOMES_BY_CODE)  # every outcome of the catalogue, in turn


class Proxy:
    """A TCP proxy to PostgreSQL that counts conversational turns and frontend messages."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.lock = threading.Lock()
        self.turns = 0
        self.messages: Counter[str] = Counter()
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> tuple[int, Counter[str]]:
        with self.lock:
            out = (self.turns, self.messages)
            self.turns, self.messages = 0, Counter()
            return out

    def _accept(self) -> None:
        while True:
            client, _ = self.server.accept()
            upstream = socket.create_connection(self.target)
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            state = {"last": "server", "buf": b"", "started": False}
            threading.Thread(
                target=self._pump, args=(client, upstream, "client", state), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, "server", state), daemon=True
            ).start()

    def _count_messages(self, state: dict[str, Any], data: bytes) -> None:
        buf = state["buf"] + data
        if not state["started"]:  # the startup packet has no type byte
            if len(buf) < 4:
                state["buf"] = buf
                return
            n = int.from_bytes(buf[:4], "big")
            if len(buf) < n:
                state["buf"] = buf
                return
            buf = buf[n:]
            if n != 8:  # an SSLRequest (8 bytes) is followed by the real startup packet
                state["started"] = True
        while len(buf) >= 5:
            n = int.from_bytes(buf[1:5], "big")
            if len(buf) < 1 + n:
                break
            self.messages[chr(buf[0])] += 1
            buf = buf[1 + n :]
        state["buf"] = buf

    def _pump(self, src: socket.socket, dst: socket.socket, side: str, state: dict) -> None:
        try:
            while data := src.recv(65536):
                with self.lock:
                    if side == "client":
                        if state["last"] == "server":
                            self.turns += 1
                        self._count_messages(state, data)
                    state["last"] = side
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


NAMES = {"P": "Parse", "B": "Bind", "E": "Execute", "S": "Sync", "Q": "Query", "D": "Describe"}


def _ids(url: str) -> tuple[int, int, int | None]:
    db = open_database(url)
    with db.reading() as s:
        campaign = s.execute(select(Campaign.id).where(Campaign.name == LIVE_CAMPAIGN)).scalar_one()
        agent, chamber = s.execute(
            select(Agent.id, Agent.chamber_id).where(Agent.login == "idf.agent1")
        ).one()
    db.dispose()
    return agent, campaign, chamber


def measure(url: str, calls: int = 27) -> dict[str, dict[str, Any]]:
    """{side: {"claim"/"record": (mean round trips, {message: mean count}), "by_outcome":
    {outcome: mean record round trips}}} over `calls` claims and records each."""
    u = make_url(url)
    proxy = Proxy(u.host or "127.0.0.1", u.port or 5432)
    proxied = u.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    agent_id, campaign_id, chamber_id = _ids(url)
    db = open_database(proxied, pool_size=1, max_overflow=0)
    bare = BareAgent(proxied, agent_id, campaign_id, chamber_id)

    def project(code: str) -> tuple[Any, Any]:
        proxy.reset()
        task = claim_next(db, agent_id, campaign_id)
        assert task is not None, "nothing to claim"
        claimed = proxy.reset()
        referrals = (ReferralInput("click_and_collect"),) if code == "reached" else ()
        record_call(
            db,
            call_on(task, agent_id, code, referrals=referrals, answers={"vente_en_ligne": "oui"}),
        )
        return claimed, proxy.reset()

    def bare_side(code: str) -> tuple[Any, Any]:
        proxy.reset()
        got = bare.claim(utcnow())
        assert got is not None, "nothing to claim"
        claimed = proxy.reset()
        now = utcnow()
        bare.record(
            str(uuid.uuid4()),
            got[0],
            got[1],
            code,
            now - timedelta(seconds=30),
            now,
            answers={"vente_en_ligne": "oui"},
            referral="click_and_collect" if code == "reached" else None,
        )
        return claimed, proxy.reset()

    out: dict[str, dict[str, Any]] = {}
    for name, fn in (("project", project), ("bare", bare_side)):
        for i in range(2 * len(OUTCOMES)):  # warm-up: psycopg prepares a statement at its 5th run
            fn(OUTCOMES[i % len(OUTCOMES)])
        seen: dict[str, list[Any]] = {"claim": [], "record": []}
        by_outcome: dict[str, list[int]] = {}
        for i in range(calls):
            code = OUTCOMES[i % len(OUTCOMES)]
            claimed, recorded = fn(code)
            seen["claim"].append(claimed)
            seen["record"].append(recorded)
            by_outcome.setdefault(code, []).append(recorded[0])
        side: dict[str, Any] = {}
        for step, got in seen.items():
            msgs: Counter[str] = Counter()
            for _, m in got:
                msgs.update(m)
            side[step] = (
                sum(t for t, _ in got) / len(got),
                {NAMES.get(k, k): v / len(got) for k, v in sorted(msgs.items())},
            )
        side["by_outcome"] = {k: sum(v) / len(v) for k, v in by_outcome.items()}
        out[name] = side
    bare.close()
    db.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("url")
    p.add_argument("--calls", type=int, default=27)
    args = p.parse_args(argv)
    out = measure(args.url, args.calls)
    print(f"per call, mean over {args.calls} calls (every outcome in turn)")
    print(f"{'side':8} {'step':7} {'round trips':>11}  messages sent by the client")
    for name, side in out.items():
        for step in ("claim", "record"):
            turns, msgs = side[step]
            text = ", ".join(f"{k} {v:g}" for k, v in msgs.items())
            print(f"{name:8} {step:7} {turns:11.2f}  {text}")
    for name, side in out.items():
        text = ", ".join(f"{k} {v:g}" for k, v in side["by_outcome"].items())
        print(f"{name} record round trips by outcome: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
