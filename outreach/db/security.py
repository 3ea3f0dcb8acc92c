"""PostgreSQL's own walls: group roles, grants and row-level security, as SQL the migrations run.

Every person has a login role (see `outreach.services.people`) in one of three group roles:
outreach_agent, outreach_supervisor, outreach_admin. What each group may do to a table is
granted here; which rows it may see and change is each table's row-level security: a person
sees the rows of their own chamber, CMA France (chamber CMAF) and admins see every chamber.
The database's owner (the installation's account) is not bound by either.

A new table is one line of a migration: `security.protect(table, link)` for a table whose rows
belong to a chamber (through `link`, see CHAMBER_OF), `security.reference(table)` for shared
reference data. tests/db/test_security.py fails for a table that has neither.

A few things a person needs to know of rows their chamber cannot see go through functions that
run as the database's owner (SECURITY DEFINER) and say only that much: which SIRETs of an
import are another chamber's firms (`sirets_elsewhere`). One does a change the person's group
may not do by itself, checked there: undoing the call an agent just recorded
(`undo_call_function`; agents have no DELETE on calls).
"""

from __future__ import annotations

from dataclasses import dataclass

AGENT, SUPERVISOR, ADMIN = "outreach_agent", "outreach_supervisor", "outreach_admin"
GROUPS = (AGENT, SUPERVISOR, ADMIN)
PEOPLE = ", ".join(GROUPS)
GROUP_OF_ROLE = {"agent": AGENT, "supervisor": SUPERVISOR, "admin": ADMIN}

# How a row names its chamber: the link column -> an SQL expression of the row's chamber id
# ({t} is the table). A table with another link adds one line here.
CHAMBER_OF = {
    "chamber_id": "{t}.chamber_id",
    "business_id": "(SELECT b.chamber_id FROM businesses b WHERE b.id = {t}.business_id)",
    "call_id": "(SELECT c.chamber_id FROM calls c WHERE c.id = {t}.call_id)",
    "task_id": "(SELECT k.chamber_id FROM call_tasks k WHERE k.id = {t}.task_id)",
    "referral_id": (
        "(SELECT b.chamber_id FROM referrals r JOIN businesses b ON b.id = r.business_id "
        "WHERE r.id = {t}.referral_id)"
    ),
    "agent_id": "(SELECT a.chamber_id FROM agents a WHERE a.id = {t}.agent_id)",
}
# Who the connected person is, for the policies: evaluated once per statement as (SELECT f()).
# Their search_path is fixed and every name qualified: a person's own temporary table named
# `agents` (pg_temp comes first in a search path) must not tell them they are an admin.
_FUNCTION = (
    "CREATE OR REPLACE FUNCTION {name}() RETURNS {type} LANGUAGE sql STABLE "
    "SET search_path = pg_catalog, pg_temp AS $$ {body} $$"
)
FUNCTIONS = (
    _FUNCTION.format(
        name="outreach_my_id",
        type="integer",
        body="SELECT id FROM public.agents WHERE login = session_user AND active",
    ),
    _FUNCTION.format(
        name="outreach_my_chamber",
        type="integer",
        body="SELECT chamber_id FROM public.agents WHERE login = session_user AND active",
    ),
    # CMA France and admins see every chamber (services.agents.works_every_chamber's rule)
    _FUNCTION.format(
        name="outreach_sees_all",
        type="boolean",
        body="SELECT coalesce((SELECT a.role = 'admin' OR c.code = 'CMAF' "
        "FROM public.agents a JOIN public.chambers c ON c.id = a.chamber_id "
        "WHERE a.login = session_user AND a.active), false)",
    ),
)
SEES_ALL = "(SELECT outreach_sees_all())"
MY_ID = "(SELECT outreach_my_id())"
MY_CHAMBER = "(SELECT outreach_my_chamber())"


@dataclass(frozen=True, slots=True)
class Rights:
    """What each group may do to a table (SQL privilege lists)."""

    agent: str = "SELECT, INSERT, UPDATE"
    supervisor: str = "SELECT, INSERT, UPDATE, DELETE"
    admin: str = "ALL"


