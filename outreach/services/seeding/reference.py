"""What the seed reads from the database first: reference data ids and the first free ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.db import models as m
from outreach.errors import InvalidInput
from outreach.i18n import _

# Tables the seed writes, parents first (the order rows are written in).
SEEDED_TABLES = (
    "agents",
    "campaigns",
    "businesses",
    "call_tasks",
    "calls",
    "call_answers",
    "referrals",
    "agent_state_events",
)
_MODELS = {
    "agents": m.Agent,
    "campaigns": m.Campaign,
    "businesses": m.Business,
    "call_tasks": m.CallTask,
    "calls": m.Call,
    "call_answers": m.CallAnswer,
    "referrals": m.Referral,
    "agent_state_events": m.AgentStateEvent,
}
LOCKDOWN_NAMES = ("confinement-1", "confinement-2", "confinement-3")


@dataclass(frozen=True)
class Reference:
    chamber_ids: dict[str, int]  # code -> id
    department_chambers: dict[str, int]  # département code -> chamber id
    lockdowns: dict[str, tuple[int, date, date]]  # name -> (id, starts_on, ends_on)
    reached: dict[str, bool]  # outcome code -> reached
    referral_kinds: frozenset[str]
    platforms: tuple[str, ...]
    next_ids: dict[str, int]  # table -> first free id
    logins: dict[str, int]  # existing agents: login -> id


def load_reference(session: Session) -> Reference:
    """Reference data and first free ids; InvalidInput if the database already holds businesses."""
    if session.scalar(select(func.count()).select_from(m.Business)):
        raise InvalidInput(
            _(
                "la base contient déjà des entreprises : le seed ne s'applique qu'à une base "
                "neuve (créez-en une avec « outreach --db URL db upgrade »)"
            )
        )
    lockdowns = {
        row.name: (row.id, row.starts_on, row.ends_on)
        for row in session.scalars(select(m.Lockdown))
    }
    missing = [name for name in LOCKDOWN_NAMES if name not in lockdowns]
    if missing:
        raise InvalidInput(
            _("confinements absents de la table lockdowns : {names}").format(
                names=", ".join(missing)
            )
        )
    return Reference(
        chamber_ids=dict(session.execute(select(m.Chamber.code, m.Chamber.id)).all()),
        department_chambers=dict(
            session.execute(select(m.Department.code, m.Department.chamber_id)).all()
        ),
        lockdowns=lockdowns,
        reached=dict(session.execute(select(m.OutcomeRow.code, m.OutcomeRow.reached)).all()),
        referral_kinds=frozenset(session.scalars(select(m.ReferralKindRow.code))),
        platforms=tuple(session.scalars(select(m.Platform.name).order_by(m.Platform.id))),
        next_ids={
            table: (session.scalar(select(func.max(model.__table__.c.id))) or 0) + 1
            for table, model in _MODELS.items()
        },
        logins=dict(session.execute(select(m.Agent.login, m.Agent.id)).all()),
    )
