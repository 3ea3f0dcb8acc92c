"""The referral modal's e-mail line, by keyboard: on by default for a diagnostic, Ctrl+O to
switch, said on screen when no e-mail can go; the e-mail queued with the call."""

from __future__ import annotations

from sqlalchemy import select, update

from outreach.db.engine import Database
from outreach.db.models import Business, EmailMessage, Referral
from outreach.tui.app import OutreachApp
from outreach.tui.screens.modals import ReferralModal
from tests.tui.conftest import World, app_for, settle
from tests.tui.test_flow import _login, _shown


def _line(app: OutreachApp) -> str:
    return str(app.screen.query_one("#referral-email").render())


async def test_diagnostic_turns_the_email_on_and_ctrl_o_switches_it(world: World) -> None:
    db = world.db
    with db.writing() as s:
        s.execute(
            update(Business)
            .where(Business.id == world.business_ids[0])
            .values(email="contact@boulangerie.fr")
        )
    app = app_for(db)
    async with app.run_test(size=(100, 34)) as pilot:
        await _login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert _shown(app) == "Boulangerie du Marché"
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, ReferralModal)
        assert "Courriel à contact@boulangerie.fr : non" in _line(app)
        # the 4th kind is the digital diagnostic: ticking it turns the e-mail on
        await pilot.press("down", "down", "down", "space")
        await pilot.pause()
        assert "Courriel à contact@boulangerie.fr : oui" in _line(app)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert ": non" in _line(app)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert ": oui" in _line(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _shown(app) == "Coiffure Élodie"
        notes = [str(n.message) for n in app._notifications]
        assert "Courriel mis en file pour contact@boulangerie.fr" in notes

    with db.reading() as s:
        [mail] = s.scalars(select(EmailMessage)).all()
        kinds = s.scalars(select(Referral.kind)).all()
    assert kinds == ["digital_diagnostic"]
    assert (mail.business_id, mail.to_address, mail.state) == (
        world.business_ids[0],
        "contact@boulangerie.fr",
        "queued",
    )
    assert "diagnostic numérique" in mail.subject and "autodiagnostic" in mail.body_text


async def test_no_address_is_said_and_nothing_is_queued(world: World) -> None:
    db = world.db
    app = app_for(db)
    async with app.run_test(size=(100, 34)) as pilot:
        await _login(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert _line(app) == "Pas de courriel : aucune adresse connue"
        await pilot.press("down", "down", "down", "space", "ctrl+o")
        await pilot.pause()
        assert _line(app) == "Pas de courriel : aucune adresse connue"
        await pilot.press("ctrl+s")
        await settle(pilot)
    with db.reading() as s:
        assert s.scalars(select(EmailMessage)).all() == []
        assert s.scalars(select(Referral.kind)).all() == ["digital_diagnostic"]


def test_record_call_says_why_no_email(db: Database) -> None:
    """The service's side, on both backends: queued with the call, or the reason."""
    import uuid
    from datetime import timedelta

    from outreach.services.queue import claim_next, record_call
    from outreach.services.types import CallInput, ReferralInput
    from tests.factories import make_agent, make_business, make_campaign, make_task
    from tests.tui.conftest import FIXED_NOW

    agent = make_agent(db, "claire")
    camp = make_campaign(db)
    with_mail = make_business(db, "A", email="a@exemple.fr")
    without = make_business(db, "B")
    results = {}
    for biz in (with_mail, without):
        make_task(db, camp, biz, priority=100 if biz == with_mail else 1)
    for _ in range(2):
        task = claim_next(db, agent, camp, now=FIXED_NOW)
        assert task is not None
        results[task.business.id] = record_call(
            db,
            CallInput(
                uuid=str(uuid.uuid4()),
                agent_id=agent,
                campaign_id=camp,
                business_id=task.business.id,
                task_id=task.task_id,
                outcome="reached",
                started_at=FIXED_NOW,
                ended_at=FIXED_NOW + timedelta(minutes=2),
                referrals=(
                    ReferralInput("digital_diagnostic", email=True),
                    ReferralInput("platform", "Wizishop", email=True),
                ),
            ),
            now=FIXED_NOW,
        )
    assert (results[with_mail].email_to, results[with_mail].email_refused) == (
        "a@exemple.fr",
        None,
    )
    assert (results[without].email_to, results[without].email_refused) == (None, "no_address")
    with db.reading() as s:
        [mail] = s.scalars(select(EmailMessage)).all()
    assert mail.business_id == with_mail and "Wizishop (site de vente)" in mail.body_text
