"""RGPD: what is held on a business (access request), erasure, and the 3-year retention purge.

Erasure anonymises what identifies people: the business's name, address, phones and e-mail,
the address and text of the e-mails sent to it (unsent ones are cancelled), the dialled number
and notes of its calls, the notes of its referrals and the answers given in
its calls. It keeps what the counts and the opposition need: the rows of `calls` (outcome,
times, agent, campaign, chamber), the referrals' kind and status, the SIRET and the do-not-call
flag (an opposition must be honoured and kept: a later import of the same SIRET must still
find it). Unfinished tasks of an erased business are cancelled: there is no number left to call.

The purge applies the CNIL retention rule for prospects: three years from the last contact (the
latest call, else the date the business was added), then erasure as above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from outreach.db.engine import Database, retry_busy, rowcount
from outreach.db.models import (
    AuditLog,
    Business,
    Call,
    CallAnswer,
    CallTask,
    EmailMessage,
    Referral,
    ReferralEvent,
)
from outreach.domain.text import fold
from outreach.errors import InvalidInput
from outreach.i18n import _
from outreach.services.access import Scope, business_in_scope, require_supervisor, scope_of
from outreach.services.audit import record_audit
from outreach.services.clock import to_db, utcnow
from outreach.services.queue.dnc import cancel_unfinished_tasks

ERASED_NAME = "[effacé RGPD]"
PURGE_BATCH = 500
_AGE = re.compile(r"^\s*(\d{1,3})\s*([ymd]|ans?|mois|j)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure changed for one business (rows kept, fields emptied)."""

    business_id: int
    siret: str
    calls_anonymised: int
    answers_removed: int
    referrals_anonymised: int
    tasks_cancelled: int
    do_not_call: bool
    already_erased: bool = False


@dataclass(frozen=True, slots=True)
class PurgeResult:
    cutoff: datetime  # naive UTC: last contact before this is purged
    businesses: int  # erased by this purge
    calls_anonymised: int
    answers_removed: int
    oppositions_kept: int  # erased businesses that keep their do-not-call flag


def parse_age(text: str) -> timedelta:
    """`3y`, `36m`, `1095d` (also `3 ans`, `36 mois`, `1095 j`) as a timedelta; InvalidInput else.
    A year is 365 days and a month 30 days (a retention period, not a calendar)."""
    m = _AGE.match(text or "")
    if not m or int(m.group(1)) == 0:
        raise InvalidInput(
            _("--older-than : durée invalide « {value} » (exemples : 3y, 36m, 1095d)").format(
                value=text
            )
        )
    n, unit = int(m.group(1)), m.group(2).lower()
    days = {"y": 365, "a": 365, "m": 30, "d": 1, "j": 1}[unit[0]]
    return timedelta(days=n * days)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: _jsonable(getattr(obj, c.key)) for c in obj.__table__.columns}


def business_record(db: Database, login: str, siret: str) -> dict[str, Any]:
    """Everything held on the business `siret`, for an access request (a supervisor or admin
    of its chamber): the business row, its tasks, its calls with their answers and referrals,
    and the audit rows about it, its tasks and its calls. The consultation is audited."""
    person = require_supervisor(db, login)

    def run() -> dict[str, Any]:
        with db.writing() as session:
            biz = business_in_scope(session, person, siret)
            tasks = session.scalars(
                select(CallTask).where(CallTask.business_id == biz.id).order_by(CallTask.id)
            ).all()
            calls = session.scalars(
                select(Call).where(Call.business_id == biz.id).order_by(Call.started_at, Call.id)
            ).all()
            call_ids = [c.id for c in calls]
            answers: dict[int, list[dict[str, Any]]] = {}
            referrals: dict[int, list[dict[str, Any]]] = {}
            if call_ids:
                for a in session.scalars(
                    select(CallAnswer)
                    .where(CallAnswer.call_id.in_(call_ids))
                    .order_by(CallAnswer.id)
                ):
                    answers.setdefault(a.call_id, []).append(_row(a))
            for r in session.scalars(
                select(Referral).where(Referral.business_id == biz.id).order_by(Referral.id)
            ):
                history = session.scalars(
                    select(ReferralEvent)
                    .where(ReferralEvent.referral_id == r.id)
                    .order_by(ReferralEvent.id)
                )
                referrals.setdefault(r.call_id, []).append(
                    {**_row(r), "events": [_row(e) for e in history]}
                )
            about = [("business", str(biz.id))]
            about += [("call_task", str(t.id)) for t in tasks]
            about += [("call", str(i)) for i in call_ids]
            audit: list[AuditLog] = []
            for entity in ("business", "call_task", "call"):
                ids = [i for e, i in about if e == entity]
                for chunk in range(0, len(ids), 500):
                    audit += session.scalars(
                        select(AuditLog).where(
                            AuditLog.entity == entity,
                            AuditLog.entity_id.in_(ids[chunk : chunk + 500]),
                        )
                    ).all()
            audit.sort(key=lambda a: (a.at, a.id))
            record = {
                "business": _row(biz),
                "tasks": [_row(t) for t in tasks],
                "calls": [
                    {
                        **_row(c),
                        "answers": answers.get(c.id, []),
                        "referrals": referrals.get(c.id, []),
                    }
                    for c in calls
                ],
                "audit": [_row(a) for a in audit],
            }
            record_audit(
                session,
                agent_id=person.id,
                action="gdpr.show",
                entity="business",
                entity_id=biz.id,
                detail={"siret": biz.siret},
            )
            return record

    return retry_busy(run)


