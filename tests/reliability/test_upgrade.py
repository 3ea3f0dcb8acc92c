"""Upgrades keep data: a database filled at the revision before head, upgraded, loses no row.

The rows go in through plain SQL written for the previous revision (here 0001, the schema before
the reference data), with keys that later revisions do not use. Every row of every table is read
before the upgrade and must be found afterwards with the same values (new columns may appear).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from outreach.db import migrate
from outreach.db.engine import Database

AT = datetime(2020, 11, 2, 9, 30)

ROWS: list[tuple[str, dict[str, Any]]] = [
    (
        "chambers",
        {"id": 901, "code": "TST", "name": "CMA d'essai", "region": "Essai", "kind": "regional"},
    ),
    ("departments", {"code": "ZZ", "name": "Essai", "chamber_id": 901, "timezone": "Europe/Paris"}),
    (
        "lockdowns",
        {
            "id": 91,
            "name": "essai",
            "label": "Essai",
            "starts_on": date(2020, 10, 30),
            "ends_on": date(2020, 12, 15),
            "shops_reopened_on": None,
        },
    ),
    (
        "outcomes",
        {
            "code": "essai",
            "key": "Z",
            "label_fr": "Essai",
            "label_en": "Test",
            "reached": True,
            "effect": "done",
        },
    ),
    (
        "referral_kinds",
        {"code": "essai", "label_fr": "Essai", "label_en": "Test", "follow_up": False},
    ),
    ("platforms", {"id": 901, "name": "Plateforme d'essai", "category": "marketplace"}),
    (
        "agents",
        {
            "id": 901,
            "login": "ancien",
            "name": "Agent « ancien »",
            "chamber_id": 901,
            "role": "supervisor",
            "pin_hash": None,
            "failed_pins": 2,
            "locked_until": None,
            "active": True,
            "created_at": AT,
        },
    ),
    (
        "businesses",
        {
            "id": 901,
            "siret": "73282932000074",
            "siren": "732829320",
            "name": "Boulangerie L'Épi ; DROP TABLE calls; --",
            "name_key": "boulangerie l'epi",
            "trade_code": "10.71CZ",
            "trade_label": "Boulangerie",
            "address": "1 rue Haute",
            "postcode": "75001",
            "city": "Paris",
            "department": "ZZ",
            "chamber_id": 901,
            "phone": "+33612345678",
            "phone_alt": None,
            "phone_flagged": False,
            "phone_alt_flagged": False,
            "email": "epi@example.fr",
            "status": "closed_admin",
            "employees": 3,
            "sells_online": False,
            "do_not_call": True,
            "do_not_call_at": AT,
            "created_at": AT,
            "updated_at": AT,
        },
    ),
    (
        "campaigns",
        {
            "id": 901,
            "name": "Essai confinement 2",
            "description": None,
            "lockdown_id": 91,
            "chamber_id": 901,
            "status": "paused",
            "max_attempts": 3,
            "retry_delays": "[30, 60]",
            "window_days": "12345",
            "window_hours": "10:00-13:00",
            "skip_holidays": True,
            "max_attempts_30d": 4,
            "callback_grace_minutes": 30,
            "lease_minutes": 15,
            "script": '[{"key": "online", "text": "En ligne ?", "choices": ["oui", "non"]}]',
            "script_intro": "Bonjour",
            "target": None,
            "created_at": AT,
            "created_by": 901,
        },
    ),
    (
        "call_tasks",
        {
            "id": 901,
            "campaign_id": 901,
            "business_id": 901,
            "chamber_id": 901,
            "department": "ZZ",
            "state": "done",
            "priority": 2,
            "attempts": 1,
            "next_attempt_at": None,
            "claimed_by": None,
            "claimed_at": None,
            "lease_expires_at": None,
            "callback_agent_id": None,
            "callback_team_at": None,
            "phone_index": 0,
            "last_outcome": "essai",
            "last_call_at": AT,
            "created_at": AT,
            "updated_at": AT,
        },
    ),
    (
        "calls",
        {
            "id": 901,
            "uuid": "00000000-0000-4000-8000-000000000901",
            "task_id": 901,
            "campaign_id": 901,
            "business_id": 901,
            "agent_id": 901,
            "chamber_id": 901,
            "phone": "+33612345678",
            "started_at": AT,
            "ended_at": AT,
            "outcome": "essai",
            "reached": True,
            "notes": "note ; 'quote' \U0001f600",
            "callback_at": None,
            "lease_lost": False,
            "recorded_at": AT,
        },
    ),
    (
        "referrals",
        {
            "id": 901,
            "call_id": 901,
            "business_id": 901,
            "kind": "essai",
            "partner": "P",
            "status": "proposed",
            "notes": None,
            "created_at": AT,
        },
    ),
    ("call_answers", {"id": 901, "call_id": 901, "question": "online", "answer": "non"}),
    (
        "audit_log",
        {
            "id": 901,
            "at": AT,
            "agent_id": 901,
            "action": "call.record",
            "entity": "call",
            "entity_id": "901",
            "detail": '{"outcome": "essai"}',
        },
    ),
]


def previous_revision() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    head = script.get_revision(migrate.head_revision())
    assert head is not None and isinstance(head.down_revision, str), "head has one parent"
    return head.down_revision


def _snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    meta = sa.MetaData()
    meta.reflect(db.engine)
    out = {}
    with db.engine.connect() as conn:
        for name, table in meta.tables.items():
            if name == "alembic_version":
                continue
            rows = conn.execute(sa.select(table)).mappings().all()
            out[name] = [dict(r) for r in rows]
    return out


def _key(row: dict[str, Any]) -> Any:
    return row.get("id", row.get("code"))


def test_rows_survive_upgrade_from_previous_revision(empty_db: Database) -> None:
    db = empty_db
    previous = previous_revision()
    migrate.upgrade(db, previous)
    assert migrate.current_revision(db) == previous
    with db.engine.begin() as conn:
        for table, values in ROWS:
            cols = ", ".join(values)
            params = ", ".join(f":{c}" for c in values)
            conn.execute(sa.text(f"INSERT INTO {table} ({cols}) VALUES ({params})"), values)
    before = _snapshot(db)
    assert all(before[t] for t, _v in ROWS)
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.head_revision()
    after = _snapshot(db)
    lost = []
    for table, rows in before.items():
        now = {_key(r): r for r in after.get(table, [])}
        for row in rows:
            found = now.get(_key(row))
            if found is None or any(found.get(c) != v for c, v in row.items()):
                lost.append((table, row, found))
    assert lost == []
    # and the old rows read back through the models as the code sees them
    from outreach.db.models import Business, Call

    with db.reading() as s:
        assert s.get_one(Business, 901).name == "Boulangerie L'Épi ; DROP TABLE calls; --"
        assert s.get_one(Call, 901).notes == "note ; 'quote' \U0001f600"