# agents insert calls and what a call records; supervisors change their chamber's data (RGPD
# erasure blanks calls and deletes answers), and no call is ever deleted (invariant 2)
CALLS = Rights(agent="SELECT, INSERT", supervisor="SELECT, INSERT, UPDATE")
ANSWERS = Rights(agent="SELECT, INSERT")
APPEND_ONLY = Rights(agent="SELECT, INSERT", supervisor="SELECT, INSERT")
TASKS = Rights(agent="SELECT, INSERT, UPDATE", supervisor="SELECT, INSERT, UPDATE")
# a call may flag a phone, mark a business ceased or opposed (the name, address, phones: not)
BUSINESSES = Rights(
    agent="SELECT, UPDATE (phone_flagged, phone_alt_flagged, status, do_not_call, "
    "do_not_call_at, updated_at)",
    supervisor="SELECT, INSERT, UPDATE",
)
# everyone reads who is who, but a PIN's hash and wait are for supervisors and admins
AGENTS = Rights(
    agent="SELECT (id, login, name, chamber_id, role, has_pin, active, created_at)",
    supervisor="SELECT, UPDATE (pin_hash, failed_pins, locked_until)",
)


def create_groups() -> list[str]:
    """The three group roles (cluster-wide: created once, kept by every later database), the
    right to connect to this database and to use its schema and sequences."""
    out = []
    for group in GROUPS:
        # two databases of one server may be migrated at once: the loser of the race is fine
        out.append(
            "DO $$ BEGIN "
            f"IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{group}') THEN "
            f"CREATE ROLE {group} NOLOGIN; END IF; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
    out.append(
        "DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO "
        f"{PEOPLE}', current_database()); END $$"
    )
    out.append(f"GRANT USAGE ON SCHEMA public TO {PEOPLE}")
    out.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {PEOPLE}")
    return out


def grant(table: str, rights: Rights) -> list[str]:
    """Revoke what the groups had on `table`, then grant `rights`."""
    out = [f"REVOKE ALL ON {table} FROM {PEOPLE}"]
    for group, privileges in ((AGENT, rights.agent), (SUPERVISOR, rights.supervisor)):
        if privileges:
            out.append(f"GRANT {privileges} ON {table} TO {group}")
    out.append(f"GRANT {rights.admin} ON {table} TO {ADMIN}")
    out.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {PEOPLE}")
    return out


def reference(table: str, supervisor: str = "SELECT") -> list[str]:
    """Shared reference data (chambers, outcomes...): everyone reads, admins change."""
    return grant(table, Rights(agent="SELECT", supervisor=supervisor))


def protect(table: str, link: str = "chamber_id", rights: Rights | None = None) -> list[str]:
    """Grants and row-level security for a table whose rows belong to a chamber through
    `link` (a key of CHAMBER_OF): its people read and change only their chamber's rows,
    CMA France and admins every row."""
    mine = f"({SEES_ALL} OR {CHAMBER_OF[link].format(t=table)} = {MY_CHAMBER})"
    return [
        *grant(table, rights or Rights()),
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS chamber ON {table}",
        f"CREATE POLICY chamber ON {table} TO {PEOPLE} USING {mine} WITH CHECK {mine}",
    ]


def audit_log_policies() -> list[str]:
    """audit_log: read your chamber's people's rows (all for CMA France and admins); add rows
    in your own name only (an admin acting for someone writes theirs); change or delete rows:
    admins only (the grants say so too)."""
    chamber = CHAMBER_OF["agent_id"].format(t="audit_log")
    return [
        *grant("audit_log", APPEND_ONLY),
        "ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS chamber ON audit_log",
        "DROP POLICY IF EXISTS own_name ON audit_log",
        "DROP POLICY IF EXISTS admins ON audit_log",
        f"CREATE POLICY chamber ON audit_log FOR SELECT TO {PEOPLE} "
        f"USING ({SEES_ALL} OR {chamber} = {MY_CHAMBER})",
        f"CREATE POLICY own_name ON audit_log FOR INSERT TO {PEOPLE} "
        f"WITH CHECK (agent_id IS NULL OR agent_id = {MY_ID} OR {SEES_ALL})",
        f"CREATE POLICY admins ON audit_log FOR ALL TO {ADMIN} USING (true) WITH CHECK (true)",
    ]


# a row under a lease (a task, a referral being followed up): free or held by me, before and after
FREE_OR_MINE = (
    f"(claimed_by IS NULL OR claimed_by = {MY_ID} OR lease_expires_at IS NULL "
    "OR lease_expires_at <= (now() AT TIME ZONE 'UTC'))"
)
HELD_BY_ME = f"(claimed_by IS NULL OR claimed_by = {MY_ID})"


def follow_up_policies() -> list[str]:
    """What the follow-up of a referral needs of an agent: move the referral through its
    lifecycle (its state, appointment and lease columns, only while nobody else holds it), record
    a verification call's answer on the business (sells_online), and make their chamber's
    verification campaign on first use."""
    return [
        "GRANT UPDATE (status, updated_at, scheduled_at, adviser_id, claimed_by, claimed_at, "
        f"lease_expires_at) ON referrals TO {AGENT}",
        f"GRANT UPDATE (sells_online, sells_online_verified_at) ON businesses TO {AGENT}",
        f"GRANT INSERT ON campaigns TO {AGENT}",
        "DROP POLICY IF EXISTS own_claims ON referrals",
        f"CREATE POLICY own_claims ON referrals AS RESTRICTIVE FOR UPDATE TO {AGENT} "
        f"USING {FREE_OR_MINE} WITH CHECK {HELD_BY_ME}",
    ]


def agents_policies() -> list[str]:
    """What only some may do inside their chamber: an agent records calls in their own name,
    and changes a task only while nobody else holds it, leaving it held by nobody or by
    themselves; an opposition (do_not_call) is lifted only by a supervisor or an admin."""
    return [
        "DROP POLICY IF EXISTS own_calls ON calls",
        f"CREATE POLICY own_calls ON calls AS RESTRICTIVE FOR INSERT TO {AGENT} "
        f"WITH CHECK (agent_id = {MY_ID})",
        "DROP POLICY IF EXISTS own_claims ON call_tasks",
        f"CREATE POLICY own_claims ON call_tasks AS RESTRICTIVE FOR UPDATE TO {AGENT} "
        f"USING {FREE_OR_MINE} WITH CHECK {HELD_BY_ME}",
        "DROP POLICY IF EXISTS own_new_tasks ON call_tasks",
        f"CREATE POLICY own_new_tasks ON call_tasks AS RESTRICTIVE FOR INSERT TO {AGENT} "
        f"WITH CHECK {HELD_BY_ME}",
        # a trigger, since a policy cannot see the row as it was before the change
        "CREATE OR REPLACE FUNCTION outreach_opposition_lift() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF OLD.do_not_call AND NOT NEW.do_not_call "
        f"AND pg_has_role(session_user, '{AGENT}', 'MEMBER') "
        f"AND NOT pg_has_role(session_user, '{SUPERVISOR}', 'MEMBER') "
        f"AND NOT pg_has_role(session_user, '{ADMIN}', 'MEMBER') THEN "
        "RAISE EXCEPTION 'only a supervisor lifts an opposition (do_not_call)' "
        "USING ERRCODE = '42501'; END IF; RETURN NEW; END $$",
        "DROP TRIGGER IF EXISTS opposition_lift ON businesses",
        "CREATE TRIGGER opposition_lift BEFORE UPDATE OF do_not_call ON businesses "
        "FOR EACH ROW EXECUTE FUNCTION outreach_opposition_lift()",
    ]


def campaigns_policies() -> list[str]:
    """campaigns: everyone reads the national campaigns (chamber_id NULL) and their chamber's;
    creating, changing and deleting a campaign stays in one's own chamber (a national one:
    CMA France and admins). Agents read, and create only their chamber's verification campaign
    (on first use, see follow_up_policies and services.verification)."""
    mine = f"({SEES_ALL} OR campaigns.chamber_id = {MY_CHAMBER})"
    out = ["ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY"]
    for name in ("chamber", "change_new", "change", "change_delete", "agents_verification"):
        out.append(f"DROP POLICY IF EXISTS {name} ON campaigns")
    return [
        *out,
        f"CREATE POLICY chamber ON campaigns FOR SELECT TO {PEOPLE} "
        f"USING (campaigns.chamber_id IS NULL OR {mine})",
        f"CREATE POLICY change_new ON campaigns FOR INSERT TO {PEOPLE} WITH CHECK {mine}",
        f"CREATE POLICY change ON campaigns FOR UPDATE TO {PEOPLE} USING {mine} WITH CHECK {mine}",
        f"CREATE POLICY change_delete ON campaigns FOR DELETE TO {PEOPLE} USING {mine}",
        f"CREATE POLICY agents_verification ON campaigns AS RESTRICTIVE FOR INSERT TO {AGENT} "
        "WITH CHECK (campaigns.purpose = 'verification')",
    ]


def sirets_elsewhere() -> list[str]:
    """outreach_sirets_elsewhere(sirets): those of `sirets` that are firms of a chamber the
    connected person cannot see (none for CMA France, admins, or a connection that is no
    person). An import needs it: under row-level security such a row is invisible, yet its
    SIRET (unique) cannot be inserted again; the import rejects it with the reason instead of
    failing on the policy. It tells nothing but that the SIRET is another chamber's."""
    return [
        "CREATE OR REPLACE FUNCTION outreach_sirets_elsewhere(sirets text[]) "
        "RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER "
        "SET search_path = pg_catalog, pg_temp AS $$ "
        "SELECT b.siret::text FROM public.businesses b WHERE b.siret = ANY(sirets) "
        "AND public.outreach_my_id() IS NOT NULL AND NOT public.outreach_sees_all() "
        "AND b.chamber_id IS DISTINCT FROM public.outreach_my_chamber() $$",
        "REVOKE ALL ON FUNCTION outreach_sirets_elsewhere(text[]) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION outreach_sirets_elsewhere(text[]) TO {PEOPLE}",
    ]


# What undoing a call removes, in this order: `{p}` the schema prefix, `{call}` the call's id.
# services.queue.undo runs these on SQLite; on PostgreSQL outreach_undo_call() runs them (one
# list: a table added here needs a migration that runs undo_call_function() again).
UNDO_DELETES = (
    "DELETE FROM {p}email_messages WHERE call_id = {call}",
    "DELETE FROM {p}call_answers WHERE call_id = {call}",
    "DELETE FROM {p}referral_events WHERE referral_id IN "
    "(SELECT id FROM {p}referrals WHERE call_id = {call})",
    "DELETE FROM {p}referral_actions WHERE referral_id IN "
    "(SELECT id FROM {p}referrals WHERE call_id = {call})",
    "DELETE FROM {p}referrals WHERE call_id = {call}",
    "DELETE FROM {p}calls WHERE id = {call}",
)
# the installation's account (the database's owner, a superuser): not a person, not checked
_OWNER = (
    "(SELECT r.rolsuper OR pg_has_role(session_user, d.datdba, 'MEMBER') "
    "FROM pg_catalog.pg_roles r, pg_catalog.pg_database d "
    "WHERE r.rolname = session_user AND d.datname = current_database())"
)


def undo_call_function() -> list[str]:
    """outreach_undo_call(call id): removes a call and what it recorded (UNDO_DELETES). A
    person may only undo a call they recorded, whose task they hold again under a live lease
    (the service has just taken it back, see services.queue.undo) and after which no other
    call was made on it; anything else is refused (42501) and nothing is removed. Agents have
    no DELETE on these tables: this function is their only way, and only for that."""
    deletes = "; ".join(d.format(p="public.", call="p_call") for d in UNDO_DELETES)
    return [
        "CREATE OR REPLACE FUNCTION outreach_undo_call(p_call integer) RETURNS void "
        "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ "
        "DECLARE me integer := public.outreach_my_id(); "
        "BEGIN "
        f"IF NOT coalesce({_OWNER}, false) AND NOT EXISTS ("
        "SELECT 1 FROM public.calls c JOIN public.call_tasks k ON k.id = c.task_id "
        "WHERE c.id = p_call AND c.agent_id = me AND k.claimed_by = me "
        "AND k.lease_expires_at > (now() AT TIME ZONE 'UTC') "
        "AND NOT EXISTS (SELECT 1 FROM public.calls l WHERE l.task_id = c.task_id "
        "AND l.id > c.id)) THEN "
        "RAISE EXCEPTION 'undo refused: not a call of yours whose business you hold' "
        "USING ERRCODE = '42501'; END IF; "
        f"{deletes}; END $$",
        "REVOKE ALL ON FUNCTION outreach_undo_call(integer) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION outreach_undo_call(integer) TO {PEOPLE}",
    ]
