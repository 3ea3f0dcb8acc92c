"""Sending the queued e-mails: `outreach mail send` and the worker of `outreach serve`.

Each message due is taken by one sender only (queued -> sending, a compare-and-set UPDATE that
two senders cannot both win), handed to the SMTP server outside any transaction, then marked
sent. A refusal puts it back in the queue with a growing wait (domain.mail.RETRY_DELAYS) or, when
permanent or after the last attempt, marks it failed. A message found still `sending` long after
it was taken (its sender died in the middle) is marked failed, never retried: the server may have
accepted it, and a message is never sent twice. An opposition recorded after the message was
queued cancels it. Every attempt leaves an audit row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select, update

from outreach.db.engine import Database, Executor, retry_busy
from outreach.db.models import Business, EmailMessage
from outreach.domain import mail as rules
from outreach.services.audit import record_audit
from outreach.services.clock import from_db, to_db, utcnow
from outreach.services.mail.compose import mime_message
from outreach.services.mail.smtp import Connection, Permanent, SmtpConfig, Temporary, Unreachable

M = EmailMessage.__table__
# a sender holding a message longer than this has died: the message is given up, not resent
STALE_SENDING = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class SendReport:
    sent: int = 0
    retried: int = 0  # refused for now: queued again for later
    failed: int = 0  # refused for good, or out of attempts
    cancelled: int = 0  # the business opposed meanwhile
    interrupted: int = 0  # found `sending` from a sender that died: given up, not resent
    server_down: bool = False  # stopped early: the server could not be reached


def _audit(session: Executor, pk: int, action: str, now: datetime, **detail: object) -> None:
    record_audit(
        session,
        agent_id=None,  # the sender acts for the person who queued it (see email.queued)
        action=action,
        entity="email_message",
        entity_id=pk,
        detail=detail or None,
        at=now,
    )


def _give_up_interrupted(db: Database, now: datetime) -> int:
    with db.writing() as session:
        ids = list(
            session.scalars(
                update(M)
                .where(M.c.state == "sending", M.c.claimed_at < now - STALE_SENDING)
                .values(
                    state="failed",
                    last_error="interrupted while sending: not retried (it may have gone)",
                )
                .returning(M.c.id)
            )
        )
        for pk in ids:
            _audit(session, pk, "email.interrupted", now)
        return len(ids)


def _take(db: Database, pk: int, now: datetime) -> Any:
    """Hold message `pk` for this sender (None: another took it, or it is not due); an
    opposition recorded since it was queued cancels it here."""
    with db.writing() as session:
        row = session.execute(
            update(M)
            .where(M.c.id == pk, M.c.state == "queued", M.c.next_attempt_at <= now)
            .values(state="sending", claimed_at=now)
            .returning(
                M.c.id,
                M.c.business_id,
                M.c.message_id,
                M.c.to_address,
                M.c.subject,
                M.c.body_text,
                M.c.ics,
                M.c.attempts,
                M.c.created_at,
            )
        ).first()
        if row is None:
            return None
        opposed = session.scalar(select(Business.do_not_call).where(Business.id == row.business_id))
        if opposed:
            session.execute(update(M).where(M.c.id == pk).values(state="cancelled"))
            _audit(session, pk, "email.cancelled", now, reason=rules.OPPOSITION)
            return False
        return row


def _settle(db: Database, pk: int, attempts: int, now: datetime, error: Exception | None) -> str:
    """Record the attempt's result; the message's new state."""
    with db.writing() as session:
        if error is None:
            session.execute(
                update(M)
                .where(M.c.id == pk)
                .values(state="sent", sent_at=now, attempts=attempts, last_error=None)
            )
            _audit(session, pk, "email.sent", now, attempt=attempts)
            return "sent"
        delay = None if isinstance(error, Permanent) else rules.retry_delay(attempts)
        state = "failed" if delay is None else "queued"
        session.execute(
            update(M)
            .where(M.c.id == pk)
            .values(
                state=state,
                attempts=attempts,
                last_error=str(error)[:2000],
                next_attempt_at=now + delay if delay else now,
                claimed_at=None,
            )
        )
        _audit(
            session,
            pk,
            "email.retry" if delay else "email.failed",
            now,
            attempt=attempts,
            error=str(error)[:500],
            next_attempt_at=(now + delay).isoformat() if delay else None,
        )
        return state


def send_due(
    db: Database,
    config: SmtpConfig,
    *,
    now: datetime | None = None,
    limit: int = 500,
    connection: Callable[[SmtpConfig], Connection] = Connection,
) -> SendReport:
    """Send the messages due (at most `limit`), oldest first; what became of them."""
    at = to_db(now) if now else utcnow()
    counts = {"sent": 0, "queued": 0, "failed": 0, "cancelled": 0}
    interrupted = retry_busy(lambda: _give_up_interrupted(db, at))
    with db.reading() as session:
        due = list(
            session.scalars(
                select(M.c.id)
                .where(M.c.state == "queued", M.c.next_attempt_at <= at)
                .order_by(M.c.next_attempt_at, M.c.id)
                .limit(limit)
            )
        )
    smtp = connection(config)
    server_down = False
    try:
        for pk in due:
            row = retry_busy(partial(_take, db, pk, at))
            if row is False:
                counts["cancelled"] += 1
            if not row:
                continue
            message = mime_message(
                sender=config.sender,
                to=row.to_address,
                subject=row.subject,
                body=row.body_text,
                message_id=row.message_id,
                ics=row.ics,
                created_at=from_db(row.created_at),
            )
            error: Exception | None = None
            try:
                smtp.send(message)
            except (Temporary, Permanent) as exc:
                error = exc
            attempts = int(row.attempts) + 1
            state = retry_busy(lambda: _settle(db, pk, attempts, at, error))  # noqa: B023
            counts[state] += 1
            if isinstance(error, Unreachable):
                server_down = True  # no server: the rest waits for the next run
                break
    finally:
        smtp.close()
    return SendReport(
        sent=counts["sent"],
        retried=counts["queued"],
        failed=counts["failed"],
        cancelled=counts["cancelled"],
        interrupted=interrupted,
        server_down=server_down,
    )


class MailWorker(threading.Thread):
    """Sends the queued e-mails every `every` seconds until stopped (`outreach serve`)."""

    def __init__(self, db: Database, config: SmtpConfig, every: float = 30.0) -> None:
        super().__init__(name="outreach-mail", daemon=True)
        self.db, self.config, self.every = db, config, every
        self.stopping = threading.Event()
        self.last: SendReport | None = None
        self.last_error: str | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.last = send_due(self.db, self.config)
                self.last_error = None
            except Exception as exc:  # the database away: try again at the next round
                self.last_error = str(exc)
            self.stopping.wait(self.every)

    def stop(self) -> None:
        self.stopping.set()
