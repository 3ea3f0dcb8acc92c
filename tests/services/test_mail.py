"""E-mail to businesses through a real SMTP server (aiosmtpd on 127.0.0.1): queued once, sent
once, retried after a refusal, given up when refused for good, nothing for an opted-out firm."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from sqlalchemy import insert, select, update

from outreach.cli import cli
from outreach.db.engine import Database
from outreach.db.models import AuditLog, Business, Call, EmailMessage
from outreach.services.mail import sender
from outreach.services.mail.compose import Appointment
from outreach.services.mail.queueing import (
    MailDecision,
    queue_appointment_email,
    queue_referral_email,
)
from outreach.services.mail.smtp import Connection, parse_smtp_url
from tests.factories import make_agent, make_business, make_campaign
from tests.waiting import wait_until

NOW = datetime(2020, 11, 3, 9, 30)  # naive UTC, as stored


@dataclass
class Recorder:
    """An SMTP handler that keeps what it received; `refuse` answers the next DATA with it."""

    received: list[Any] = field(default_factory=list)
    refuse: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse:
            return self.refuse.pop(0)
        self.received.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        return "250 OK"


def _body(msg: Any) -> str:
    return str(msg.get_body(("plain",)).get_content())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    recorder: Recorder
    url: str


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    recorder = Recorder()
    port = _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Server(recorder, f"smtp://127.0.0.1:{port}?from=cma@example.org")
    finally:
        controller.stop()


@dataclass
class World:
    agent: int
    business: int
    call: int


def _call(db: Database, agent: int, business: int) -> int:
    campaign = make_campaign(db)
    with db.writing() as s:
        chamber = s.scalar(select(Business.chamber_id).where(Business.id == business))
        return int(
            s.execute(
                insert(Call)
                .values(
                    uuid=str(uuid.uuid4()),
                    campaign_id=campaign,
                    business_id=business,
                    agent_id=agent,
                    chamber_id=chamber,
                    started_at=NOW,
                    ended_at=NOW,
                    outcome="reached",
                    reached=True,
                    recorded_at=NOW,
                )
                .returning(Call.id)
            ).scalar_one()
        )


@pytest.fixture
def world(db: Database) -> World:
    agent = make_agent(db, "conseiller", name="Claire Martin")
    biz = make_business(db, "Boulangerie Dupont", email="contact@dupont.fr", address="1 rue Haute")
    return World(agent, biz, _call(db, agent, biz))


def _queue(db: Database, w: World, **kw: Any) -> MailDecision:
    with db.writing() as s:
        return queue_referral_email(
            s,
            business_id=w.business,
            call_id=w.call,
            agent_id=w.agent,
            referrals=kw.pop(
                "referrals", [("digital_diagnostic", None), ("platform", "Ma Ville Mon Shopping")]
            ),
            now=NOW,
            **kw,
        )


def _messages(db: Database) -> list[EmailMessage]:
    with db.reading() as s:
        return list(s.scalars(select(EmailMessage).order_by(EmailMessage.id)))


def _audit(db: Database) -> list[str]:
    with db.reading() as s:
        return list(
            s.scalars(
                select(AuditLog.action)
                .where(AuditLog.entity == "email_message")
                .order_by(AuditLog.id)
            )
        )


def test_queued_then_sent_once(db: Database, world: World, smtp_server: Server) -> None:
    decision = _queue(db, world)
    assert decision.queued and decision.to == "contact@dupont.fr"
    config = parse_smtp_url(smtp_server.url)

    report = sender.send_due(db, config, now=NOW)
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [msg] = smtp_server.recorder.received
    assert msg["To"] == "contact@dupont.fr" and msg["From"] == "cma@example.org"
    assert str(msg["Subject"]).startswith("CMA Île-de-France : suite à notre appel")
    body = _body(msg)
    assert "Claire Martin, conseiller de la CMA Île-de-France" in body
    assert "Diagnostic numérique" in body and "Plateforme de vente labellisée" in body
    assert "Ma Ville Mon Shopping (place de marché)" in body
    assert "https://www.artisanat.fr/autodiagnostic-numerique" in body
    [row] = _messages(db)
    assert (row.state, row.attempts, row.sent_at) == ("sent", 1, NOW)
    assert msg["Message-ID"] == row.message_id

    # never twice: a second run, later, sends nothing
    again = sender.send_due(db, config, now=NOW + timedelta(days=1))
    assert again.sent == 0 and len(smtp_server.recorder.received) == 1
    assert _audit(db) == ["email.queued", "email.sent"]


def test_english_and_own_autodiagnostic_link(
    db: Database, world: World, smtp_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_MAIL_LANG", "en")
    monkeypatch.setenv("OUTREACH_AUTODIAG_URL", "https://autodiag.example/cma")
    _queue(db, world, referrals=[("click_and_collect", None)])
    sender.send_due(db, parse_smtp_url(smtp_server.url), now=NOW)
    [msg] = smtp_server.recorder.received
    body = _body(msg)
    assert msg["Subject"] == "CMA Île-de-France: following our call"
    assert "Click-and-collect help" in body and "https://autodiag.example/cma" in body


def test_retried_after_the_server_refused(db: Database, world: World, smtp_server: Server) -> None:
    _queue(db, world)
    config = parse_smtp_url(smtp_server.url)
    smtp_server.recorder.refuse.append("451 4.3.0 Try again later")

    first = sender.send_due(db, config, now=NOW)
    assert (first.sent, first.retried) == (0, 1) and smtp_server.recorder.received == []
    [row] = _messages(db)
    assert (row.state, row.attempts) == ("queued", 1)
    assert row.next_attempt_at == NOW + timedelta(minutes=1) and "451" in (row.last_error or "")

    # not due yet: nothing tried
    assert sender.send_due(db, config, now=NOW + timedelta(seconds=30)).sent == 0
    second = sender.send_due(db, config, now=NOW + timedelta(minutes=2))
    assert second.sent == 1 and len(smtp_server.recorder.received) == 1
    assert _audit(db) == ["email.queued", "email.retry", "email.sent"]
    assert _messages(db)[0].attempts == 2


def test_given_up_when_refused_for_good(db: Database, world: World, smtp_server: Server) -> None:
    _queue(db, world)
    smtp_server.recorder.refuse.append("554 5.7.1 Rejected")
    report = sender.send_due(db, parse_smtp_url(smtp_server.url), now=NOW)
    assert (report.sent, report.failed) == (0, 1)
    [row] = _messages(db)
    assert row.state == "failed" and "554" in (row.last_error or "")
    assert sender.send_due(db, parse_smtp_url(smtp_server.url), now=NOW + timedelta(days=1)) == (
        sender.SendReport()
    )
    assert smtp_server.recorder.received == []


def test_server_away_waits_with_back_off(db: Database, world: World) -> None:
    _queue(db, world)
    _queue(db, world)
    report = sender.send_due(db, parse_smtp_url(f"smtp://127.0.0.1:{_free_port()}"), now=NOW)
    assert report.server_down and report.retried == 1  # the second waits for the next run
    states = [(m.state, m.attempts) for m in _messages(db)]
    assert states == [("queued", 1), ("queued", 0)]


def test_no_mail_without_address_or_with_an_opposition(
    db: Database, world: World, smtp_server: Server
) -> None:
    no_address = make_business(db, "Sans courriel")
    opposed = make_business(db, "Opposée", email="x@y.fr", do_not_call=True)
    bad = make_business(db, "Mal saisie", email="pas une adresse")
    for biz, reason in ((no_address, "no_address"), (opposed, "opposition"), (bad, "bad_address")):
        w = World(world.agent, biz, _call(db, world.agent, biz))
        assert _queue(db, w).reason == reason
    assert _messages(db) == []

    # an opposition recorded after the e-mail was queued: it never goes
    _queue(db, world)
    with db.writing() as s:
        s.execute(update(Business).where(Business.id == world.business).values(do_not_call=True))
    report = sender.send_due(db, parse_smtp_url(smtp_server.url), now=NOW)
    assert (report.sent, report.cancelled) == (0, 1)
    assert smtp_server.recorder.received == [] and _messages(db)[0].state == "cancelled"
    assert _audit(db) == ["email.queued", "email.cancelled"]


def test_interrupted_send_is_never_resent(db: Database, world: World, smtp_server: Server) -> None:
    _queue(db, world)
    with db.writing() as s:  # a sender that died holding it
        s.execute(update(EmailMessage).values(state="sending", claimed_at=NOW))
    config = parse_smtp_url(smtp_server.url)
    assert sender.send_due(db, config, now=NOW + timedelta(minutes=5)).interrupted == 0
    report = sender.send_due(db, config, now=NOW + timedelta(hours=1))
    assert report.interrupted == 1 and report.sent == 0
    assert smtp_server.recorder.received == [] and _messages(db)[0].state == "failed"


def test_two_senders_at_once_send_each_message_once(
    db: Database, world: World, smtp_server: Server
) -> None:
    for _ in range(12):
        _queue(db, world)
    config = parse_smtp_url(smtp_server.url)
    reports: list[sender.SendReport] = []
    threads = [
        threading.Thread(target=lambda: reports.append(sender.send_due(db, config, now=NOW)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in reports) == 12
    ids = [m["Message-ID"] for m in smtp_server.recorder.received]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert {m.state for m in _messages(db)} == {"sent"}


def test_appointment_carries_the_ics(db: Database, world: World, smtp_server: Server) -> None:
    starts = datetime(2020, 12, 8, 13, 30, tzinfo=UTC)  # 14:30 in Paris
    with db.writing() as s:
        decision = queue_appointment_email(
            s,
            business_id=world.business,
            referral_id=None,
            agent_id=world.agent,
            appointment=Appointment(starts, "Europe/Paris", "Paul Durand"),
            now=NOW,
        )
    assert decision.queued
    sender.send_due(db, parse_smtp_url(smtp_server.url), now=NOW)
    [msg] = smtp_server.recorder.received
    assert "mardi 8 décembre 2020" in str(msg["Subject"])
    parts = list(msg.walk())
    assert "14 h 30" in _body(msg) and "Paul Durand" in _body(msg)
    ics = next(p for p in parts if p.get_content_type() == "text/calendar")
    assert ics.get_filename() == "diagnostic.ics"
    [event] = icalendar.Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert event.decoded("dtstart") == starts
    assert event.decoded("dtend") == starts + timedelta(hours=1, minutes=30)
    assert "1 rue Haute" in str(event["location"])


def test_starttls_and_login(
    db: Database, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that offers STARTTLS and wants a login: the sender uses both."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret:/")

    recorder = Recorder()
    port = _free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        monkeypatch.setenv("OUTREACH_SMTP_CAFILE", str(cert))
        _queue(db, world)
        config = parse_smtp_url(f"smtp://relay%40cma:s3cret%3A%2F@127.0.0.1:{port}")
        assert sender.send_due(db, config, now=NOW).sent == 1
    finally:
        controller.stop()
    assert logins == [(b"relay@cma", b"s3cret:/")] and len(recorder.received) == 1


def test_cli_mail_send_and_list(
    db: Database, db_url: str, world: World, smtp_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_agent(db, "sup_idf", role="supervisor")
    _queue(db, world)
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", db_url, "mail", "send"])
    assert result.exit_code != 0 and "OUTREACH_SMTP_URL" in result.output
    monkeypatch.setenv("OUTREACH_SMTP_URL", "http://nope")
    result = runner.invoke(cli, ["--db", db_url, "mail", "send"])
    assert result.exit_code != 0 and "smtp://" in result.output and "Traceback" not in result.output
    monkeypatch.setenv("OUTREACH_SMTP_URL", smtp_server.url)
    result = runner.invoke(cli, ["--db", db_url, "mail", "send"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 courriel envoyé")
    assert len(smtp_server.recorder.received) == 1
    result = runner.invoke(cli, ["--db", db_url, "mail", "list", "--as", "sup_idf"])
    assert result.exit_code == 0, result.output
    assert "1 courriel" in result.output and "sent" in result.output
    assert "contact@dupont.fr" in result.output


def test_worker_sends_in_the_background(db: Database, world: World, smtp_server: Server) -> None:
    _queue(db, world)
    worker = sender.MailWorker(db, parse_smtp_url(smtp_server.url), every=0.05)
    worker.start()
    try:
        wait_until(
            lambda: smtp_server.recorder.received and _messages(db)[0].state == "sent",
            lambda: f"the mail sent by the worker ({_messages(db)[0].state})",
        )
    finally:
        worker.stop()
        worker.join(5)
    assert len(smtp_server.recorder.received) == 1 and _messages(db)[0].state == "sent"


def test_connection_is_reused_for_a_batch(db: Database, world: World, smtp_server: Server) -> None:
    opened: list[int] = []

    class Counting(Connection):
        def _open(self) -> Any:
            opened.append(1)
            return super()._open()

    for _ in range(3):
        _queue(db, world)
    report = sender.send_due(db, parse_smtp_url(smtp_server.url), now=NOW, connection=Counting)
    assert report.sent == 3 and len(opened) == 1


def test_rgpd_erasure_cancels_and_blanks_the_emails(
    db: Database, world: World, smtp_server: Server
) -> None:
    from outreach.services import gdpr

    make_agent(db, "sup_idf", role="supervisor")
    _queue(db, world)
    with db.reading() as s:
        siret = s.scalar(select(Business.siret).where(Business.id == world.business))
    gdpr.erase_business(db, "sup_idf", str(siret), "demande du gérant", now=NOW)
    [row] = _messages(db)
    assert row.state == "cancelled" and "dupont" not in row.to_address + row.body_text
    assert sender.send_due(db, parse_smtp_url(smtp_server.url), now=NOW).sent == 0
    assert smtp_server.recorder.received == []


@pytest.mark.slow
def test_serve_sends_the_queue(sqlite_db: Database, smtp_server: Server, tmp_path: Path) -> None:
    """`outreach serve` with OUTREACH_SMTP_URL set sends what is queued, with no other command."""
    import os
    import signal
    import sys

    agent = make_agent(sqlite_db, "conseiller")
    biz = make_business(sqlite_db, "Fleuriste", email="fleurs@exemple.fr")
    _queue(sqlite_db, World(agent, biz, _call(sqlite_db, agent, biz)))
    url = sqlite_db.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "OUTREACH_SMTP_URL": smtp_server.url,
        "OUTREACH_DATA_DIR": str(tmp_path / "data"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "outreach", "--db", url, "serve", "--port", str(_free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def sent() -> bool:
            assert server.poll() is None, server.communicate()[0]
            return bool(smtp_server.recorder.received)

        wait_until(sent, "a mail received by the SMTP server", timeout=60)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        out = server.communicate(timeout=30)[0].decode()
    assert [m["To"] for m in smtp_server.recorder.received] == ["fleurs@exemple.fr"], out
    assert "courriels envoyés toutes les 30 s par smtp://127.0.0.1" in out
    assert _messages(sqlite_db)[0].state == "sent"


def _diagnostic_referral(db: Database, agent: int, business: int) -> int:
    """A reached call on `business` with a proposed digital-diagnostic referral: its id."""
    from outreach.db.models import Referral
    from outreach.services.queue import record_call
    from outreach.services.types import CallInput, ReferralInput

    at = NOW.replace(tzinfo=UTC)
    res = record_call(
        db,
        CallInput(
            uuid=str(uuid.uuid4()),
            agent_id=agent,
            campaign_id=make_campaign(db),
            business_id=business,
            task_id=None,
            outcome="reached",
            started_at=at,
            ended_at=at + timedelta(minutes=4),
            referrals=(ReferralInput("digital_diagnostic"),),
        ),
        now=at,
    )
    with db.reading() as s:
        return s.execute(select(Referral.id).where(Referral.call_id == res.call_id)).scalar_one()


def test_booking_a_diagnostic_sends_the_firm_its_invitation(
    db: Database, smtp_server: Server
) -> None:
    """Booking on the follow-up worklist queues the invitation with its .ics, in the firm's own
    time zone (La Réunion here), sent once through the real SMTP server; no address, no e-mail."""
    from outreach.services.referrals import change_state

    at = NOW.replace(tzinfo=UTC)
    agent = make_agent(db, "conseil.reu", name="Inès Payet", chamber="REU")
    biz = make_business(db, "Atelier Hoarau", department="974", email="atelier@hoarau.re")
    bare = make_business(db, "Sans Adresse", department="974")
    rid, rid_bare = _diagnostic_referral(db, agent, biz), _diagnostic_referral(db, agent, bare)
    for r in (rid, rid_bare):
        change_state(db, agent, r, "accepted", now=at)
    local = datetime(2020, 11, 10, 9, 0)  # 09:00 in La Réunion = 05:00 UTC
    d = change_state(db, agent, rid, "scheduled", scheduled_at=local, now=at)
    assert (d.email_to, d.email_refused) == ("atelier@hoarau.re", None)
    d = change_state(db, agent, rid_bare, "scheduled", scheduled_at=local, now=at)
    assert (d.email_to, d.email_refused) == (None, "no_address")
    # moved again (rescheduled) without e-mail: nothing more is queued
    d = change_state(db, agent, rid, "scheduled", scheduled_at=local, email=False, now=at)
    assert d.email_to is None
    assert [(m.kind, m.referral_id) for m in _messages(db)] == [("appointment", rid)]
    assert sender.send_due(db, parse_smtp_url(smtp_server.url), now=NOW).sent == 1
    [msg] = smtp_server.recorder.received
    assert msg["To"] == "atelier@hoarau.re" and "Inès Payet" in _body(msg)
    assert "9 h 00" in _body(msg)
    ics = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    [event] = icalendar.Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2020, 11, 10, 5, 0, tzinfo=UTC)
