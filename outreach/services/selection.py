"""Which calls a roll-up or an export covers: one place turns filters and scope into SQL.

Filters are what a supervisor types (`--lockdown confinement-2 --chamber BRE --since 2020-11-01`);
the scope is what the supervisor may see (access.py). Dates are French calendar days
(Europe/Paris): `--since 2020-11-01 --until 2020-11-30` covers the whole of November, Paris time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from outreach.db.engine import Database
from outreach.db.models import Call, Campaign, Lockdown
from outreach.errors import InvalidInput, NotFound
from outreach.i18n import _
from outreach.services.access import chamber_scope
from outreach.services.clock import to_db
from outreach.services.paris_time import PARIS
from outreach.services.types import AgentInfo


@dataclass(frozen=True, slots=True)
class CallFilter:
    """Filters as typed; every field optional."""

    lockdown: str | None = None  # lockdown name, e.g. confinement-2
    chamber: str | None = None  # chamber code, e.g. BRE
    campaign: str | None = None  # campaign name
    since: str | date | datetime | None = None  # first day (Paris) or moment, inclusive
    until: str | date | datetime | None = None  # last day (Paris) inclusive, or moment exclusive


@dataclass(frozen=True, slots=True)
class Selection:
    """Resolved filters: ids and UTC bounds, ready for SQL or for a Python recount."""

    chamber_id: int | None  # None: every chamber
    campaign_ids: frozenset[int] | None  # None: every campaign
    since: datetime | None  # naive UTC, inclusive
    until: datetime | None  # naive UTC, exclusive
    described: dict[str, Any]
    upto_id: int | None = None  # only calls with id <= this (a consistent cut for the dashboard)

    def conditions(self, calls: Any = Call) -> list[ColumnElement[bool]]:
        """WHERE clauses over `calls` (the Call entity or an alias/table of it)."""
        out: list[ColumnElement[bool]] = []
        if self.chamber_id is not None:
            out.append(calls.chamber_id == self.chamber_id)
        if self.campaign_ids is not None:
            out.append(calls.campaign_id.in_(sorted(self.campaign_ids) or [-1]))
        if self.since is not None:
            out.append(calls.started_at >= self.since)
        if self.until is not None:
            out.append(calls.started_at < self.until)
        if self.upto_id is not None:
            out.append(calls.id <= self.upto_id)
        return out

    def matches(
        self, chamber_id: int, campaign_id: int, started_at: datetime, call_id: int = 0
    ) -> bool:
        """The same test as `conditions`, in plain Python (for independent recounts)."""
        if self.upto_id is not None and call_id > self.upto_id:
            return False
        if self.chamber_id is not None and chamber_id != self.chamber_id:
            return False
        if self.campaign_ids is not None and campaign_id not in self.campaign_ids:
            return False
        if self.since is not None and started_at < self.since:
            return False
        return not (self.until is not None and started_at >= self.until)


# the years a filter may name: calls are of this century (and 0001-01-01 overflows in UTC)
FIRST_YEAR, LAST_YEAR = 2000, 2100


def parse_moment(value: str | date | datetime, *, end: bool, field: str) -> datetime:
    """A filter bound as naive UTC: a day means the Paris day (its end, exclusive, for `end`)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                value = date.fromisoformat(text)
            else:
                value = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                _("{field} : date invalide {value!r} (attendu AAAA-MM-JJ)").format(
                    field=field, value=text
                )
            ) from None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidInput(
            _("{field} : date hors limites {value} (années {first} à {last})").format(
                field=field, value=value.isoformat(), first=FIRST_YEAR, last=LAST_YEAR
            )
        )
    if isinstance(value, datetime):
        return to_db(value if value.tzinfo else value.replace(tzinfo=PARIS))
    day = value + timedelta(days=1) if end else value
    return to_db(datetime.combine(day, time(0), tzinfo=PARIS))


def _campaign_ids(session: Session, filt: CallFilter) -> frozenset[int] | None:
    ids: set[int] | None = None
    if filt.lockdown:
        lockdown_id = session.scalar(select(Lockdown.id).where(Lockdown.name == filt.lockdown))
        if lockdown_id is None:
            names = session.scalars(select(Lockdown.name).order_by(Lockdown.starts_on)).all()
            raise NotFound(
                _("confinement inconnu : {name} (connus : {names})").format(
                    name=filt.lockdown, names=", ".join(names)
                )
            )
        ids = set(session.scalars(select(Campaign.id).where(Campaign.lockdown_id == lockdown_id)))
    if filt.campaign:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.name == filt.campaign))
        if campaign_id is None:
            raise NotFound(_("campagne inconnue : {name}").format(name=filt.campaign))
        ids = {campaign_id} if ids is None else ids & {campaign_id}
    return None if ids is None else frozenset(ids)


def resolve(db: Database, person: AgentInfo, filt: CallFilter | None = None) -> Selection:
    """The calls `person` asked for and may see; Forbidden outside their chamber."""
    filt = filt or CallFilter()
    scope = chamber_scope(db, person, filt.chamber)
    since = parse_moment(filt.since, end=False, field="--since") if filt.since else None
    until = parse_moment(filt.until, end=True, field="--until") if filt.until else None
    if since and until and until <= since:
        raise InvalidInput(_("--until doit suivre --since"))
    with db.reading() as session:
        campaign_ids = _campaign_ids(session, filt)
    described: dict[str, Any] = {
        "lockdown": filt.lockdown,
        "chamber": scope.chamber_code,
        "campaign": filt.campaign,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }
    return Selection(
        scope.chamber_id,
        campaign_ids,
        since,
        until,
        {k: v for k, v in described.items() if v is not None},
    )


def chamber_departments(db: Database, code: str) -> list[str]:
    """The départements of the chamber `code` (what `--chamber` means for businesses: those
    whose département belongs to it)."""
    from outreach.db.models import Chamber, Department

    with db.reading() as session:
        return list(
            session.scalars(
                select(Department.code)
                .join(Chamber, Chamber.id == Department.chamber_id)
                .where(Chamber.code == code.strip().upper())
                .order_by(Department.code)
            )
        )
