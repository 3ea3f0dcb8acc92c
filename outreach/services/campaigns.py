"""Campaigns: create, list, pause, resume, close, and fill a campaign's queue.

Filling is one INSERT ... SELECT over `businesses` (ON CONFLICT DO NOTHING on the
campaign/business pair), so a fill run twice adds nothing twice; businesses under opposition
(do-not-call, invariant 3) and ceased businesses are never queued. Every change is audited.
A regional supervisor creates and changes the campaigns of their own chamber; national
campaigns belong to CMA France (a regional supervisor may still fill one, with their own
chamber's businesses only).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import (
    BUSINESS_STATUSES,
    Business,
    Call,
    CallTask,
    Campaign,
    Chamber,
    Lockdown,
)
from outreach.domain.agent_states import DEFAULT_WRAP_UP_SECONDS
from outreach.domain.script import OTHER_MARK
from outreach.domain.text import has_control
from outreach.errors import Forbidden, InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.access import ensure_supervisor, scope_of, sees_all
from outreach.services.audit import record_audit
from outreach.services.clock import utcnow
from outreach.services.earlier_results import EarlierResults
from outreach.services.earlier_results import conditions as earlier_conditions
from outreach.services.queue.context import OPEN_STATES
from outreach.services.types import AgentInfo

_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TRANSITIONS = {
    "pause": ({"active", "draft"}, "paused"),
    "resume": ({"paused", "draft"}, "active"),
    "close": ({"active", "paused", "draft"}, "closed"),
}


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    text: str
    choices: tuple[str, ...] = ()
    other: bool = False  # another answer than the choices may be typed


WRAP_UP_RANGE = (10, 3600)


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    name: str
    lockdown: str | None = None
    chamber: str | None = None  # None: national
    description: str | None = None
    max_attempts: int = 5
    retry_delays: tuple[int, ...] = (60, 240, 1440)  # minutes
    window_days: str = "12345"
    window_hours: str = "10:00-13:00,14:00-20:00"
    script: tuple[Question, ...] = ()
    script_intro: str | None = None
    status: str = "active"
    max_wrap_up_seconds: int = DEFAULT_WRAP_UP_SECONDS


@dataclass(frozen=True, slots=True)
class Segment:
    """Which businesses to queue: every field narrows (empty: no condition)."""

    statuses: tuple[str, ...] = ()  # open, closed_admin, ceased
    trades: tuple[str, ...] = ()  # NAF/NAFA codes or prefixes: 96.02A matches 96.02AZ
    departments: tuple[str, ...] = ()
    chamber: str | None = None
    earlier: EarlierResults | None = None  # results of an earlier campaign (--from)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "statuses": list(self.statuses),
            "trades": list(self.trades),
            "departments": list(self.departments),
            "chamber": self.chamber,
            **(self.earlier.as_json() if self.earlier else {}),
        }
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    id: int
    name: str
    status: str
    lockdown: str | None
    chamber_code: str | None
    max_attempts: int
    retry_delays: tuple[int, ...]
    window_days: str
    window_hours: str
    questions: tuple[str, ...]
    tasks: int
    open_tasks: int
    calls: int
    target: dict[str, Any] | None = field(default=None)
    # tasks that left the campaign by a hand-back, by reason (not_target, handled_elsewhere,
    # flagged: waiting for a supervisor)
    removed: dict[str, int] = field(default_factory=dict)
    max_wrap_up_seconds: int = DEFAULT_WRAP_UP_SECONDS
    verify_after_days: int = 21


@dataclass(frozen=True, slots=True)
class FillResult:
    campaign: str
    matched: int  # businesses the segment selects (in scope, callable)
    added: int  # newly queued
    already: int  # were already in the queue
    skipped_do_not_call: int


# --- parsing what people type ----------------------------------------------------------------


def parse_question(text: str) -> Question:
    """`key=Question text` or `key=Question text|choice 1|choice 2`; a last choice `*` lets the
    adviser type another answer than the choices."""
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not _KEY.match(key) or not rest.strip():
        raise InvalidInput(
            _("question {q!r} : attendu clé=texte (clé en minuscules, ex. vend_en_ligne=…)").format(
                q=text
            )
        )
    parts = [p.strip() for p in rest.split("|")]
    choices = tuple(p for p in parts[1:] if p and p != OTHER_MARK)
    return Question(key, parts[0], choices, other=bool(choices) and OTHER_MARK in parts[1:])


def read_script(path: str) -> tuple[Question, ...]:
    """A script file: one `key=text[|choice|...]` per line; blank lines and # comments skipped."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise InvalidInput(
            _("script {path} illisible : {reason}").format(path=path, reason=exc.strerror)
        ) from None
    out = []
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            out.append(parse_question(line))
        except InvalidInput as exc:
            raise InvalidInput(f"{path}:{n}: {exc}") from None
    return tuple(out)


