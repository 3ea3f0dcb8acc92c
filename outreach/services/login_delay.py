"""Wrong PINs and passwords: a progressive delay per login and per source, kept in the database.

One rule for every way in: the login screen (terminal or browser), the PostgreSQL password login
and the PIN a supervisors' command asks for (typed or OUTREACH_PIN). After FREE wrong attempts in
a row (typos), each further one makes the next attempt wait twice as long as the last: 15 s,
30 s, 1 min... up to LOGIN_CAP for a login, SOURCE_CAP for a source. While it waits, an attempt
is refused without the secret being checked (so it tells nothing, and is not counted).

- Per login: `agents.failed_pins` (wrong attempts in a row) and `agents.locked_until` (no attempt
  before). Only the right secret resets them (or a supervisor setting the PIN): nothing an
  attacker can do resets them. Capped at LOGIN_CAP, so nobody can shut a known login out for
  longer than that: the owner waits at most LOGIN_CAP for one more attempt.
- Per source (the browser's address when served, else the terminal and the system user, see
  `source_of`): audit_log rows of entity `login_source`, the latest one telling the failures in
  a row; a right secret from that source adds a row that resets it. One source trying many
  logins is slowed whatever logins it tries.

About 4 guesses an hour for a login at the cap (~100 a day), against the 480 a day a 15-minute
lockout after five allowed; from one source, one an hour.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outreach.db.models import Agent, AuditLog
from outreach.i18n import _
from outreach.services.audit import record_audit
from outreach.services.clock import from_db

FREE = 3  # wrong attempts in a row without any delay
BASE = timedelta(seconds=15)  # the first delay; doubled with each further wrong attempt
LOGIN_CAP = timedelta(minutes=15)
SOURCE_CAP = timedelta(hours=1)
ENV_REMOTE_ADDRESS = "OUTREACH_REMOTE_ADDRESS"  # set by `outreach serve` for each session
SOURCE = "login_source"  # audit_log.entity of the per-source rows


def delay_after(failures: int, cap: timedelta) -> timedelta:
    """How long the next attempt waits after `failures` wrong attempts in a row."""
    if failures < FREE:
        return timedelta(0)
    return min(cap, BASE * 2 ** min(failures - FREE, 20))


def source_of(address: str | None = None) -> str:
    """Where an attempt comes from: the browser's address (given, or set by `outreach serve`),
    else the terminal and the system user (a script without a terminal: the user alone)."""
    address = address or os.environ.get(ENV_REMOTE_ADDRESS, "").strip()
    if address:
        return f"addr:{address}"[:64]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    for fd in (0, 1, 2):
        try:
            return f"tty:{os.ttyname(fd)}:{user}"[:64]
        except OSError:
            continue
    return f"local:{user}"[:64]


@dataclass(frozen=True, slots=True)
class _SourceState:
    failures: int
    until: datetime | None


def _source_state(session: Session, source: str) -> _SourceState:
    latest = session.execute(
        select(AuditLog.action, AuditLog.at, AuditLog.detail)
        .where(AuditLog.entity == SOURCE, AuditLog.entity_id == source)
        .order_by(AuditLog.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest.action != "login_failed":
        return _SourceState(0, None)
    failures = int((latest.detail or {}).get("failures", 1))
    wait = delay_after(failures, SOURCE_CAP)
    return _SourceState(failures, latest.at + wait if wait else None)


def _wait_text(wait: timedelta) -> str:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    if seconds < 60:
        return _("{n} s").format(n=seconds)
    if seconds < 3600:
        return _("{n} min").format(n=(seconds + 59) // 60)
    return _("{n} h").format(n=(seconds + 3599) // 3600)


def _until_text(until: datetime, moment: datetime) -> str:
    shown = from_db(until)
    assert shown is not None
    return _("prochain essai possible dans {wait} (à {time} UTC)").format(
        wait=_wait_text(until - moment), time=shown.strftime("%H:%M:%S")
    )


def refusal(session: Session, agent: Agent | None, source: str, moment: datetime) -> str | None:
    """The message refusing an attempt made now, while the login or the source must wait;
    None when it may be checked. The refusal is audited (the secret is not checked)."""
    message = None
    if agent is not None and agent.locked_until is not None and agent.locked_until > moment:
        message = _("trop de tentatives erronées pour {login} : {next}").format(
            login=agent.login, next=_until_text(agent.locked_until, moment)
        )
    else:
        state = _source_state(session, source)
        if state.until is not None and state.until > moment:
            message = _("trop de tentatives erronées depuis ce poste : {next}").format(
                next=_until_text(state.until, moment)
            )
    if message is not None:
        record_audit(
            session,
            agent_id=None if agent is None else agent.id,
            action="login_refused",
            entity="agent",
            entity_id=None if agent is None else agent.id,
            detail={"reason": "delayed", "source": source},
            at=moment,
        )
    return message


def failed(
    session: Session, agent: Agent | None, login: str, source: str, moment: datetime
) -> str | None:
    """One more wrong attempt for `agent` (None: an unknown login) from `source`, audited. The
    wait it now imposes, as a message to add to the refusal, or None."""
    waits: list[datetime] = []
    if agent is not None:
        count = agent.failed_pins + 1
        wait = delay_after(count, LOGIN_CAP)
        until = moment + wait if wait else None
        session.execute(
            update(Agent).where(Agent.id == agent.id).values(failed_pins=count, locked_until=until)
        )
        record_audit(
            session,
            agent_id=agent.id,
            action="login_failed",
            entity="agent",
            entity_id=agent.id,
            detail={"failed_pins": count, "wait_seconds": int(wait.total_seconds())},
            at=moment,
        )
        if until is not None:
            waits.append(until)
    state = _source_state(session, source)
    failures = state.failures + 1
    record_audit(
        session,
        agent_id=None,
        action="login_failed",
        entity=SOURCE,
        entity_id=source,
        detail={"failures": failures, "login": login.strip()[:64]},
        at=moment,
    )
    source_wait = delay_after(failures, SOURCE_CAP)
    if source_wait:
        waits.append(moment + source_wait)
    if not waits:
        return None
    return _until_text(max(waits), moment)


def succeeded(session: Session, agent: Agent, source: str, moment: datetime) -> None:
    """The right secret: the login's and the source's counts start again."""
    if agent.failed_pins or agent.locked_until is not None:
        session.execute(
            update(Agent).where(Agent.id == agent.id).values(failed_pins=0, locked_until=None)
        )
    if _source_state(session, source).failures:
        record_audit(
            session,
            agent_id=agent.id,
            action="login_reset",
            entity=SOURCE,
            entity_id=source,
            detail={"reset": True},
            at=moment,
        )