def _erase_ids(session: Session, ids: list[int], now: datetime) -> tuple[int, int, int, int]:
    """Anonymise the businesses `ids` (rows kept); (calls, answers, referrals, tasks) touched."""
    session.execute(
        update(Business)
        .where(Business.id.in_(ids))
        .values(
            name=ERASED_NAME,
            name_key=fold(ERASED_NAME),
            address=None,
            phone=None,
            phone_alt=None,
            email=None,
            contact_name=None,
            updated_at=now,
        )
    )
    call_ids = select(Call.id).where(Call.business_id.in_(ids)).scalar_subquery()
    answers = rowcount(session.execute(delete(CallAnswer).where(CallAnswer.call_id.in_(call_ids))))
    calls = rowcount(
        session.execute(
            update(Call).where(Call.business_id.in_(ids)).values(notes=None, phone=None)
        )
    )
    referrals = rowcount(
        session.execute(update(Referral).where(Referral.business_id.in_(ids)).values(notes=None))
    )
    # the notes of their lifecycle's events too (states, times and who stay: they are counts)
    ref_ids = select(Referral.id).where(Referral.business_id.in_(ids)).scalar_subquery()
    session.execute(
        update(ReferralEvent).where(ReferralEvent.referral_id.in_(ref_ids)).values(note=None)
    )
    tasks = len(cancel_unfinished_tasks(session, list(ids), now))
    _erase_emails(session, ids)
    return calls, answers, referrals, tasks


def _erase_emails(session: Session, ids: list[int]) -> None:
    """E-mails to these businesses: the unsent ones never go, and no text or address is kept."""
    mine = EmailMessage.business_id.in_(ids)
    session.execute(
        update(EmailMessage).where(mine, EmailMessage.state == "queued").values(state="cancelled")
    )
    session.execute(
        update(EmailMessage)
        .where(mine)
        .values(to_address=ERASED_NAME, subject=ERASED_NAME, body_text="", ics=None)
    )


def erase_business(
    db: Database, login: str, siret: str, reason: str = "", now: datetime | None = None
) -> Erasure:
    """Erase the personal data held on the business `siret` (see the module's docstring);
    roll-up counts and the opposition are kept. Audited, in the same transaction."""
    person = require_supervisor(db, login)
    at = to_db(now) if now else utcnow()

    def run() -> Erasure:
        with db.writing() as session:
            biz = business_in_scope(session, person, siret, lock=True)
            already = biz.name == ERASED_NAME and biz.phone is None and biz.address is None
            calls, answers, refs, tasks = _erase_ids(session, [biz.id], at)
            record_audit(
                session,
                agent_id=person.id,
                action="gdpr.erase",
                entity="business",
                entity_id=biz.id,
                detail={
                    "siret": biz.siret,
                    "reason": reason.strip() or None,
                    "calls": calls,
                    "answers": answers,
                    "referrals": refs,
                    "tasks_cancelled": tasks,
                    "do_not_call": bool(biz.do_not_call),
                },
                at=at,
            )
            return Erasure(
                business_id=biz.id,
                siret=biz.siret,
                calls_anonymised=calls,
                answers_removed=answers,
                referrals_anonymised=refs,
                tasks_cancelled=tasks,
                do_not_call=bool(biz.do_not_call),
                already_erased=already,
            )

    return retry_busy(run)


def _stale(scope: Scope, cutoff: datetime) -> list[Any]:
    """The businesses a purge at `cutoff` erases: last contact (else creation) before it, not
    erased yet, in the scope."""
    last_call = (
        select(func.max(Call.started_at))
        .where(Call.business_id == Business.id)
        .correlate(Business)
        .scalar_subquery()
    )
    where = [
        func.coalesce(last_call, Business.created_at) < cutoff,
        or_(Business.name != ERASED_NAME, Business.phone.is_not(None)),
    ]
    if not scope.national:
        where.append(Business.chamber_id == scope.chamber_id)
    return where


