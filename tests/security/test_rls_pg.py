"""Row-level security on real PostgreSQL: people connected directly (psycopg, not through the
services) see and change only what their chamber and their group allow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text

from outreach.db.engine import Database
from outreach.db.models import Business, Call, load_all
from outreach.services.queue import claim_next, record_call
from outreach.services.types import CallInput, ReferralInput
from tests.factories import claim, make_agent, make_business, make_campaign, make_task
from tests.security.conftest import Roles
from tests.supervision.builders import World, build_world

pytestmark = pytest.mark.postgresql

# Tables shared by every chamber: who is who (a person's PIN columns are not granted) and the
# catalogue. Every other table that links to a chamber, a business, a call, a task, a referral
# or a person must have row-level security (campaigns too: national ones have no chamber and
# are read by everyone, see security.campaigns_policies).
SHARED = {"agents", "departments"}
LINKS = {"chamber_id", "business_id", "call_id", "task_id", "referral_id", "agent_id"}


@pytest.fixture
def world(pg_db: Database) -> World:
    return build_world(pg_db)


@pytest.fixture
def people(roles: Roles, world: World) -> dict[str, str]:
    return {
        key: roles.add(what, chamber, role).login
        for key, (what, chamber, role) in {
            "agent": ("bre.agent1", "BRE", "agent"),
            "sup": ("bre.superviseur", "BRE", "supervisor"),
            "national": ("cmaf.superviseur", "CMAF", "supervisor"),
            "admin": ("cmaf.admin", "CMAF", "admin"),
        }.items()
    }


def _owner(db: Database) -> psycopg.Connection:
    url = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(url, autocommit=True)


def test_every_per_chamber_table_has_row_security_and_grants(pg_db: Database) -> None:
    with _owner(pg_db) as conn:
        secured = {
            r[0]
            for r in conn.execute(
                "SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r'"
            )
        }
        granted = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.role_table_grants "
                "WHERE grantee = 'outreach_admin'"
            )
        }
    missing_rls = sorted(
        t.name
        for t in load_all().sorted_tables
        if t.name not in SHARED and LINKS & set(t.columns.keys())
    )
    assert [t for t in missing_rls if t not in secured] == []
    assert sorted(t.name for t in load_all().sorted_tables if t.name not in granted) == []


def test_agent_direct_sql_stays_in_their_chamber(
    pg_db: Database, roles: Roles, world: World, people: dict[str, str]
) -> None:
    bre, idf = world.chamber["BRE"], world.chamber["IDF"]
    with roles.connect(people["agent"]) as conn:
        assert conn.execute(
            "SELECT count(*) FROM calls WHERE chamber_id = %s", (idf,)
        ).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM calls").fetchone() == (6,)
        assert conn.execute("SELECT DISTINCT chamber_id FROM businesses").fetchall() == [(bre,)]
        idf_business = world.business["b6"]
        assert conn.execute(
            "SELECT count(*) FROM referrals WHERE business_id = %s", (idf_business,)
        ).fetchone() == (0,)
        assert conn.execute(
            "SELECT count(*) FROM call_answers a JOIN calls c ON c.id = a.call_id "
            "WHERE c.chamber_id = %s",
            (idf,),
        ).fetchone() == (0,)
        for refused in (
            "UPDATE audit_log SET action = 'effacé'",
            "DELETE FROM audit_log",
            "DELETE FROM calls",
            "UPDATE calls SET notes = NULL",
            "UPDATE businesses SET name = 'x'",
            "DELETE FROM call_answers",
            "UPDATE agents SET role = 'admin'",
            "SELECT pin_hash FROM agents",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(refused)
        # an opposition is lifted only by a supervisor
        opposed = world.business["b4"]
        with _owner(pg_db) as owner:
            owner.execute("UPDATE businesses SET do_not_call = true WHERE id = %s", (opposed,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="supervisor"):
            conn.execute("UPDATE businesses SET do_not_call = false WHERE id = %s", (opposed,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="supervisor"):
            conn.execute("UPDATE businesses SET do_not_call = false")
        # a call in someone else's name, or in another chamber, is refused
        call = (
            "INSERT INTO calls (uuid, campaign_id, business_id, agent_id, chamber_id, "
            "started_at, ended_at, outcome, reached, lease_lost, recorded_at) "
            "VALUES (%s, %s, %s, %s, %s, now(), now(), 'no_answer', false, false, now())"
        )
        me = conn.execute("SELECT outreach_my_id()").fetchone()
        assert me is not None
        me = me[0]
        campaign = world.campaign["c1"]
        for agent_id, business, chamber in (
            (world.agent["agent_bre"], world.business["b1"], bre),
            (me, idf_business, idf),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute(call, (str(uuid.uuid4()), campaign, business, agent_id, chamber))
        conn.execute(call, (str(uuid.uuid4()), campaign, world.business["b1"], me, bre))
        # audit rows: in your own name only, never changed
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO audit_log (at, agent_id, action, entity) VALUES (now(), %s, 'x', 'y')",
                (world.agent["sup_nat"],),
            )
        # a temporary table named like the people's table does not make them an admin
        conn.execute(
            "CREATE TEMP TABLE agents (id int, login text, chamber_id int, role text, active bool)"
        )
        conn.execute(
            "INSERT INTO agents VALUES (%s, session_user, %s, 'admin', true)",
            (me, world.chamber["CMAF"]),
        )
        assert conn.execute("SELECT outreach_sees_all()").fetchone() == (False,)
        assert conn.execute("SELECT count(*) FROM calls").fetchone() == (7,)
        # SET ROLE to a group gives nothing more, and no other group is reachable
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET ROLE outreach_supervisor")
    with pg_db.reading() as s:
        assert s.scalar(select(Business.do_not_call).where(Business.id == opposed)) is True


def test_supervisors_by_scope_and_admins(
    pg_db: Database, roles: Roles, world: World, people: dict[str, str]
) -> None:
    idf = world.chamber["IDF"]
    with roles.connect(people["sup"]) as conn:
        assert conn.execute("SELECT count(*) FROM calls").fetchone() == (6,)
        assert (
            conn.execute(
                "UPDATE businesses SET do_not_call = false WHERE chamber_id = %s", (idf,)
            ).rowcount
            == 0
        )
        # RGPD erasure of a business of their chamber: allowed; of another: nothing to see
        assert (
            conn.execute(
                "DELETE FROM call_answers WHERE call_id IN (SELECT id FROM calls WHERE chamber_id = %s)",
                (idf,),
            ).rowcount
            == 0
        )
        opposed = world.business["b4"]
        conn.execute("UPDATE businesses SET do_not_call = true WHERE id = %s", (opposed,))
        assert (
            conn.execute(
                "UPDATE businesses SET do_not_call = false WHERE id = %s", (opposed,)
            ).rowcount
            == 1
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE audit_log SET action = 'x'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM calls")
    with roles.connect(people["national"]) as conn:
        assert conn.execute("SELECT count(*) FROM calls").fetchone() == (9,)
        assert conn.execute("SELECT count(DISTINCT chamber_id) FROM businesses").fetchone() == (2,)
    with roles.connect(people["admin"]) as conn:
        assert conn.execute("SELECT count(*) FROM calls").fetchone() == (9,)
        assert conn.execute("UPDATE audit_log SET detail = NULL WHERE false").rowcount == 0


def test_the_agents_app_works_as_the_agents_role(
    pg_db: Database, roles: Roles, world: World, people: dict[str, str]
) -> None:
    """Claim and record through the services, connected as the agent: only their chamber's
    businesses come, a call with a referral, answers and an opposition is saved."""
    campaign = make_campaign(pg_db, "Nationale")
    for _ in range(2):
        make_task(pg_db, campaign, make_business(pg_db, department="75"))
    bre_tasks = [
        make_task(pg_db, campaign, make_business(pg_db, department="35")) for _ in range(2)
    ]
    db = roles.database(people["agent"])
    me = db_id(db)
    now = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    got = claim_next(db, me, campaign, now=now)
    assert got is not None and got.task_id in bre_tasks
    from outreach.services.agent_states import current_state, set_state

    set_state(db, me, "ready", now=now)
    set_state(db, me, "on_call", business_id=got.business.id, now=now)
    assert current_state(db, me, now=now) is not None
    call = CallInput(
        uuid=str(uuid.uuid4()),
        agent_id=me,
        campaign_id=campaign,
        business_id=got.business.id,
        task_id=got.task_id,
        outcome="reached",
        started_at=now,
        ended_at=now,
        referrals=(ReferralInput("click_and_collect"),),
    )
    record_call(db, call, now=now)
    second = claim_next(db, me, campaign, now=now)
    assert second is not None and second.task_id in bre_tasks and second.task_id != got.task_id
    record_call(
        db,
        CallInput(
            uuid=str(uuid.uuid4()),
            agent_id=me,
            campaign_id=campaign,
            business_id=second.business.id,
            task_id=second.task_id,
            outcome="do_not_call",
            started_at=now,
            ended_at=now,
        ),
        now=now,
    )
    assert claim_next(db, me, campaign, now=now) is None  # the IDF tasks are not theirs
    with pg_db.reading() as s:
        assert s.scalar(select(Business.do_not_call).where(Business.id == second.business.id))
        assert s.scalar(text("SELECT count(*) FROM calls WHERE agent_id = :a"), {"a": me}) == 2
        assert s.scalar(select(Call.id).where(Call.uuid == call.uuid)) is not None


def db_id(db: Database) -> int:
    with db.reading() as s:
        return int(s.scalar(text("SELECT outreach_my_id()")))


def test_supervisors_commands_work_as_the_supervisors_role(
    pg_db: Database, roles: Roles, world: World, people: dict[str, str], tmp_path: Path
) -> None:
    """Import, export, roll-up, RGPD erasure and an opposition lifted, run by the regional
    supervisor connected as themselves: their chamber's rows only, nothing refused."""
    from click.testing import CliRunner

    from outreach.cli import cli
    from outreach.cli.base import AppContext
    from tests.supervision.builders import make_siret
    from tests.supervision.test_import import CP1252, write

    url = roles.url(people["sup"])

    def run(*args: str) -> str:
        r = CliRunner().invoke(cli, ["--db", url, *args], obj=AppContext(), env={})
        assert r.exit_code == 0, r.output
        return r.output

    path = write(tmp_path / "liste.csv", CP1252, "cp1252")
    assert "refusées" in run("import", "businesses", str(path), "--campaign", "c3")
    run("export", "calls", "--out", str(tmp_path / "appels.csv"))
    assert len((tmp_path / "appels.csv").read_text(encoding="utf-8-sig").splitlines()) == 7
    run("rollup", "--verify")
    run("dnc", "add", "--siret", make_siret(2), "--reason", "demande")
    run("dnc", "lift", "--siret", make_siret(2), "--reason", "erreur", "--yes")
    run("gdpr", "erase", "--siret", make_siret(1), "--reason", "demande du gérant", "--yes")
    with pg_db.reading() as s:
        assert s.scalar(select(Business.name).where(Business.id == world.business["b1"])) != (
            "Entreprise b1"
        )


