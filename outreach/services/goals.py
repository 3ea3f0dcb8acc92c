"""Goals as data: dated targets of the network or of one chamber, and the progress towards them.

A supervisor of CMA France (or an admin) sets national goals, and may split one into chamber
goals in proportion to each chamber's closed firms (largest remainders, so the chambers' targets
add up to the national one); a regional supervisor sets and sees their own chamber's goals
only. Progress is counted from the base tables over the goal's dates:

- `diagnostics_done`: diagnostic referrals now done whose move to done falls in the period;
- `closed_firms_helped`: administratively closed firms with a referral made in the period and
  now in a helped state (never a declined one);
- `businesses_verified_online`: firms a verification call confirmed sell online in the period;
- `contacts`: calls made in the period.

The pace is what must be done per week from today to reach the target by its end date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from outreach.db.engine import Database, retry_busy
from outreach.db.models import Business, Call, Chamber, Goal, Referral, ReferralEvent
from outreach.domain.lifecycle import DIAGNOSTIC, DONE_STATE, HELPED_STATES
from outreach.errors import Forbidden, InvalidInput
from outreach.i18n import _
from outreach.services.access import Scope, chamber_scope, scope_of
from outreach.services.agents import NATIONAL_CHAMBER
from outreach.services.audit import record_audit
from outreach.services.clock import to_db, utcnow
from outreach.services.selection import PARIS
from outreach.services.types import AgentInfo

METRICS = ("diagnostics_done", "closed_firms_helped", "businesses_verified_online", "contacts")
ALIASES = {
    "diagnostics": "diagnostics_done",
    "helped": "closed_firms_helped",
    "verified_online": "businesses_verified_online",
    "online": "businesses_verified_online",
}
MAX_TARGET = 100_000_000


@dataclass(frozen=True, slots=True)
class GoalProgress:
    id: int
    metric: str
    chamber_code: str | None  # None: the network
    target: int
    starts_on: date
    ends_on: date
    done: int
    days_left: int  # from today to the end date, included; 0 once past
    per_week_needed: float  # to reach the target by the end date (0 when reached or past)

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.target if self.target else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "chamber": self.chamber_code,
            "target": self.target,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "done": self.done,
            "percent": round(self.percent, 1),
            "days_left": self.days_left,
            "per_week_needed": round(self.per_week_needed, 1),
        }


def parse_metric(value: str) -> str:
    """`diagnostics` or `diagnostics_done` -> diagnostics_done; InvalidInput naming the valid ones."""
    key = value.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in METRICS:
        raise InvalidInput(
            _("objectif : indicateur inconnu « {metric} » (au choix : {valid})").format(
                metric=value, valid=", ".join(("diagnostics", *METRICS[1:]))
            )
        )
    return key


def _day_bounds(starts_on: date, ends_on: date) -> tuple[datetime, datetime]:
    """The period as naive UTC bounds: from the first Paris day's start to the last one's end."""
    start = to_db(datetime.combine(starts_on, time(0), tzinfo=PARIS))
    end = to_db(datetime.combine(ends_on + timedelta(days=1), time(0), tzinfo=PARIS))
    return start, end


def count_metric(
    session: Session, metric: str, chamber_id: int | None, starts_on: date, ends_on: date
) -> int:
    """The metric's count over the period for the network (None) or one chamber."""
    start, end = _day_bounds(starts_on, ends_on)
    if metric == "contacts":
        stmt = select(func.count(Call.id)).where(Call.started_at >= start, Call.started_at < end)
        if chamber_id is not None:
            stmt = stmt.where(Call.chamber_id == chamber_id)
        return int(session.scalar(stmt) or 0)
    if metric == "businesses_verified_online":
        stmt = select(func.count(Business.id)).where(
            Business.sells_online_verified_at >= start, Business.sells_online_verified_at < end
        )
        if chamber_id is not None:
            stmt = stmt.where(Business.chamber_id == chamber_id)
        return int(session.scalar(stmt) or 0)
    if metric == "diagnostics_done":
        done_at = (
            select(ReferralEvent.referral_id)
            .where(
                ReferralEvent.to_state == DONE_STATE,
                ReferralEvent.at >= start,
                ReferralEvent.at < end,
            )
            .scalar_subquery()
        )
        stmt = (
            select(func.count(Referral.id))
            .join(Business, Business.id == Referral.business_id)
            .where(
                Referral.kind == DIAGNOSTIC,
                Referral.status == DONE_STATE,
                Referral.id.in_(done_at),
            )
        )
    else:  # closed_firms_helped
        stmt = (
            select(func.count(func.distinct(Referral.business_id)))
            .join(Business, Business.id == Referral.business_id)
            .where(
                Referral.status.in_(HELPED_STATES),
                Business.status == "closed_admin",
                Referral.created_at >= start,
                Referral.created_at < end,
            )
        )
    if chamber_id is not None:
        stmt = stmt.where(Business.chamber_id == chamber_id)
    return int(session.scalar(stmt) or 0)


def _progress(session: Session, row: Any, code: str | None, today: date) -> GoalProgress:
    done = count_metric(session, row.metric, row.chamber_id, row.starts_on, row.ends_on)
    days_left = max(0, (row.ends_on - today).days + 1)
    missing = max(0, row.target - done)
    per_week = 7.0 * missing / days_left if days_left and missing else 0.0
    return GoalProgress(
        id=row.id,
        metric=row.metric,
        chamber_code=code,
        target=row.target,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        done=done,
        days_left=days_left,
        per_week_needed=per_week,
    )


def _today(now: datetime | None) -> date:
    moment = now if now is not None else datetime.now(PARIS)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.astimezone(PARIS).date()