def parse_delays(text: str) -> tuple[int, ...]:
    """`60,240,1440` (minutes)."""
    try:
        delays = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        delays = ()
    if not delays or any(d <= 0 for d in delays):
        raise InvalidInput(
            _("--retry-delays {v!r} : minutes positives séparées par des virgules").format(v=text)
        )
    return delays


# lengths of what a person types into a campaign (the columns' own sizes, or a screen's worth)
NAME_MAX = 120
TEXT_MAX = 4_000  # description, script introduction
QUESTION_MAX = 300  # a question or one of its choices


def _check_text(field: str, value: str | None, limit: int, *, one_line: bool) -> None:
    if value is None:
        return
    if len(value) > limit:
        raise InvalidInput(
            _("{field} : {n} caractères, {limit} au plus").format(
                field=field, n=len(value), limit=limit
            )
        )
    if has_control(value) or (one_line and ("\n" in value or "\t" in value)):
        raise InvalidInput(
            _("{field} : caractère de contrôle interdit (échappement, sonnerie...)").format(
                field=field
            )
        )


def _validate(spec: CampaignSpec) -> None:
    if not spec.name.strip():
        raise InvalidInput(_("nom de campagne vide"))
    _check_text(_("nom de campagne"), spec.name.strip(), NAME_MAX, one_line=True)
    _check_text("--description", spec.description, TEXT_MAX, one_line=False)
    _check_text(_("introduction du script"), spec.script_intro, TEXT_MAX, one_line=False)
    for q in spec.script:
        for text in (q.text, *q.choices):
            _check_text(_("question {key}").format(key=q.key), text, QUESTION_MAX, one_line=True)
    if not 1 <= spec.max_attempts <= 50:
        raise InvalidInput(_("--max-attempts : entre 1 et 50"))
    low, high = WRAP_UP_RANGE
    if not low <= spec.max_wrap_up_seconds <= high:
        raise InvalidInput(
            _("--max-wrap-up : entre {low} et {high} secondes").format(low=low, high=high)
        )
    days = spec.window_days
    if not days or any(c not in "1234567" for c in days) or len(set(days)) != len(days):
        raise InvalidInput(
            _("--days {v!r} : jours ISO 1 (lundi) à 7 (dimanche), ex. 12345").format(v=days)
        )
    ranges = [r.strip() for r in spec.window_hours.split(",")]
    if not ranges or any(not _HOURS.match(r) or r[:5] >= r[6:] for r in ranges):
        raise InvalidInput(
            _("--hours {v!r} : plages HH:MM-HH:MM séparées par des virgules").format(
                v=spec.window_hours
            )
        )
    keys = [q.key for q in spec.script]
    if len(set(keys)) != len(keys):
        raise InvalidInput(_("script : clé de question en double"))


# --- lookups and rights ------------------------------------------------------------------------


def _chamber_id(session: Session, code: str) -> int:
    cid = session.scalar(select(Chamber.id).where(Chamber.code == code.strip().upper()))
    if cid is None:
        raise NotFound(_("chambre inconnue : {code}").format(code=code))
    return cid


def _load(session: Session, name: str) -> Campaign:
    row = session.scalar(select(Campaign).where(Campaign.name == name))
    if row is None:
        raise NotFound(_("campagne inconnue : {name}").format(name=name))
    return row


def _may_change(person: AgentInfo, chamber_id: int | None) -> None:
    ensure_supervisor(person)
    if sees_all(person):
        return
    if chamber_id != person.chamber_id:
        raise Forbidden(
            _("{login} ne peut modifier que les campagnes de sa chambre ({code})").format(
                login=person.login, code=person.chamber_code
            )
        )


