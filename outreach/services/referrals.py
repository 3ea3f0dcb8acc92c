"""Moving a referral through its lifecycle (outreach.domain.lifecycle), one event at a time.

Every change of state is one transaction: the referral row, one `referral_events` row (who, when,
from, to, note), the action plan of a done diagnostic (`referral_actions`) and one audit row.
A change the domain does not allow, or one that lacks what it must carry (a booked diagnostic's
date and adviser, a done diagnostic's action plan), raises InvalidInput with nothing written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from outreach.db.engine import Database, Executor, retry_busy
from outreach.db.models import (
    Agent,
    Business,
    Chamber,
    Referral,
    ReferralAction,
    ReferralEvent,
)
from outreach.domain import lifecycle
from outreach.domain.geography import timezone_of
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _, language
from outreach.services.agents import load_agent, works_every_chamber
from outreach.services.audit import record_audit
from outreach.services.clock import from_db, to_db, utcnow
from outreach.services.lease import held_by_other
from outreach.services.mail.compose import Appointment
from outreach.services.mail.queueing import MailDecision, queue_appointment_email
from outreach.services.types import (
    AgentInfo,
    PlanActionView,
    ReferralDetail,
    ReferralEventView,
    without_nul,
)
from outreach.services.verification import on_referral_done

MAX_NOTE = 2000
MAX_AHEAD = timedelta(days=366)
_INSERT_EVENT = insert(ReferralEvent.__table__)


def creation_events(
    session: Executor, referrals: Sequence[tuple[int, str]], agent_id: int, at: datetime
) -> None:
    """The first event of new referrals [(id, state)] (from_state None), in the caller's
    transaction: a referral's history starts when the call that made it is recorded."""
    if referrals:
        session.execute(
            _INSERT_EVENT,
            [
                {
                    "referral_id": rid,
                    "at": at,
                    "agent_id": agent_id,
                    "from_state": None,
                    "to_state": state,
                    "note": None,
                    "detail": None,
                }
                for rid, state in referrals
            ],
        )


def _state_name(state: str) -> str:
    return lifecycle.state_label(state, language())


def _check_scope(actor: AgentInfo, chamber_id: int, business_name: str) -> None:
    if not works_every_chamber(actor) and actor.chamber_id != chamber_id:
        raise Forbidden(
            _("« {name} » n'est pas dans le périmètre de votre chambre").format(name=business_name)
        )


def _appointment(
    session: Session,
    scheduled_at: datetime | None,
    adviser_login: str | None,
    actor: AgentInfo,
    department: str,
    chamber_id: int,
    now: datetime,
) -> tuple[datetime, int]:
    """The booked time as stored (UTC) and the adviser's id. A naive `scheduled_at` is the
    business's local time (its own time zone, e.g. La Réunion's)."""
    if scheduled_at is None:
        raise InvalidInput(_("rendez-vous : indiquez la date et l'heure"))
    if scheduled_at.tzinfo is None:
        scheduled_at = scheduled_at.replace(tzinfo=ZoneInfo(timezone_of(department)))
    at = to_db(scheduled_at)
    if at <= now:
        raise InvalidInput(_("rendez-vous : la date et l'heure sont déjà passées"))
    if at > now + MAX_AHEAD:
        raise InvalidInput(_("rendez-vous : date à plus d'un an"))
    if not adviser_login:
        return at, actor.id
    row = session.execute(
        select(Agent.id, Agent.chamber_id, Agent.active, Chamber.code)
        .join(Chamber, Chamber.id == Agent.chamber_id)
        .where(Agent.login == adviser_login.strip())
    ).first()
    if row is None or not row.active:
        raise NotFound(_("conseiller inconnu : « {login} »").format(login=adviser_login.strip()))
    if row.chamber_id != chamber_id and row.code != "CMAF":
        raise InvalidInput(
            _("le conseiller « {login} » n'est pas de la chambre de l'entreprise").format(
                login=adviser_login.strip()
            )
        )
    return at, int(row.id)


def _invite(
    session: Session, row: Any, values: Mapping[str, Any], actor_id: int, at: datetime
) -> MailDecision:
    """Queue the booked diagnostic's invitation (date, adviser, `.ics`) to the firm."""
    adviser_name = session.execute(
        select(Agent.name).where(Agent.id == values["adviser_id"])
    ).scalar_one()
    return queue_appointment_email(
        session,
        business_id=row.business_id,
        referral_id=row.id,
        agent_id=actor_id,
        appointment=Appointment(
            starts_at=from_db(values["scheduled_at"]),
            zone=timezone_of(row.department),
            adviser_name=adviser_name,
        ),
        now=at,
    )