def _stale_ids(session: Session, scope: Scope, cutoff: datetime, after_id: int) -> list[int]:
    stmt = (
        select(Business.id)
        .where(Business.id > after_id, *_stale(scope, cutoff))
        .order_by(Business.id)
        .limit(PURGE_BATCH)
    )
    return [int(i) for i in session.scalars(stmt)]


@dataclass(frozen=True, slots=True)
class PurgePreview:
    cutoff: datetime  # naive UTC
    businesses: int  # that the purge would erase
    in_scope: int  # businesses in the supervisor's scope
    oppositions_kept: int
    examples: tuple[tuple[str, str], ...]  # (siret, name) of the first few


def purge_preview(
    db: Database, login: str, older_than: str, now: datetime | None = None, examples: int = 5
) -> PurgePreview:
    """What `purge(db, login, older_than)` would erase now, changing nothing."""
    person = require_supervisor(db, login)
    cutoff = (to_db(now) if now else utcnow()) - parse_age(older_than)
    scope = scope_of(person)
    where = _stale(scope, cutoff)
    with db.reading() as session:
        count = select(func.count()).select_from(Business)
        businesses = session.execute(count.where(*where)).scalar_one()
        in_scope = session.execute(
            count.where(*([] if scope.national else [Business.chamber_id == scope.chamber_id]))
        ).scalar_one()
        kept = session.execute(count.where(*where, Business.do_not_call.is_(True))).scalar_one()
        first = session.execute(
            select(Business.siret, Business.name)
            .where(*where)
            .order_by(Business.id)
            .limit(examples)
        ).all()
    return PurgePreview(
        cutoff,
        int(businesses),
        int(in_scope),
        int(kept),
        tuple((siret, name) for siret, name in first),
    )


def erase_preview(db: Database, login: str, siret: str) -> tuple[str, str]:
    """(siret, name) of the business `erase_business(db, login, siret)` would erase."""
    person = require_supervisor(db, login)
    with db.reading() as session:
        biz = business_in_scope(session, person, siret)
        return biz.siret, biz.name


def purge(db: Database, login: str, older_than: str, now: datetime | None = None) -> PurgeResult:
    """Erase every business (in the supervisor's scope) whose last contact is older than
    `older_than` (`3y`...), in batches of PURGE_BATCH, each batch audited in its transaction."""
    person = require_supervisor(db, login)
    age = parse_age(older_than)
    at = to_db(now) if now else utcnow()
    cutoff = at - age
    scope = scope_of(person)
    total = [0, 0, 0, 0]
    after = 0
    while True:

        def batch(after: int = after) -> tuple[list[int], int, int, int]:
            with db.writing() as session:
                ids = _stale_ids(session, scope, cutoff, after)
                if not ids:
                    return [], 0, 0, 0
                kept = session.execute(
                    select(func.count())
                    .select_from(Business)
                    .where(Business.id.in_(ids), Business.do_not_call.is_(True))
                ).scalar_one()
                calls, answers, _refs, tasks = _erase_ids(session, ids, at)
                record_audit(
                    session,
                    agent_id=person.id,
                    action="gdpr.purge",
                    entity="business",
                    entity_id=None,
                    detail={
                        "older_than": older_than,
                        "cutoff": cutoff.isoformat(),
                        "chamber": scope.chamber_code,
                        "business_ids": ids,
                        "calls": calls,
                        "answers": answers,
                        "tasks_cancelled": tasks,
                    },
                    at=at,
                )
                return ids, calls, answers, int(kept)

        ids, calls, answers, kept = retry_busy(batch)
        if not ids:
            break
        after = ids[-1]
        for i, n in enumerate((len(ids), calls, answers, kept)):
            total[i] += n
    if total[0] == 0:
        with db.writing() as session:  # a purge that found nothing is still a recorded decision
            record_audit(
                session,
                agent_id=person.id,
                action="gdpr.purge",
                entity="business",
                entity_id=None,
                detail={"older_than": older_than, "cutoff": cutoff.isoformat(), "business_ids": []},
                at=at,
            )
    return PurgeResult(cutoff, total[0], total[1], total[2], total[3])


__all__ = [
    "ERASED_NAME",
    "PurgePreview",
    "erase_preview",
    "purge_preview",
    "Erasure",
    "PurgeResult",
    "business_record",
    "erase_business",
    "parse_age",
    "purge",
]