def goals_in_scope(
    db: Database, scope: Scope, *, metric: str | None = None, now: datetime | None = None
) -> list[GoalProgress]:
    """The goals a scope sees, with their progress: the network's for a national scope, the
    chamber's own for a chamber (never the network's: it is not theirs to reach)."""
    today = _today(now)
    with db.reading() as session:
        codes: dict[int | None, str] = dict(session.execute(select(Chamber.id, Chamber.code)).all())
        stmt = select(Goal).order_by(Goal.metric, Goal.ends_on, Goal.id)
        if scope.national:
            stmt = stmt.where(Goal.chamber_id.is_(None))
        else:
            stmt = stmt.where(Goal.chamber_id == scope.chamber_id)
        if metric is not None:
            stmt = stmt.where(Goal.metric == metric)
        rows = session.scalars(stmt).all()
        return [_progress(session, r, codes.get(r.chamber_id), today) for r in rows]


def list_goals(
    db: Database, person: AgentInfo, chamber_code: str | None = None, now: datetime | None = None
) -> list[GoalProgress]:
    """Goals of `person`'s scope (or of `--chamber CODE` within it) with their progress; a
    national supervisor's list adds every chamber's goals after the network's."""
    scope = chamber_scope(db, person, chamber_code)
    out = goals_in_scope(db, scope, now=now)
    if scope.national and chamber_code is None:
        today = _today(now)
        with db.reading() as session:
            codes: dict[int | None, str] = dict(
                session.execute(select(Chamber.id, Chamber.code)).all()
            )
            rows = session.scalars(
                select(Goal)
                .where(Goal.chamber_id.is_not(None))
                .order_by(Goal.metric, Goal.chamber_id, Goal.id)
            ).all()
            out += [_progress(session, r, codes.get(r.chamber_id), today) for r in rows]
    return out


def split_target(target: int, weights: dict[int, int]) -> dict[int, int]:
    """`target` shared in proportion to `weights` (largest remainders: the parts add up)."""
    total = sum(weights.values())
    if total == 0:
        raise InvalidInput(_("objectif : aucune entreprise fermée pour répartir l'objectif"))
    exact = {k: target * w / total for k, w in weights.items()}
    parts = {k: math.floor(v) for k, v in exact.items()}
    left = target - sum(parts.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - parts[k]), k))[:left]:
        parts[k] += 1
    return parts


def set_goal(
    db: Database,
    person: AgentInfo,
    metric: str,
    target: int,
    ends_on: date,
    *,
    starts_on: date | None = None,
    chamber_code: str | None = None,
    split: bool = False,
    now: datetime | None = None,
) -> list[GoalProgress]:
    """Set (or replace) the goal of `metric` for the network or one chamber; with `split`, a
    national goal also sets each chamber's share. Audited; returns the goals written."""
    metric = parse_metric(metric)
    if not 0 < target <= MAX_TARGET:
        raise InvalidInput(_("objectif : la cible doit être un nombre entier positif"))
    starts_on = starts_on or _today(now)
    if ends_on < starts_on:
        raise InvalidInput(_("objectif : la date de fin précède la date de début"))
    scope = chamber_scope(db, person, chamber_code)
    own = scope_of(person)
    national = scope.national and (chamber_code or "").strip().upper() in ("", NATIONAL_CHAMBER)
    if national and not own.national:
        raise Forbidden(
            _(
                "{login} supervise la chambre {own} : les objectifs nationaux sont fixés par CMA France"
            ).format(login=person.login, own=own.chamber_code)
        )
    if split and not national:
        raise InvalidInput(_("--split répartit un objectif national entre les chambres"))
    at = to_db(now) if now is not None else utcnow()

    def run() -> list[int]:
        with db.writing() as session:
            plan: list[tuple[int | None, int]] = [(None if national else scope.chamber_id, target)]
            if split:
                weights = dict(
                    session.execute(
                        select(Business.chamber_id, func.count(Business.id))
                        .where(Business.status == "closed_admin")
                        .group_by(Business.chamber_id)
                    ).all()
                )
                plan += sorted(split_target(target, weights).items())
            ids = []
            for chamber_id, value in plan:
                existing = session.scalar(
                    select(Goal.id).where(
                        Goal.metric == metric,
                        Goal.chamber_id.is_(None)
                        if chamber_id is None
                        else Goal.chamber_id == chamber_id,
                    )
                )
                values = {"target": value, "starts_on": starts_on, "ends_on": ends_on}
                if existing is None:
                    gid = session.execute(
                        Goal.__table__.insert()
                        .values(
                            metric=metric,
                            chamber_id=chamber_id,
                            created_at=at,
                            created_by=person.id,
                            **values,
                        )
                        .returning(Goal.id)
                    ).scalar_one()
                else:
                    gid = existing
                    session.execute(update(Goal).where(Goal.id == gid).values(**values))
                record_audit(
                    session,
                    agent_id=person.id,
                    action="goal.set",
                    entity="goal",
                    entity_id=gid,
                    detail={
                        "metric": metric,
                        "chamber_id": chamber_id,
                        "target": value,
                        "starts_on": starts_on.isoformat(),
                        "ends_on": ends_on.isoformat(),
                    },
                    at=at,
                )
                ids.append(int(gid))
            return ids

    ids = retry_busy(run)
    today = _today(now)
    with db.reading() as session:
        codes: dict[int | None, str] = dict(session.execute(select(Chamber.id, Chamber.code)).all())
        rows = session.scalars(select(Goal).where(Goal.id.in_(ids)).order_by(Goal.id)).all()
        return [_progress(session, r, codes.get(r.chamber_id), today) for r in rows]