def _plan(plan: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for action, status in (plan or {}).items():
        if action not in lifecycle.PLAN_ACTION_CODES:
            raise InvalidInput(
                _("plan d'action : action inconnue « {action} » (au choix : {valid})").format(
                    action=action, valid=", ".join(lifecycle.PLAN_ACTION_CODES)
                )
            )
        if status not in lifecycle.ACTION_STATUSES:
            raise InvalidInput(
                _("plan d'action : statut inconnu « {status} » (au choix : {valid})").format(
                    status=status, valid=", ".join(lifecycle.ACTION_STATUSES)
                )
            )
        out[action] = status
    return out


def _note(note: str | None) -> str | None:
    note = without_nul((note or "").strip()) or None
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput(_("note : {n} caractères au plus").format(n=MAX_NOTE))
    return note


def _locked(session: Session, referral_id: int, pg: bool) -> Any:
    stmt = (
        select(
            Referral.id,
            Referral.kind,
            Referral.status,
            Referral.business_id,
            Referral.claimed_by,
            Referral.lease_expires_at,
            Business.name,
            Business.chamber_id,
            Business.department,
        )
        .join(Business, Business.id == Referral.business_id)
        .where(Referral.id == referral_id)
    )
    if pg:
        stmt = stmt.with_for_update(of=Referral)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(_("orientation inconnue : n° {id}").format(id=referral_id))
    return row


def change_state(
    db: Database,
    agent_id: int,
    referral_id: int,
    to_state: str,
    *,
    note: str | None = None,
    scheduled_at: datetime | None = None,
    adviser_login: str | None = None,
    plan: Mapping[str, str] | None = None,
    expected_state: str | None = None,
    email: bool = True,
    now: datetime | None = None,
) -> ReferralDetail:
    """Move referral `referral_id` to `to_state` as agent `agent_id` (see the module's docstring).

    A diagnostic booked (`scheduled`) queues, in the same transaction, the firm's invitation
    e-mail with its `.ics` (unless `email` is False); the detail returned says to whom it went or
    why it did not (no address, opposition), as the call screen's referral e-mail does.

    `expected_state`, when given, is the state the person saw: if someone else moved the
    referral since, nothing is written and InvalidInput says so. `scheduled_at` (naive: the
    business's local time) and `adviser_login` (default: the acting agent) go with `scheduled`;
    `plan` ({action: status}) with a diagnostic's `done`.
    """
    at = to_db(now) if now is not None else utcnow()
    if to_state not in lifecycle.STATES:
        raise InvalidInput(
            _("état d'orientation inconnu : « {state} » (au choix : {valid})").format(
                state=to_state, valid=", ".join(lifecycle.STATES)
            )
        )
    clean_note = _note(note)
    clean_plan = _plan(plan)

    def run() -> ReferralDetail:
        with db.writing() as session:
            actor = load_agent(session, agent_id)
            row = _locked(session, referral_id, db.is_postgresql)
            _check_scope(actor, row.chamber_id, row.name)
            if expected_state is not None and row.status != expected_state:
                raise InvalidInput(
                    _(
                        "l'orientation n° {id} est passée à « {state} » entre-temps : "
                        "rien n'a été changé"
                    ).format(id=referral_id, state=_state_name(row.status))
                )
            if not lifecycle.can_move(row.kind, row.status, to_state):
                raise InvalidInput(
                    _("orientation n° {id} : passage de « {src} » à « {dst} » impossible").format(
                        id=referral_id, src=_state_name(row.status), dst=_state_name(to_state)
                    )
                )
            if held_by_other(row.claimed_by, row.lease_expires_at, actor.id, at):
                raise Forbidden(
                    _(
                        "l'orientation n° {id} est en cours de traitement par un autre conseiller"
                    ).format(id=referral_id)
                )
            values: dict[str, Any] = {"status": to_state, "updated_at": at}
            detail: dict[str, Any] = {}
            if lifecycle.needs_appointment(to_state):
                when, adviser = _appointment(
                    session,
                    scheduled_at,
                    adviser_login,
                    actor,
                    row.department,
                    row.chamber_id,
                    at,
                )
                values.update(scheduled_at=when, adviser_id=adviser)
                detail.update(scheduled_at=when.isoformat(), adviser_id=adviser)
            if clean_plan and not lifecycle.needs_plan(row.kind, to_state):
                raise InvalidInput(_("un plan d'action va avec un diagnostic réalisé"))
            if lifecycle.needs_plan(row.kind, to_state):
                if not clean_plan:
                    raise InvalidInput(
                        _("diagnostic réalisé : choisissez au moins une action du plan")
                    )
                session.execute(
                    insert(ReferralAction.__table__),
                    [
                        {
                            "referral_id": referral_id,
                            "action": action,
                            "status": status,
                            "updated_at": at,
                            "updated_by": actor.id,
                        }
                        for action, status in clean_plan.items()
                    ],
                )
                detail["plan"] = clean_plan
            session.execute(update(Referral).where(Referral.id == referral_id).values(**values))
            session.execute(
                _INSERT_EVENT,
                {
                    "referral_id": referral_id,
                    "at": at,
                    "agent_id": actor.id,
                    "from_state": row.status,
                    "to_state": to_state,
                    "note": clean_note,
                    "detail": detail or None,
                },
            )
            if to_state == lifecycle.DONE:
                on_referral_done(session, row.kind, row.business_id, at, actor.id)
            mail: MailDecision | None = None
            if email and to_state == lifecycle.SCHEDULED and row.kind == lifecycle.DIAGNOSTIC:
                mail = _invite(session, row, values, actor.id, at)
                detail["email"] = mail.to if mail.queued else mail.reason
            record_audit(
                session,
                agent_id=actor.id,
                action="referral.state",
                entity="referral",
                entity_id=referral_id,
                detail={"from": row.status, "to": to_state, **detail},
                at=at,
            )
            result = load_detail(session, referral_id)
            if mail is None:
                return result
            return dataclasses.replace(
                result,
                email_to=mail.to if mail.queued else None,
                email_refused=None if mail.queued else mail.reason,
            )

    return retry_busy(run)


def set_action_status(
    db: Database,
    agent_id: int,
    referral_id: int,
    action: str,
    status: str,
    *,
    now: datetime | None = None,
) -> ReferralDetail:
    """Change the status of one action of a done diagnostic's plan (audited)."""
    at = to_db(now) if now is not None else utcnow()
    _plan({action: status})

    def run() -> ReferralDetail:
        with db.writing() as session:
            actor = load_agent(session, agent_id)
            row = _locked(session, referral_id, db.is_postgresql)
            _check_scope(actor, row.chamber_id, row.name)
            old = session.execute(
                select(ReferralAction.status).where(
                    ReferralAction.referral_id == referral_id, ReferralAction.action == action
                )
            ).scalar()
            if old is None:
                raise NotFound(
                    _(
                        "l'action « {action} » n'est pas dans le plan de l'orientation n° {id}"
                    ).format(action=action, id=referral_id)
                )
            session.execute(
                update(ReferralAction)
                .where(ReferralAction.referral_id == referral_id, ReferralAction.action == action)
                .values(status=status, updated_at=at, updated_by=actor.id)
            )
            record_audit(
                session,
                agent_id=actor.id,
                action="referral.plan",
                entity="referral",
                entity_id=referral_id,
                detail={"action": action, "from": old, "to": status},
                at=at,
            )
            return load_detail(session, referral_id)

    return retry_busy(run)


def load_detail(session: Session, referral_id: int) -> ReferralDetail:
    """The referral, its history (oldest first) and its action plan, as plain data."""
    r = session.execute(
        select(
            Referral.id,
            Referral.kind,
            Referral.partner,
            Referral.status,
            Referral.notes,
            Referral.created_at,
            Referral.updated_at,
            Referral.scheduled_at,
            Referral.business_id,
            Business.name,
            Business.department,
            Agent.login,
        )
        .join(Business, Business.id == Referral.business_id)
        .outerjoin(Agent, Agent.id == Referral.adviser_id)
        .where(Referral.id == referral_id)
    ).first()
    if r is None:
        raise NotFound(_("orientation inconnue : n° {id}").format(id=referral_id))
    events = session.execute(
        select(
            ReferralEvent.at,
            Agent.login,
            ReferralEvent.from_state,
            ReferralEvent.to_state,
            ReferralEvent.note,
        )
        .outerjoin(Agent, Agent.id == ReferralEvent.agent_id)
        .where(ReferralEvent.referral_id == referral_id)
        .order_by(ReferralEvent.at, ReferralEvent.id)
    ).all()
    actions = session.execute(
        select(ReferralAction.action, ReferralAction.status)
        .where(ReferralAction.referral_id == referral_id)
        .order_by(ReferralAction.id)
    ).all()
    return ReferralDetail(
        id=r.id,
        kind=r.kind,
        partner=r.partner,
        state=r.status,
        notes=r.notes,
        business_id=r.business_id,
        business_name=r.name,
        timezone=timezone_of(r.department),
        created_at=from_db(r.created_at),
        updated_at=from_db(r.updated_at),
        scheduled_at=from_db(r.scheduled_at),
        adviser_login=r.login,
        allowed=lifecycle.allowed(r.kind, r.status),
        events=tuple(
            ReferralEventView(from_db(e.at), e.login, e.from_state, e.to_state, e.note)
            for e in events
        ),
        actions=tuple(PlanActionView(a.action, a.status) for a in actions),
    )


def referral_detail(db: Database, agent_id: int, referral_id: int) -> ReferralDetail:
    """The referral as `agent_id` may see it (own chamber, or every chamber for CMA France)."""
    with db.reading() as session:
        actor = load_agent(session, agent_id)
        row = _locked(session, referral_id, False)
        _check_scope(actor, row.chamber_id, row.name)
        return load_detail(session, referral_id)
