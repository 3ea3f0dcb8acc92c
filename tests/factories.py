"""Plain functions that insert test rows with Core inserts (valid SIRETs, E.164 phones).

Every function takes a `Database` and returns the new row's id. Counters keep logins, names,
SIRETs and phones unique within a test session.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from outreach.db.engine import Database
from outreach.db.models import Agent, Business, CallTask, Campaign, Chamber, Department
from outreach.domain.siret import luhn_complete
from outreach.domain.text import fold
from outreach.services.clock import utcnow
from outreach.services.queue import claim_next
from outreach.services.types import CallInput, ClaimedTask

_seq = itertools.count(1)

# a mobile prefix per overseas département, under its own country code
_MOBILE_PREFIX = {
    "971": "+590690",
    "972": "+596696",
    "973": "+594694",
    "974": "+262692",
    "976": "+262639",
}


def next_number() -> int:
    return next(_seq)


def make_siret(n: int | None = None) -> str:
    """A valid SIRET (Luhn on the SIREN and on all 14 digits), unique per `n`."""
    n = next_number() if n is None else n
    siren = luhn_complete(f"{(n * 7919) % 10**8:08d}")
    return luhn_complete(siren + f"{n % 10**4:04d}")


def make_phone(department: str = "75", n: int | None = None) -> str:
    """A valid E.164 mobile number for a business of `department`."""
    n = next_number() if n is None else n
    prefix = _MOBILE_PREFIX.get(department)
    if prefix:
        return f"{prefix}{n % 10**6:06d}"
    return f"+336{n % 10**8:08d}"


def chamber_id(db: Database, code: str) -> int:
    with db.reading() as s:
        return int(s.execute(select(Chamber.id).where(Chamber.code == code)).scalar_one())


def chamber_of_department(db: Database, department: str) -> int:
    with db.reading() as s:
        return int(
            s.execute(
                select(Department.chamber_id).where(Department.code == department)
            ).scalar_one()
        )


def make_agent(
    db: Database,
    login: str | None = None,
    *,
    chamber: str = "IDF",
    role: str = "agent",
    **fields: Any,
) -> int:
    n = next_number()
    values: dict[str, Any] = {
        "login": login or f"agent{n}",
        "name": fields.pop("name", f"Agent {n}"),
        "chamber_id": chamber_id(db, chamber),
        "role": role,
        "created_at": utcnow(),
    }
    values.update(fields)
    with db.writing() as s:
        return int(s.execute(insert(Agent).values(**values).returning(Agent.id)).scalar_one())


def make_business(
    db: Database,
    name: str | None = None,
    *,
    department: str = "75",
    phone: str | None | bool = True,
    phone_alt: str | None = None,
    **fields: Any,
) -> int:
    """A business of `department` (its chamber follows); `phone=True` makes a valid number."""
    n = next_number()
    name = name or f"Entreprise {n}"
    siret = fields.pop("siret", None) or make_siret(n)
    values: dict[str, Any] = {
        "siret": siret,
        "siren": siret[:9],
        "name": name,
        "name_key": fold(name),
        "department": department,
        "chamber_id": chamber_of_department(db, department),
        "phone": make_phone(department, n) if phone is True else (phone or None),
        "phone_alt": phone_alt,
        "postcode": (department + "000")[:5] if len(department) == 2 else department + "00",
        "city": "Ville",
        "trade_code": "10.71CZ",
        "trade_label": "Boulangerie",
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    values.update(fields)
    with db.writing() as s:
        return int(s.execute(insert(Business).values(**values).returning(Business.id)).scalar_one())


def make_campaign(
    db: Database, name: str | None = None, *, chamber: str | None = None, **fields: Any
) -> int:
    """An active campaign: national when `chamber` is None. Window: every day, all day, unless
    given (tests of the queue set `now` themselves)."""
    n = next_number()
    values: dict[str, Any] = {
        "name": name or f"Campagne {n}",
        "chamber_id": chamber_id(db, chamber) if chamber else None,
        "status": "active",
        "window_days": "1234567",
        "window_hours": "00:00-24:00",
        "skip_holidays": False,
        "retry_delays": [60, 240, 1440],
        "script": [
            {"key": "online", "text": "Vendez-vous en ligne ?", "choices": ["oui", "non"]},
            {"key": "needs", "text": "Vos besoins ?", "choices": None},
        ],
        "created_at": utcnow(),
    }
    values.update(fields)
    with db.writing() as s:
        return int(s.execute(insert(Campaign).values(**values).returning(Campaign.id)).scalar_one())


def make_task(db: Database, campaign_id: int, business_id: int, **fields: Any) -> int:
    with db.writing() as s:
        b = s.execute(
            select(Business.chamber_id, Business.department).where(Business.id == business_id)
        ).one()
        values: dict[str, Any] = {
            "campaign_id": campaign_id,
            "business_id": business_id,
            "chamber_id": b.chamber_id,
            "department": b.department,
            "created_at": fields.pop("created_at", utcnow()),
            "updated_at": utcnow(),
        }
        values.update(fields)
        return int(s.execute(insert(CallTask).values(**values).returning(CallTask.id)).scalar_one())


def make_queue(
    db: Database,
    campaign_id: int,
    count: int,
    *,
    department: str = "75",
    created_at: datetime | None = None,
    **task_fields: Any,
) -> list[int]:
    """`count` businesses of `department`, each queued in the campaign; their task ids."""
    now = utcnow()
    cham = chamber_of_department(db, department)
    rows = []
    for _ in range(count):
        n = next_number()
        siret = make_siret(n)
        rows.append(
            {
                "siret": siret,
                "siren": siret[:9],
                "name": f"Entreprise {n}",
                "name_key": f"entreprise {n}",
                "department": department,
                "chamber_id": cham,
                "phone": make_phone(department, n),
                "created_at": now,
                "updated_at": now,
            }
        )
    with db.writing() as s:
        ids = [
            int(r)
            for r in s.execute(
                insert(Business).returning(Business.id, sort_by_parameter_order=True), rows
            ).scalars()
        ]
        tasks = [
            {
                "campaign_id": campaign_id,
                "business_id": bid,
                "chamber_id": cham,
                "department": department,
                "created_at": created_at or now,
                "updated_at": now,
                **task_fields,
            }
            for bid in ids
        ]
        return [
            int(r)
            for r in s.execute(
                insert(CallTask).returning(CallTask.id, sort_by_parameter_order=True), tasks
            ).scalars()
        ]


def claim(
    db: Database, agent_id: int, campaign_id: int, now: datetime | None = None
) -> ClaimedTask:
    """`claim_next` where the test expects a business to be offered: fails when none is."""
    task = claim_next(db, agent_id, campaign_id, now=now)
    assert task is not None, f"agent {agent_id}: nothing to claim in campaign {campaign_id}"
    return task


def call_on(
    agent: int, task: ClaimedTask, outcome: str, at: datetime, minutes: int = 2, **kw: Any
) -> CallInput:
    """The call `agent` records on the claimed `task`: started at `at`, `minutes` long (a fresh
    uuid unless `uuid=` is given; other CallInput fields through `kw`)."""
    return CallInput(
        uuid=kw.pop("uuid", str(uuid.uuid4())),
        agent_id=agent,
        campaign_id=task.campaign_id,
        business_id=task.business.id,
        task_id=task.task_id,
        outcome=outcome,
        started_at=at,
        ended_at=at + timedelta(minutes=minutes),
        **kw,
    )