def _info(session: Session, c: Campaign) -> CampaignInfo:
    lockdown = session.scalar(select(Lockdown.name).where(Lockdown.id == c.lockdown_id))
    chamber = session.scalar(select(Chamber.code).where(Chamber.id == c.chamber_id))
    tasks = session.scalar(select(func.count(CallTask.id)).where(CallTask.campaign_id == c.id))
    # a closed campaign offers nothing more: its tasks left in the queue are not "to call"
    open_tasks = (
        0
        if c.status == "closed"
        else session.scalar(
            select(func.count(CallTask.id)).where(
                CallTask.campaign_id == c.id, CallTask.state.in_(OPEN_STATES)
            )
        )
    )
    calls = session.scalar(select(func.count(Call.id)).where(Call.campaign_id == c.id))
    removed = dict(
        session.execute(
            select(CallTask.end_reason, func.count(CallTask.id))
            .where(CallTask.campaign_id == c.id, CallTask.end_reason.is_not(None))
            .group_by(CallTask.end_reason)
        ).all()
    )
    return CampaignInfo(
        id=c.id,
        name=c.name,
        status=c.status,
        lockdown=lockdown,
        chamber_code=chamber,
        max_attempts=c.max_attempts,
        retry_delays=tuple(c.retry_delays or ()),
        window_days=c.window_days,
        window_hours=c.window_hours,
        questions=tuple(str(q.get("key")) for q in c.script or []),
        tasks=tasks or 0,
        open_tasks=open_tasks or 0,
        calls=calls or 0,
        target=c.target,
        removed={str(k): int(v) for k, v in removed.items()},
        max_wrap_up_seconds=c.max_wrap_up_seconds,
        verify_after_days=c.verify_after_days,
    )


# --- the service -------------------------------------------------------------------------------


def create_campaign(db: Database, person: AgentInfo, spec: CampaignSpec) -> CampaignInfo:
    """A new campaign (audited). A regional supervisor's campaign is always of their chamber."""
    _validate(spec)
    with db.writing() as session:
        return _info(session, _create(session, person, spec))


def create_and_fill(
    db: Database, person: AgentInfo, spec: CampaignSpec, segment: Segment
) -> tuple[CampaignInfo, FillResult]:
    """A new campaign queued with the businesses of `segment`, in one transaction: a segment
    that cannot be applied leaves no empty campaign behind."""
    _validate(spec)
    with db.writing() as session:
        campaign = _create(session, person, spec)
        result = _fill(session, person, campaign.name, segment)
        return _info(session, campaign), result


def _create(session: Session, person: AgentInfo, spec: CampaignSpec) -> Campaign:
    chamber_id = _chamber_id(session, spec.chamber) if spec.chamber else None
    if not sees_all(person) and chamber_id is None:
        chamber_id = person.chamber_id
    _may_change(person, chamber_id)
    lockdown_id = None
    if spec.lockdown:
        lockdown_id = session.scalar(select(Lockdown.id).where(Lockdown.name == spec.lockdown))
        if lockdown_id is None:
            raise NotFound(_("confinement inconnu : {name}").format(name=spec.lockdown))
    if session.scalar(select(Campaign.id).where(Campaign.name == spec.name.strip())):
        raise InvalidInput(_("la campagne {name} existe déjà").format(name=spec.name))
    now = utcnow()
    campaign = Campaign(
        name=spec.name.strip(),
        description=spec.description,
        lockdown_id=lockdown_id,
        chamber_id=chamber_id,
        status=spec.status,
        max_attempts=spec.max_attempts,
        max_wrap_up_seconds=spec.max_wrap_up_seconds,
        retry_delays=list(spec.retry_delays),
        window_days=spec.window_days,
        window_hours=",".join(r.strip() for r in spec.window_hours.split(",")),
        script=[
            {"key": q.key, "text": q.text, "choices": list(q.choices) or None}
            | ({"other": True} if q.other else {})
            for q in spec.script
        ],
        script_intro=spec.script_intro,
        created_at=now,
        created_by=person.id,
    )
    session.add(campaign)
    try:
        session.flush()
    except IntegrityError:
        raise InvalidInput(_("la campagne {name} existe déjà").format(name=spec.name)) from None
    record_audit(
        session,
        agent_id=person.id,
        action="campaign_create",
        entity="campaign",
        entity_id=campaign.id,
        detail={"name": campaign.name, "chamber_id": chamber_id, "lockdown": spec.lockdown},
        at=now,
    )
    return campaign


