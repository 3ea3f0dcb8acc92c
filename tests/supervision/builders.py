"""A small, hand-written data set for the supervisors' tests (every figure is known by heart).

Rows go in through plain Core inserts, so the tests do not depend on the services under test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select

from outreach.db.engine import Database
from outreach.db.models import (
    Agent,
    Business,
    Call,
    CallAnswer,
    Campaign,
    Chamber,
    Lockdown,
    Referral,
)
from outreach.domain.outcomes import outcome
from outreach.domain.siret import luhn_complete
from outreach.domain.text import fold

NOW = datetime(2026, 11, 27, 12, 0)


def make_siret(n: int) -> str:
    siren = luhn_complete(f"{n:08d}")
    return luhn_complete(siren + "0001")


@dataclass
class World:
    chamber: dict[str, int] = field(default_factory=dict)
    agent: dict[str, int] = field(default_factory=dict)
    business: dict[str, int] = field(default_factory=dict)
    campaign: dict[str, int] = field(default_factory=dict)
    call: dict[int, int] = field(default_factory=dict)  # call number -> id


def add_agent(db: Database, w: World, login: str, role: str, chamber: str) -> int:
    with db.writing() as s:
        aid = s.execute(
            insert(Agent)
            .values(
                login=login,
                name=login.title(),
                chamber_id=w.chamber[chamber],
                role=role,
                created_at=NOW,
            )
            .returning(Agent.id)
        ).scalar_one()
    w.agent[login] = aid
    return aid


def add_business(
    db: Database,
    w: World,
    key: str,
    n: int,
    chamber: str,
    department: str,
    *,
    name: str | None = None,
    phone: str | None = "+33612345678",
    status: str = "open",
    trade: str | None = "10.71CZ",
    do_not_call: bool = False,
) -> int:
    name = name or f"Entreprise {key}"
    siret = make_siret(n)
    with db.writing() as s:
        bid = s.execute(
            insert(Business)
            .values(
                siret=siret,
                siren=siret[:9],
                name=name,
                name_key=fold(name),
                trade_code=trade,
                department=department,
                chamber_id=w.chamber[chamber],
                phone=phone,
                status=status,
                do_not_call=do_not_call,
                created_at=NOW,
                updated_at=NOW,
            )
            .returning(Business.id)
        ).scalar_one()
    w.business[key] = bid
    return bid


def add_campaign(
    db: Database, w: World, name: str, lockdown: str | None, chamber: str | None = None
) -> int:
    with db.writing() as s:
        lockdown_id = (
            s.scalar(select(Lockdown.id).where(Lockdown.name == lockdown)) if lockdown else None
        )
        cid = s.execute(
            insert(Campaign)
            .values(
                name=name,
                lockdown_id=lockdown_id,
                chamber_id=w.chamber[chamber] if chamber else None,
                script=[{"key": "open_online", "text": "Vendez-vous en ligne ?", "choices": None}],
                created_at=NOW,
            )
            .returning(Campaign.id)
        ).scalar_one()
    w.campaign[name] = cid
    return cid


def add_call(
    db: Database,
    w: World,
    number: int,
    campaign: str,
    business: str,
    agent: str,
    result: str,
    started: datetime,
    referrals: tuple[str, ...] = (),
    notes: str | None = None,
    answers: dict[str, str] | None = None,
) -> int:
    with db.writing() as s:
        chamber_id, phone = s.execute(
            select(Business.chamber_id, Business.phone).where(Business.id == w.business[business])
        ).one()
        call_id = s.execute(
            insert(Call)
            .values(
                uuid=str(uuid.UUID(int=number)),
                campaign_id=w.campaign[campaign],
                business_id=w.business[business],
                agent_id=w.agent[agent],
                chamber_id=chamber_id,
                phone=phone,
                started_at=started,
                ended_at=started.replace(minute=started.minute + 3),
                outcome=result,
                reached=outcome(result).reached,
                notes=notes,
                recorded_at=started,
            )
            .returning(Call.id)
        ).scalar_one()
        for kind in referrals:
            s.execute(
                insert(Referral).values(
                    call_id=call_id, business_id=w.business[business], kind=kind, created_at=started
                )
            )
        for q, a in (answers or {}).items():
            s.execute(insert(CallAnswer).values(call_id=call_id, question=q, answer=a))
    w.call[number] = call_id
    return call_id


def build_world(db: Database) -> World:
    """Two chambers, three campaigns (two lockdowns and one without), nine calls.

    | n | campaign | business | agent     | outcome     | day        | referrals                   |
    | 1 | c1       | b1 (BRE) | agent_bre | no_answer   | 2020-03-20 |                             |
    | 2 | c1       | b1 (BRE) | agent_bre | reached     | 2020-03-21 | click_and_collect           |
    | 3 | c1       | b2 (BRE) | agent_bre | busy        | 2020-03-21 |                             |
    | 4 | c1       | b6 (IDF) | agent_idf | reached     | 2020-03-22 | digital_diagnostic, cheque  |
    | 5 | c2       | b1 (BRE) | agent_bre | reached     | 2020-11-02 | digital_diagnostic          |
    | 6 | c2       | b3 (BRE) | agent_bre | refused     | 2020-11-02 |                             |
    | 7 | c2       | b6 (IDF) | agent_idf | voicemail   | 2020-11-03 |                             |
    | 8 | c2       | b7 (IDF) | agent_idf | reached     | 2020-11-03 | click_and_collect, platform |
    | 9 | c3       | b4 (BRE) | agent_bre | do_not_call | 2021-01-10 |                             |
    """
    w = World()
    with db.reading() as s:
        w.chamber = dict(s.execute(select(Chamber.code, Chamber.id)).all())
    add_agent(db, w, "sup_nat", "supervisor", "CMAF")
    add_agent(db, w, "sup_bre", "supervisor", "BRE")
    add_agent(db, w, "agent_bre", "agent", "BRE")
    add_agent(db, w, "agent_idf", "agent", "IDF")
    for i, key in enumerate(("b1", "b2", "b3", "b4", "b5"), start=1):
        add_business(db, w, key, i, "BRE", "35")
    for i, key in enumerate(("b6", "b7", "b8"), start=6):
        add_business(db, w, key, i, "IDF", "75")
    add_campaign(db, w, "c1", "confinement-1")
    add_campaign(db, w, "c2", "confinement-2")
    add_campaign(db, w, "c3", None, "BRE")
    d = datetime
    add_call(db, w, 1, "c1", "b1", "agent_bre", "no_answer", d(2020, 3, 20, 10, 0))
    add_call(
        db, w, 2, "c1", "b1", "agent_bre", "reached", d(2020, 3, 21, 10, 0), ("click_and_collect",)
    )
    add_call(db, w, 3, "c1", "b2", "agent_bre", "busy", d(2020, 3, 21, 11, 0))
    add_call(
        db,
        w,
        4,
        "c1",
        "b6",
        "agent_idf",
        "reached",
        d(2020, 3, 22, 14, 0),
        ("digital_diagnostic", "cheque_numerique"),
    )
    add_call(
        db, w, 5, "c2", "b1", "agent_bre", "reached", d(2020, 11, 2, 9, 0), ("digital_diagnostic",)
    )
    add_call(db, w, 6, "c2", "b3", "agent_bre", "refused", d(2020, 11, 2, 10, 0))
    add_call(db, w, 7, "c2", "b6", "agent_idf", "voicemail", d(2020, 11, 3, 10, 0))
    add_call(
        db,
        w,
        8,
        "c2",
        "b7",
        "agent_idf",
        "reached",
        d(2020, 11, 3, 15, 0),
        ("click_and_collect", "platform"),
    )
    add_call(db, w, 9, "c3", "b4", "agent_bre", "do_not_call", d(2021, 1, 10, 10, 0))
    return w
