"""Seeding: both profiles on both backends, every row valid and consistent, same seed same data."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import phonenumbers
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, text

from outreach.cli import cli
from outreach.cli.base import AppContext
from outreach.db import migrate
from outreach.db import models as m
from outreach.db.engine import Database, open_database
from outreach.domain.geography import DEPARTMENTS_BY_CODE, department_of_postcode
from outreach.domain.outcomes import OUTCOMES_BY_CODE
from outreach.domain.phones import format_national, parse_phone
from outreach.domain.referrals import PLATFORM_NAMES
from outreach.domain.siret import luhn_complete, luhn_ok, parse_siret
from outreach.domain.text import fold
from outreach.domain.trades import TRADES
from outreach.errors import InvalidInput
from outreach.services.seeding import national_plan, seed_demo, seed_national
from outreach.services.seeding.businesses import siret_of
from outreach.services.seeding.pools import make_pools
from outreach.services.seeding.reference import SEEDED_TABLES

NOW = datetime(2026, 11, 27, 14, 30)
REGION_OF = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT"}
# Metropolitan fixed-line zones, written out independently of the seeding code.
ZONE = {
    **dict.fromkeys("75 77 78 91 92 93 94 95".split(), "1"),
    **dict.fromkeys("22 29 35 56 14 27 50 61 76 44 49 53 72 85 18 28 36 37 41 45".split(), "2"),
    **dict.fromkeys(
        "02 59 60 62 80 08 10 51 52 54 55 88 67 68 57 21 25 39 58 70 71 89 90".split(), "3"
    ),
    **dict.fromkeys(
        "01 03 07 15 26 38 42 43 63 69 73 74 04 05 06 13 83 84 2A 2B 11 30 34 48 66".split(), "4"
    ),
    **dict.fromkeys("16 17 19 23 24 33 40 47 64 79 86 87 09 12 31 32 46 65 81 82".split(), "5"),
}
TABLE_MODELS = {
    "agents": m.Agent,
    "campaigns": m.Campaign,
    "businesses": m.Business,
    "call_tasks": m.CallTask,
    "calls": m.Call,
    "call_answers": m.CallAnswer,
    "referrals": m.Referral,
}


def counts(db: Database) -> dict[str, int]:
    with db.reading() as s:
        return {
            t: s.scalar(select(func.count()).select_from(model)) or 0
            for t, model in TABLE_MODELS.items()
        }


def test_zone_table_covers_every_metropolitan_department() -> None:
    metro = {c for c in DEPARTMENTS_BY_CODE if len(c) == 2}
    assert set(ZONE) == metro


def test_siret_blocks_agree_with_the_domain_luhn() -> None:
    for body in (10_000_000, 73_282_932, 99_999_999, 12_345_678, 40_404_040):
        for nic in range(18):
            siren, siret = siret_of(body, nic)
            assert siren == luhn_complete(f"{body:08d}")
            assert siret == luhn_complete(siret[:13])
            assert parse_siret(siret) == siret


def test_trades_have_nafa_codes_and_closed_shops() -> None:
    assert len(TRADES) >= 40
    assert len({t.code for t in TRADES}) == len(TRADES)
    assert all(re.fullmatch(r"\d\d\.\d\d[A-Z][A-Z]", t.code) for t in TRADES)
    closed = {t.word for t in TRADES if t.closed_lockdown2}
    assert {"Coiffure", "Fleuriste", "Bijouterie", "Cordonnerie"} <= closed
    assert "Boulangerie" not in closed


def test_demo_same_counts_and_rows_on_sqlite_and_postgresql(
    sqlite_db: Database, pg_db: Database
) -> None:
    seed_demo(sqlite_db, seed=7, now=NOW)
    seed_demo(pg_db, seed=7, now=NOW)
    assert counts(sqlite_db) == counts(pg_db)
    query = select(m.Business.siret, m.Business.name, m.Business.phone).order_by(m.Business.id)
    with sqlite_db.reading() as a, pg_db.reading() as b:
        assert a.execute(query.limit(200)).all() == b.execute(query.limit(200)).all()
        calls = select(m.Call.uuid, m.Call.started_at, m.Call.outcome).order_by(m.Call.id)
        assert a.execute(calls.limit(200)).all() == b.execute(calls.limit(200)).all()


def test_demo_businesses_are_valid_and_french(db: Database) -> None:
    report = seed_demo(db, seed=3, now=NOW)
    assert report.counts["businesses"] == 3_000
    pools = make_pools(3)
    last_names = set(pools.last_names)
    with db.reading() as s:
        chamber_of = dict(s.execute(select(m.Department.code, m.Department.chamber_id)).all())
        rows = s.execute(select(m.Business)).scalars().all()
    sirets = [b.siret for b in rows]
    assert len(set(sirets)) == len(sirets)
    for b in rows:
        assert parse_siret(b.siret) == b.siret and luhn_ok(b.siret) and b.siren == b.siret[:9]
        assert department_of_postcode(b.postcode or "") == b.department, (b.postcode, b.department)
        assert b.chamber_id == chamber_of[b.department]
        assert b.name.strip() and b.name_key == fold(b.name)
        assert any(last in b.name for last in last_names) or any(
            t.word in b.name for t in TRADES
        ), b.name
        assert b.city and b.address and b.trade_code and b.trade_label
        for phone in (b.phone, b.phone_alt):
            if phone is None:
                continue
            number = phonenumbers.parse(phone, None)
            assert phonenumbers.is_valid_number(number), phone
            assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == phone
            assert parse_phone(format_national(phone), b.department) == phone
            region = phonenumbers.region_code_for_number(number)
            assert region == REGION_OF.get(b.department, "FR"), (phone, b.department)
            national = format_national(phone).replace(" ", "")
            if region == "FR" and national[1] in "12345":
                assert national[1] == ZONE[b.department], (phone, b.department)
        assert b.status in ("open", "closed_admin", "ceased")
        assert b.employees is not None and b.employees >= 0
    assert {b.department for b in rows} >= {"971", "972", "973", "974", "976", "2A", "2B", "75"}
    assert len({b.chamber_id for b in rows}) == 20
    assert any(b.phone and b.phone.startswith("+262") for b in rows)


def test_demo_history_is_consistent(db: Database) -> None:
    seed_demo(db, seed=5, now=NOW)
    with db.reading() as s:
        lockdown_of = {c.id: c.lockdown_id for c in s.execute(select(m.Campaign)).scalars()}
        dates = {
            lk.id: (lk.starts_on, lk.ends_on) for lk in s.execute(select(m.Lockdown)).scalars()
        }
        agent_chamber = dict(s.execute(select(m.Agent.id, m.Agent.chamber_id)).all())
        business_chamber = dict(s.execute(select(m.Business.id, m.Business.chamber_id)).all())
        calls = s.execute(select(m.Call).order_by(m.Call.started_at, m.Call.id)).scalars().all()
        tasks = {t.id: t for t in s.execute(select(m.CallTask)).scalars()}
        referrals = s.execute(select(m.Referral)).scalars().all()
        first_events = dict(
            s.execute(
                select(m.ReferralEvent.referral_id, m.ReferralEvent.to_state).where(
                    m.ReferralEvent.from_state.is_(None)
                )
            ).all()
        )
        answers = s.scalar(select(func.count()).select_from(m.CallAnswer))
        dnc = s.execute(select(m.Business).where(m.Business.do_not_call)).scalars().all()
        audit = s.execute(select(m.AuditLog).where(m.AuditLog.action == "seed")).scalars().all()
    per_task: dict[int, list[m.Call]] = {}
    for c in calls:
        assert c.reached == OUTCOMES_BY_CODE[c.outcome].reached
        assert c.chamber_id == business_chamber[c.business_id] == agent_chamber[c.agent_id]
        assert c.ended_at is not None and c.ended_at > c.started_at
        lockdown = lockdown_of[c.campaign_id]
        if lockdown is not None:
            starts_on, ends_on = dates[lockdown]
            assert starts_on <= c.started_at.date() <= ends_on
        per_task.setdefault(c.task_id or 0, []).append(c)
    for task_id, task_calls in per_task.items():
        task = tasks[task_id]
        assert task.attempts == len(task_calls)
        assert task.last_outcome == task_calls[-1].outcome
        assert task.business_id == task_calls[-1].business_id
    for task in tasks.values():
        if task.id not in per_task:
            assert task.attempts == 0 and task.last_outcome is None
    kinds = Counter(r.kind for r in referrals)
    for kind in ("click_and_collect", "platform", "digital_diagnostic", "cheque_numerique"):
        assert kinds[kind] > 0, kinds
    assert kinds["solidarity_fund"] > 0
    assert kinds["digital_diagnostic"] == 60
    assert all(r.partner in PLATFORM_NAMES for r in referrals if r.kind == "platform")
    # every referral's history starts with its creation event
    assert set(first_events) == {r.id for r in referrals}
    assert answers and answers > 1000
    assert dnc and all(b.do_not_call_at is not None for b in dnc)
    assert len(audit) == 1 and (audit[0].detail or {}).get("profile") == "demo"


def test_demo_live_campaign_and_fixed_logins(db: Database) -> None:
    seed_demo(db, seed=11, now=NOW)
    with db.reading() as s:
        agents = {a.login: a for a in s.execute(select(m.Agent)).scalars()}
        code_of = dict(s.execute(select(m.Chamber.id, m.Chamber.code)).all())
        live = (
            s.execute(
                select(m.Campaign).where(
                    m.Campaign.status == "active", m.Campaign.purpose == "calls"
                )
            )
            .scalars()
            .all()
        )
        assert len(live) == 1
        campaign = live[0]
        tasks = (
            s.execute(select(m.CallTask).where(m.CallTask.campaign_id == campaign.id))
            .scalars()
            .all()
        )
        closed = s.execute(
            select(m.Business.status)
            .join(m.CallTask, m.CallTask.business_id == m.Business.id)
            .join(m.Campaign, m.Campaign.id == m.CallTask.campaign_id)
            .where(m.Campaign.target.is_not(None))
        ).scalars()
        assert set(closed) == {"closed_admin"}
    assert campaign.chamber_id is None and campaign.lockdown_id is None
    assert (campaign.window_days, campaign.window_hours) == ("1234567", "00:00-24:00")
    assert campaign.skip_holidays is False
    assert [q["key"] for q in campaign.script] == ["vente_en_ligne", "besoin_accompagnement"]
    expected = {
        "demo": ("agent", "IDF"),
        "demo.superviseur": ("supervisor", "IDF"),
        "cmaf.admin": ("admin", "CMAF"),
        "cmaf.superviseur": ("supervisor", "CMAF"),
        "reu.agent3": ("agent", "REU"),
        "cor.superviseur": ("supervisor", "COR"),
    }
    for login, (role, chamber) in expected.items():
        assert (agents[login].role, code_of[agents[login].chamber_id]) == (role, chamber)
        assert agents[login].pin_hash is None
    queued = [t for t in tasks if t.state == "queued"]
    assert all(t.claimed_by is None and t.lease_expires_at is None for t in tasks)
    assert all(t.next_attempt_at is None or t.next_attempt_at <= NOW for t in queued)
    assert {code_of[t.chamber_id] for t in queued} == set(code_of.values()) - {"CMAF"}
    callbacks = [t for t in tasks if t.state == "callback"]
    assert all(t.next_attempt_at and t.callback_team_at and t.attempts == 1 for t in callbacks)
    demo_id = agents["demo"].id
    mine = [t for t in callbacks if t.callback_agent_id == demo_id]
    today = [t for t in mine if t.next_attempt_at and t.next_attempt_at.date() == NOW.date()]
    tomorrow = NOW.date() + timedelta(days=1)
    assert len(today) >= 3 and any(t.next_attempt_at and t.next_attempt_at <= NOW for t in today)
    assert any(t.next_attempt_at and t.next_attempt_at.date() == tomorrow for t in mine)
    assert all(code_of[t.chamber_id] == "IDF" for t in mine)
    for t in mine:
        assert t.next_attempt_at is not None
        assert t.callback_team_at == t.next_attempt_at + timedelta(minutes=30)
    assert any(t.callback_agent_id == agents["bre.agent1"].id for t in callbacks)


def test_national_tiny_scale_keeps_the_proportions(db: Database) -> None:
    scale = 0.002
    plan = national_plan(scale)
    report = seed_national(db, scale=scale, seed=1, now=NOW)
    with db.reading() as s:
        per_lockdown = dict(
            s.execute(
                select(m.Lockdown.name, func.count(m.Call.id))
                .join(m.Campaign, m.Campaign.lockdown_id == m.Lockdown.id)
                .join(m.Call, m.Call.campaign_id == m.Campaign.id)
                .group_by(m.Lockdown.name)
            ).all()
        )
        l2_businesses = s.scalar(
            select(func.count(func.distinct(m.Call.business_id)))
            .join(m.Campaign, m.Campaign.id == m.Call.campaign_id)
            .join(m.Lockdown, m.Lockdown.id == m.Campaign.lockdown_id)
            .where(m.Lockdown.name == "confinement-2")
        )
        cc_tasks = s.scalar(
            select(func.count())
            .select_from(m.CallTask)
            .join(m.Campaign, m.Campaign.id == m.CallTask.campaign_id)
            .where(m.Campaign.target.is_not(None))
        )
        diagnostics = s.scalar(select(func.count()).where(m.Referral.kind == "digital_diagnostic"))
        live_states = dict(
            s.execute(
                select(m.CallTask.state, func.count())
                .join(m.Campaign, m.Campaign.id == m.CallTask.campaign_id)
                .where(m.Campaign.status == "active", m.Campaign.purpose == "calls")
                .group_by(m.CallTask.state)
            ).all()
        )
    full = {"confinement-1": 1_050_000, "confinement-2": 1_300_000, "confinement-3": 160_000}
    for name, count in full.items():
        assert per_lockdown[name] == pytest.approx(count * scale, abs=2)
    assert per_lockdown["confinement-1"] + per_lockdown["confinement-2"] > 2_300_000 * scale
    assert l2_businesses == 850_000 * scale
    assert cc_tasks == 16_000 * scale
    assert diagnostics == 5_000 * scale
    # the live campaign holds every lockdown-2 business, nearly all queued
    assert sum(live_states.values()) == 850_000 * scale
    assert live_states["queued"] > 0.85 * 850_000 * scale
    assert set(live_states) == {"queued", "callback", "cancelled"}
    assert report.counts["businesses"] == plan.businesses == 2_000
    if db.is_sqlite:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def dump(db: Database) -> dict[str, list[tuple[object, ...]]]:
    with db.reading() as s:
        return {
            table: [tuple(r) for r in s.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()]
            for table in SEEDED_TABLES
        }


def _sqlite(path: Path, templates_db: Path) -> Database:
    path.write_bytes(templates_db.read_bytes())
    return open_database(f"sqlite:///{path}")


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path, sqlite_db: Database) -> None:
    template = Path(sqlite_db.url.database or "")
    dbs = [_sqlite(tmp_path / f"{i}.sqlite3", template) for i in range(3)]
    try:
        seed_national(dbs[0], scale=0.001, seed=42, now=NOW)
        seed_national(dbs[1], scale=0.001, seed=42, now=NOW)
        seed_national(dbs[2], scale=0.001, seed=43, now=NOW)
        first, second, other = (dump(d) for d in dbs)
        assert first == second
        assert first["businesses"] != other["businesses"]
        assert first["calls"] != other["calls"]
    finally:
        for d in dbs:
            d.dispose()


def test_seeding_twice_is_refused_and_changes_nothing(db: Database) -> None:
    seed_demo(db, seed=1, now=NOW)
    before = counts(db)
    with pytest.raises(InvalidInput, match="contient déjà des entreprises"):
        seed_demo(db, seed=1, now=NOW)
    assert counts(db) == before


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=AppContext())


def test_cli_seeds_demo_and_prints_rows_per_table(db_url: str, db: Database) -> None:
    # --no-roles: the demo logins are fixed names, and PostgreSQL roles are global to a server
    r = run("--db", db_url, "seed", "--profile", "demo", "--random-seed", "9", "--no-roles")
    assert r.exit_code == 0, r.output
    assert "seed demo" in r.output and "businesses" in r.output and "lignes/s" in r.output
    assert counts(db)["businesses"] == 3_000
    again = run("--db", db_url, "seed", "--profile", "demo")
    assert again.exit_code != 0
    assert "contient déjà des entreprises" in again.output
    assert "Traceback" not in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "regional"], "profil inconnu : 'regional' (profils : demo, national)"),
        (
            ["--profile", "national", "--scale", "beaucoup"],
            "--scale 'beaucoup' : attendu un nombre",
        ),
        (["--profile", "national", "--scale", "-1"], "attendu un nombre > 0"),
        (["--profile", "demo", "--scale", "0.5"], "--scale ne s'applique qu'au profil national"),
        (["--profile", "demo", "--random-seed", "x"], "--random-seed 'x' : attendu un entier"),
    ],
)
def test_cli_bad_arguments_are_one_french_line(
    sqlite_db: Database, args: list[str], message: str
) -> None:
    url = sqlite_db.url.render_as_string(hide_password=False)
    r = run("--db", url, "seed", *args)
    assert r.exit_code != 0
    assert message in r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert counts(sqlite_db)["businesses"] == 0


def test_cli_refuses_a_database_behind_the_schema(tmp_path: Path) -> None:
    behind = open_database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    migrate.upgrade(behind, "0001")
    behind.dispose()
    r = run("--db", str(tmp_path / "old.sqlite3"), "seed", "--profile", "demo")
    assert r.exit_code != 0
    assert "db upgrade" in r.output and "Traceback" not in r.output
    fresh = run("--db", str(tmp_path / "new.sqlite3"), "seed", "--profile", "demo")
    assert fresh.exit_code != 0 and "aucune base à" in fresh.output


def test_demo_login_gets_work_from_the_queue_at_once(db: Database) -> None:
    """The queue service, as the TUI calls it, hands `demo` an IDF business and its callbacks."""
    from outreach.services.queue.callbacks import my_callbacks
    from outreach.services.queue.claim import claim_next

    seed_demo(db, seed=2, now=NOW)
    with db.reading() as s:
        demo = s.scalar(select(m.Agent.id).where(m.Agent.login == "demo"))
        live = s.scalar(
            select(m.Campaign.id).where(
                m.Campaign.status == "active", m.Campaign.purpose == "calls"
            )
        )
    assert demo is not None and live is not None
    callbacks = my_callbacks(db, demo, live, now=NOW)
    assert sum(1 for c in callbacks if c.personal and c.due) >= 2
    claimed = claim_next(db, demo, live, now=NOW)
    assert claimed is not None and claimed.business.chamber_code == "IDF"
    for login in ("bre.agent1", "reu.agent2", "myt.agent1"):
        with db.reading() as s:
            agent = s.scalar(select(m.Agent.id).where(m.Agent.login == login))
        assert agent is not None
        got = claim_next(db, agent, live, now=NOW)
        assert got is not None, login


def test_seeded_columns_cover_every_required_column() -> None:
    """A NOT NULL column without a server default added to a model must be seeded too."""
    from outreach.services.seeding import COLUMNS

    for table, model in TABLE_MODELS.items():
        columns = {c.name: c for c in model.__table__.columns}
        assert set(COLUMNS[table]) <= set(columns), table
        required = {
            name
            for name, c in columns.items()
            if not c.nullable and c.server_default is None and not c.primary_key
        }
        assert required <= set(COLUMNS[table]), (table, required - set(COLUMNS[table]))


def test_national_batches_come_parents_first(sqlite_db: Database) -> None:
    from outreach.services.seeding import COLUMNS, load_reference, national_batches

    with sqlite_db.reading() as s:
        ref = load_reference(s)
    order = ["agents", "campaigns", "businesses"]
    seen: list[str] = []
    for batch in national_batches(ref, scale=0.0005, seed=1, now=NOW):
        assert all(len(row) == len(COLUMNS[batch.table]) for row in batch.rows)
        if batch.table not in seen:
            seen.append(batch.table)
    assert seen[:3] == order
    assert seen.index("call_tasks") < seen.index("calls") < seen.index("call_answers")