def list_campaigns(db: Database, person: AgentInfo) -> list[CampaignInfo]:
    """Campaigns `person` may see: all for CMA France, else national ones and their chamber's."""
    with db.reading() as session:
        q = select(Campaign).order_by(Campaign.created_at, Campaign.id)
        scope = scope_of(person)
        if not scope.national:
            q = q.where((Campaign.chamber_id.is_(None)) | (Campaign.chamber_id == scope.chamber_id))
        return [_info(session, c) for c in session.scalars(q)]


def change_status(db: Database, person: AgentInfo, name: str, action: str) -> CampaignInfo:
    """pause, resume or close the campaign `name` (audited)."""
    allowed, new = TRANSITIONS[action]
    with db.writing() as session:
        campaign = _load(session, name)
        _may_change(person, campaign.chamber_id)
        if campaign.status not in allowed:
            raise InvalidInput(
                _("campagne {name} : impossible de passer de {old} à {new}").format(
                    name=name, old=campaign.status, new=new
                )
            )
        old = campaign.status
        campaign.status = new
        record_audit(
            session,
            agent_id=person.id,
            action=f"campaign_{action}",
            entity="campaign",
            entity_id=campaign.id,
            detail={"name": name, "from": old, "to": new},
        )
        session.flush()
        return _info(session, campaign)


VERIFY_AFTER_RANGE = (1, 365)


def change_settings(
    db: Database,
    person: AgentInfo,
    name: str,
    *,
    max_wrap_up_seconds: int | None = None,
    verify_after_days: int | None = None,
    max_attempts: int | None = None,
) -> CampaignInfo:
    """Change a campaign's settings in the supervisor's scope (audited, old and new values);
    what is not given stays. Same bounds as at creation."""
    changes: dict[str, int] = {}
    if max_wrap_up_seconds is not None:
        low, high = WRAP_UP_RANGE
        if not low <= max_wrap_up_seconds <= high:
            raise InvalidInput(
                _("--max-wrap-up : entre {low} et {high} secondes").format(low=low, high=high)
            )
        changes["max_wrap_up_seconds"] = max_wrap_up_seconds
    if verify_after_days is not None:
        low, high = VERIFY_AFTER_RANGE
        if not low <= verify_after_days <= high:
            raise InvalidInput(
                _("--verify-after-days : entre {low} et {high} jours").format(low=low, high=high)
            )
        changes["verify_after_days"] = verify_after_days
    if max_attempts is not None:
        if not 1 <= max_attempts <= 50:
            raise InvalidInput(_("--max-attempts : entre 1 et 50"))
        changes["max_attempts"] = max_attempts
    if not changes:
        raise InvalidInput(
            _("rien à changer : --max-wrap-up, --verify-after-days ou --max-attempts")
        )
    with db.writing() as session:
        campaign = _load(session, name)
        _may_change(person, campaign.chamber_id)
        before = {key: getattr(campaign, key) for key in changes}
        for key, value in changes.items():
            setattr(campaign, key, value)
        record_audit(
            session,
            agent_id=person.id,
            action="campaign_settings",
            entity="campaign",
            entity_id=campaign.id,
            detail={"name": name, "from": before, "to": changes},
        )
        session.flush()
        return _info(session, campaign)


def _insert(db_or_session: Session) -> Any:
    # the dialect imported when used: the PostgreSQL one costs ~40 ms to import, on SQLite for
    # nothing (the agents' app imports this module at start)
    if db_or_session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


