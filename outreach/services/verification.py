"""Verification calls: did a firm we helped actually start selling online?

When a click-and-collect or platform referral is done, or `verify_after_days` days (set on the
referral's campaign, 21 by default) after the firm accepted it, the business is queued in the
verification campaign of its chamber (created on first use, `campaigns.purpose` =
`verification`). Its script asks whether the firm now sells online and how; the answer sets
`businesses.sells_online` and, when it is yes, `businesses.sells_online_verified_at`, which the
funnel and the goals count as "verified selling online".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update

from outreach.db.engine import Database, Executor, retry_busy
from outreach.db.models import (
    Business,
    Call,
    CallTask,
    Campaign,
    Chamber,
    Referral,
    ReferralEvent,
)
from outreach.domain.lifecycle import ACCEPTED, SCHEDULED
from outreach.i18n import _
from outreach.services.access import scope_of
from outreach.services.audit import record_audit
from outreach.services.clock import to_db, utcnow
from outreach.services.types import AgentInfo

VERIFY_KINDS = ("click_and_collect", "platform")
PURPOSE = "verification"
QUESTION = "vend_en_ligne"
HOW = "comment"
YES = "oui"
SCRIPT: list[dict[str, object]] = [
    {
        "key": QUESTION,
        "text": "Vendez-vous en ligne aujourd'hui (site, plateforme, clic et collecte) ?",
        "choices": [YES, "non"],
    },
    {
        "key": HOW,
        "text": "Comment vendez-vous en ligne ?",
        "choices": [
            "site",
            "plateforme",
            "clic et collecte",
            "réseaux sociaux",
            "autre",
        ],
    },
]
INTRO = (
    "Bonjour, je suis conseiller de la Chambre de Métiers et de l'Artisanat. Nous vous avions "
    "accompagné pour vendre en ligne : où en êtes-vous ?"
)


def campaign_name(chamber_code: str) -> str:
    return f"Vérification de la vente en ligne ({chamber_code})"


def verification_campaign(
    session: Executor, chamber_id: int, now: datetime, agent_id: int | None = None
) -> int:
    """The verification campaign of the chamber, created (and audited) on first use."""
    found = session.execute(
        select(Campaign.id).where(Campaign.purpose == PURPOSE, Campaign.chamber_id == chamber_id)
    ).scalar()
    if found is not None:
        return int(found)
    code = session.execute(select(Chamber.code).where(Chamber.id == chamber_id)).scalar_one()
    campaign_id = session.execute(
        insert(Campaign.__table__)
        .values(
            name=campaign_name(code),
            description=_("Appels de vérification : l'entreprise aidée vend-elle en ligne ?"),
            chamber_id=chamber_id,
            status="active",
            purpose=PURPOSE,
            max_attempts=3,
            retry_delays=[240, 1440],
            script=SCRIPT,
            script_intro=INTRO,
            created_at=now,
            created_by=agent_id,
        )
        .returning(Campaign.__table__.c.id)
    ).scalar_one()
    record_audit(
        session,
        agent_id=agent_id,
        action="campaign.create",
        entity="campaign",
        entity_id=campaign_id,
        detail={"purpose": PURPOSE, "chamber": code},
        at=now,
    )
    return int(campaign_id)


def enqueue(
    session: Executor, business_id: int, now: datetime, agent_id: int | None = None
) -> int | None:
    """Queue the business in its chamber's verification campaign; the task's id, or None when
    it opted out, ceased, or is already in it."""
    biz = session.execute(
        select(
            Business.id,
            Business.chamber_id,
            Business.department,
            Business.do_not_call,
            Business.status,
        ).where(Business.id == business_id)
    ).one()
    if biz.do_not_call or biz.status == "ceased":
        return None
    campaign_id = verification_campaign(session, biz.chamber_id, now, agent_id)
    already = session.execute(
        select(CallTask.id).where(
            CallTask.campaign_id == campaign_id, CallTask.business_id == business_id
        )
    ).scalar()
    if already is not None:
        return None
    task_id = session.execute(
        insert(CallTask.__table__)
        .values(
            campaign_id=campaign_id,
            business_id=business_id,
            chamber_id=biz.chamber_id,
            department=biz.department,
            state="queued",
            created_at=now,
            updated_at=now,
        )
        .returning(CallTask.__table__.c.id)
    ).scalar_one()
    record_audit(
        session,
        agent_id=agent_id,
        action="task.create",
        entity="call_task",
        entity_id=task_id,
        detail={"campaign_id": campaign_id, "business_id": business_id, "via": PURPOSE},
        at=now,
    )
    return int(task_id)


def on_referral_done(
    session: Executor, kind: str, business_id: int, now: datetime, agent_id: int
) -> int | None:
    """A referral just moved to done: queue its business for verification if its kind calls
    for it (click and collect, platform)."""
    if kind not in VERIFY_KINDS:
        return None
    return enqueue(session, business_id, now, agent_id)


def apply_answers(
    session: Executor,
    business_id: int,
    answers: dict[str, str],
    now: datetime,
    agent_id: int,
    call_uuid: str,
) -> None:
    """The answer of a verification call, on the business (audited): yes sets sells_online
    and its verification time; no clears sells_online (and the time)."""
    answer = (answers.get(QUESTION) or "").strip().lower()
    if answer not in (YES, "non"):
        return
    online = answer == YES
    values: dict[str, Any] = {
        "sells_online": online,
        "sells_online_verified_at": now if online else None,
        "updated_at": now,
    }
    session.execute(update(Business).where(Business.id == business_id).values(**values))
    record_audit(
        session,
        agent_id=agent_id,
        action="business.update",
        entity="business",
        entity_id=business_id,
        detail={"via": PURPOSE, "uuid": call_uuid, "sells_online": online, "how": answers.get(HOW)},
        at=now,
    )


def queue_due(db: Database, person: AgentInfo, now: datetime | None = None) -> int:
    """Queue for verification the businesses whose click-and-collect or platform referral was
    accepted at least `verify_after_days` days ago (the days of the referral's campaign) and is
    still open, in the supervisor's scope; how many were queued."""
    scope = scope_of(person)
    at = to_db(now) if now is not None else utcnow()
    accepted_at = (
        select(func.min(ReferralEvent.at))
        .where(
            ReferralEvent.referral_id == Referral.id,
            ReferralEvent.to_state.in_((ACCEPTED, SCHEDULED)),
        )
        .scalar_subquery()
    )

    def run() -> int:
        with db.writing() as session:
            stmt = (
                select(
                    Referral.business_id,
                    accepted_at.label("accepted_at"),
                    Campaign.verify_after_days,
                )
                .join(Call, Call.id == Referral.call_id)
                .join(Campaign, Campaign.id == Call.campaign_id)
                .join(Business, Business.id == Referral.business_id)
                .where(
                    Referral.kind.in_(VERIFY_KINDS),
                    Referral.status.in_((ACCEPTED, SCHEDULED)),
                    ~exists().where(
                        and_(
                            CallTask.business_id == Referral.business_id,
                            CallTask.campaign_id.in_(
                                select(Campaign.id).where(Campaign.purpose == PURPOSE)
                            ),
                        )
                    ),
                )
            )
            if not scope.national:
                stmt = stmt.where(Business.chamber_id == scope.chamber_id)
            queued = 0
            for business_id, accepted, days in session.execute(stmt).all():
                if accepted is None or accepted > at - timedelta(days=days):
                    continue
                if enqueue(session, business_id, at, person.id) is not None:
                    queued += 1
            return queued

    return retry_busy(run)