def test_the_follow_up_loop_works_as_the_advisers_role(
    pg_db: Database, roles: Roles, world: World, people: dict[str, str]
) -> None:
    """The referral loop connected as a chamber's adviser (no owner rights): claim a referral,
    accept, book a diagnostic (its invitation queued), mark it done with a plan; a done
    click-and-collect queues the verification call (campaign made on first use), whose answer
    sets sells_online. Another chamber's referral is neither listed nor claimable."""
    from datetime import timedelta

    from outreach.db.models import EmailMessage, Referral
    from outreach.errors import OutreachError
    from outreach.services import followup
    from outreach.services.referrals import change_state

    campaign = make_campaign(pg_db, "Nationale")
    firms = {
        kind: make_task(pg_db, campaign, make_business(pg_db, department="35", email="a@b.fr"))
        for kind in ("click_and_collect", "digital_diagnostic")
    }
    idf_task = make_task(pg_db, campaign, make_business(pg_db, department="75"))
    db = roles.database(people["agent"])
    me = db_id(db)
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    owner_agent = make_agent(pg_db, f"idf{uuid.uuid4().hex[:6]}", chamber="IDF")
    for who, task, kind in (
        (owner_agent, idf_task, "click_and_collect"),
        *((me, t, k) for k, t in firms.items()),
    ):
        with pg_db.reading() as s:
            biz = s.scalar(text("SELECT business_id FROM call_tasks WHERE id = :t"), {"t": task})
        record_call(
            db if who == me else pg_db,
            CallInput(
                uuid=str(uuid.uuid4()),
                agent_id=who,
                campaign_id=campaign,
                business_id=biz,
                task_id=None,
                outcome="reached",
                started_at=now,
                ended_at=now,
                referrals=(ReferralInput(kind),),
            ),
            now=now,
        )
    listed = followup.worklist(db, me, now=now)
    assert {i.department for i in listed} == {"35"}  # BRE's only (the world's and these two)
    with pg_db.reading() as s:
        mine = set(
            s.scalars(
                text("SELECT business_id FROM call_tasks WHERE id IN (:a, :b)"),
                {"a": firms["click_and_collect"], "b": firms["digital_diagnostic"]},
            )
        )
    listed = [i for i in listed if i.business_id in mine]
    assert sorted(i.kind for i in listed) == ["click_and_collect", "digital_diagnostic"]
    with pg_db.reading() as s:
        idf_ref = s.scalar(select(Referral.id).join(Business).where(Business.department == "75"))
    assert idf_ref is not None
    with pytest.raises(OutreachError):
        followup.claim_referral(db, me, idf_ref, now=now)
    by_kind = {i.kind: i.referral_id for i in listed}
    for rid in by_kind.values():
        followup.claim_referral(db, me, rid, now=now)
        change_state(db, me, rid, "accepted", now=now)
    booked = change_state(
        db,
        me,
        by_kind["digital_diagnostic"],
        "scheduled",
        scheduled_at=datetime(2026, 12, 9, 14, 0),
        now=now,
    )
    assert booked.email_to == "a@b.fr"
    done = change_state(
        db, me, by_kind["digital_diagnostic"], "done", plan={"site": "planned"}, now=now
    )
    assert [a.action for a in done.actions] == ["site"]
    change_state(db, me, by_kind["click_and_collect"], "done", now=now)
    with db.reading() as s:
        verif = s.scalar(text("SELECT id FROM campaigns WHERE purpose = 'verification'"))
    assert verif is not None
    later = now + timedelta(days=2)
    claimed = claim(db, me, verif, now=later)
    record_call(
        db,
        CallInput(
            uuid=str(uuid.uuid4()),
            agent_id=me,
            campaign_id=verif,
            business_id=claimed.business.id,
            task_id=claimed.task_id,
            outcome="reached",
            started_at=later,
            ended_at=later,
            answers={"vend_en_ligne": "oui", "comment": "site"},
        ),
        now=later,
    )
    with pg_db.reading() as s:
        assert s.scalar(select(Business.sells_online).where(Business.id == claimed.business.id))
        assert s.scalar(select(EmailMessage.kind)) == "appointment"