def enqueue(
    session: Session, campaign_id: int, chamber_id: int | None, where: Sequence[Any]
) -> int:
    """Queue into campaign `campaign_id` every callable business matching `where` (and of
    `chamber_id` when given): one INSERT ... SELECT, ON CONFLICT DO NOTHING. Returns how many
    tasks were added. Do-not-call and ceased businesses are never queued."""
    now = utcnow()
    conditions = [*where, Business.do_not_call.is_(False), Business.status != "ceased"]
    if chamber_id is not None:
        conditions.append(Business.chamber_id == chamber_id)
    source = select(
        literal(campaign_id),
        Business.id,
        Business.chamber_id,
        Business.department,
        literal("queued"),
        literal(0),
        literal(0),
        literal(now),
        literal(now),
    ).where(*conditions)
    stmt = (
        _insert(session)(CallTask)
        .from_select(
            [
                "campaign_id",
                "business_id",
                "chamber_id",
                "department",
                "state",
                "priority",
                "attempts",
                "created_at",
                "updated_at",
            ],
            source,
        )
        .on_conflict_do_nothing(index_elements=["campaign_id", "business_id"])
    )
    # rowcount of INSERT ... SELECT is -1 on psycopg here: count the rows it returns instead
    return sum(1 for _ in session.execute(stmt.returning(CallTask.id)))


def segment_conditions(
    session: Session, segment: Segment, person: AgentInfo | None = None
) -> list[Any]:
    """WHERE clauses over Business for `segment`; InvalidInput on an unknown status. `person`
    limits an earlier campaign (`segment.earlier`) to those they may read."""
    out: list[Any] = []
    bad = [s for s in segment.statuses if s not in BUSINESS_STATUSES]
    if bad:
        raise InvalidInput(
            _("--status {bad} : au choix {valid}").format(
                bad=", ".join(bad), valid=", ".join(BUSINESS_STATUSES)
            )
        )
    if segment.statuses:
        out.append(Business.status.in_(segment.statuses))
    if segment.trades:
        codes = [t.strip().upper() for t in segment.trades if t.strip()]
        out.append(or_(*(Business.trade_code.like(c + "%") for c in codes)))
    if segment.departments:
        out.append(Business.department.in_([d.strip().upper() for d in segment.departments]))
    if segment.chamber:
        out.append(Business.chamber_id == _chamber_id(session, segment.chamber))
    if segment.earlier is not None:
        out += earlier_conditions(session, person, segment.earlier)
    return out


def fill(db: Database, person: AgentInfo, name: str, segment: Segment) -> FillResult:
    """Queue the businesses of `segment` into campaign `name`, skipping do-not-call (audited)."""
    with db.writing() as session:
        return _fill(session, person, name, segment)


def _fill(session: Session, person: AgentInfo, name: str, segment: Segment) -> FillResult:
    campaign_id, chamber_id = find_campaign(session, person, name)
    where = segment_conditions(session, segment, person)
    scoped = [*where] + ([Business.chamber_id == chamber_id] if chamber_id else [])
    dnc = session.scalar(
        select(func.count(Business.id)).where(*scoped, Business.do_not_call.is_(True))
    )
    matched = session.scalar(
        select(func.count(Business.id)).where(
            *scoped, Business.do_not_call.is_(False), Business.status != "ceased"
        )
    )
    added = enqueue(session, campaign_id, chamber_id, where)
    campaign = _load(session, name)
    if sees_all(person) or campaign.chamber_id == person.chamber_id:
        # the segment it was filled from; a regional supervisor filling a national campaign
        # with their chamber's firms leaves CMA France's campaign as it is (the database's
        # row-level security would refuse the change: see security.campaigns_policies)
        campaign.target = segment.as_json() or None
    record_audit(
        session,
        agent_id=person.id,
        action="campaign_fill",
        entity="campaign",
        entity_id=campaign_id,
        detail={"name": name, "segment": segment.as_json(), "added": added, "matched": matched},
    )
    return FillResult(name, matched or 0, added, (matched or 0) - added, dnc or 0)


def find_campaign(session: Session, person: AgentInfo, name: str) -> tuple[int, int | None]:
    """(campaign id, chamber to queue into) for `person` filling `name`; Forbidden otherwise."""
    ensure_supervisor(person)
    campaign = _load(session, name)
    if campaign.status == "closed":
        raise InvalidInput(_("campagne {name} close : rien à y ajouter").format(name=name))
    chamber_id = campaign.chamber_id
    if not sees_all(person):
        if chamber_id not in (None, person.chamber_id):
            _may_change(person, chamber_id)
        chamber_id = person.chamber_id
    return campaign.id, chamber_id