def test_campaigns_stay_in_their_chamber(
    pg_db: Database, roles: Roles, world: World, people: dict[str, str]
) -> None:
    """Direct SQL on campaigns: an agent reads the national campaigns and their chamber's,
    changes none; a regional supervisor changes only their chamber's; CMA France all."""
    idf = world.chamber["IDF"]
    with _owner(pg_db) as owner:
        owner.execute(
            "INSERT INTO campaigns (name, chamber_id, status, max_attempts, retry_delays, "
            "window_days, window_hours, skip_holidays, max_attempts_30d, "
            "callback_grace_minutes, lease_minutes, script, created_at) VALUES "
            "('Francilienne', %s, 'active', 5, '[60]', '12345', '10:00-13:00', true, 4, 30, "
            "15, '[]', now())",
            (idf,),
        )
    insert = (
        "INSERT INTO campaigns (name, chamber_id, status, max_attempts, retry_delays, "
        "window_days, window_hours, skip_holidays, max_attempts_30d, callback_grace_minutes, "
        "lease_minutes, script, created_at) VALUES (%s, %s, 'active', 5, '[60]', '12345', "
        "'10:00-13:00', true, 4, 30, 15, '[]', now())"
    )
    verification = insert.replace("created_at)", "created_at, purpose)").replace(
        "now())", "now(), 'verification')"
    )
    mine_and_national = [("c1",), ("c2",), ("c3",)]
    with roles.connect(people["agent"]) as conn:
        assert conn.execute("SELECT name FROM campaigns ORDER BY name").fetchall() == (
            mine_and_national
        )
        assert conn.execute(
            "SELECT count(*) FROM campaigns WHERE chamber_id = %s", (idf,)
        ).fetchone() == (0,)
        for refused, args in (
            ("UPDATE campaigns SET status = 'closed'", ()),
            ("DELETE FROM campaigns", ()),
            (insert, ("Pirate", world.chamber["BRE"])),  # only a verification campaign
            (verification, ("Vérif IDF", idf)),  # of their own chamber
            (verification, ("Vérif nationale", None)),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(refused, args)
        conn.execute(verification, ("Vérif BRE", world.chamber["BRE"]))
    with roles.connect(people["sup"]) as conn:
        assert sorted(conn.execute("SELECT name FROM campaigns").fetchall()) == sorted(
            [*mine_and_national, ("Vérif BRE",)]
        )
        # another chamber's campaign and the national ones: nothing to change
        for where in (f"chamber_id = {idf}", "chamber_id IS NULL"):
            assert (
                conn.execute(f"UPDATE campaigns SET status = 'closed' WHERE {where}").rowcount == 0
            )
            assert conn.execute(f"DELETE FROM campaigns WHERE {where}").rowcount == 0
        for chamber in (idf, None):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute(insert, ("Pirate", chamber))
        # nor move their own campaign to another chamber
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("UPDATE campaigns SET chamber_id = %s WHERE name = 'c3'", (idf,))
        assert (
            conn.execute("UPDATE campaigns SET status = 'paused' WHERE name = 'c3'").rowcount == 1
        )
        conn.execute(insert, ("Bretonne 2", world.chamber["BRE"]))
    with roles.connect(people["national"]) as conn:
        assert conn.execute("SELECT count(*) FROM campaigns").fetchone() == (6,)
        assert (
            conn.execute("UPDATE campaigns SET status = 'paused' WHERE chamber_id IS NULL").rowcount
            == 2
        )
    with _owner(pg_db) as owner:
        assert owner.execute("SELECT name, status FROM campaigns ORDER BY name").fetchall() == [
            ("Bretonne 2", "active"),
            ("Francilienne", "active"),
            ("Vérif BRE", "active"),
            ("c1", "paused"),
            ("c2", "paused"),
            ("c3", "paused"),
        ]


def test_campaign_services_as_the_regional_supervisors_role(
    pg_db: Database, roles: Roles, world: World, people: dict[str, str]
) -> None:
    """Through the services, connected as the regional supervisor: a national campaign is
    filled with their chamber's firms (its segment stays CMA France's), their own campaign
    paused, another chamber's campaign unknown."""
    from outreach.errors import NotFound
    from outreach.services.access import require_supervisor
    from outreach.services.campaigns import Segment, change_status, fill, list_campaigns

    make_campaign(pg_db, "Francilienne", chamber="IDF")
    make_business(pg_db, department="35")
    db = roles.database(people["sup"])
    me = require_supervisor(db, people["sup"])
    assert sorted(c.name for c in list_campaigns(db, me)) == ["c1", "c2", "c3"]
    result = fill(db, me, "c1", Segment(departments=("35",)))
    assert result.added >= 1
    assert change_status(db, me, "c3", "pause").status == "paused"
    with pytest.raises(NotFound):
        change_status(db, me, "Francilienne", "pause")
    with pg_db.reading() as s:
        assert s.scalar(text("SELECT target FROM campaigns WHERE name = 'c1'")) is None
        assert (
            s.scalar(text("SELECT status FROM campaigns WHERE name = 'Francilienne'")) == "active"
        )
