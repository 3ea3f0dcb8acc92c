"""The load test: N simulated agents, each a separate process, claiming and recording random
outcomes against a real database; then the invariants checked from the database.

Each agent appends every call it was told was saved (uuid, task, claim and record times) to
its own log file, flushed line by line. Afterwards the summary counts claims and calls, and
checks: every reported call is in `calls` exactly once, no call of the run is missing from the
reports, no task was held by two agents at once (overlapping claim-to-record intervals, from
the agents' logs and from the calls' started/ended times), no agent holds two tasks.

Without `--campaign` it works on its own campaign "Test de charge" (open every day, all day)
with its own businesses and agents (logins charge-01, charge-02, ...), made on first use.

One simulated agent (`agent_process`) serves the load test and the chaos run
(`outreach.services.chaos`), parametrised by what differs: how long a call lasts, whether a call
the database cannot take is kept in an outbox, whether the agent tells a conductor when it is in
a call. How it claims and records is a `Side`: the project's services (`ProjectSide`); a
benchmark passes others (the bare twin in `bench.bare`), and every agent then switches between
them at the same slice boundaries, so each side is measured under the same machine load
(`calls_by_side` in the summary).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import tempfile
import time
import traceback
import uuid as uuidlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from outreach.db.engine import Database, open_database
from outreach.db.models import Agent, Business, Call, CallTask, Campaign, Chamber
from outreach.domain.outcomes import OUTCOMES_BY_CODE
from outreach.domain.siret import luhn_complete
from outreach.errors import InvalidInput, NotFound, OutreachError
from outreach.i18n import _
from outreach.services.clock import utcnow
from outreach.services.outbox import UNREACHABLE, Outbox, record_or_keep
from outreach.services.queue import claim_next, record_call
from outreach.services.queue.context import OPEN_STATES
from outreach.services.queue.views import script_of
from outreach.services.types import CallInput, ReferralInput

CAMPAIGN_NAME = "Test de charge"
CALL_SECONDS = 0.002
AGENT_PREFIX = "charge-"
LOAD_CHAMBER = "IDF"
LOAD_DEPARTMENTS = ("75", "77", "78", "91", "92", "93", "94", "95")
# outcome mix of a real morning: many unanswered, a few callbacks and opt-outs
OUTCOME_WEIGHTS = {
    "reached": 30,
    "no_answer": 28,
    "busy": 8,
    "voicemail": 10,
    "wrong_number": 5,
    "callback": 6,
    "refused": 8,
    "ceased": 2,
    "do_not_call": 3,
}


@dataclass(frozen=True, slots=True)
class Claimed:
    """A task a simulated agent was given."""

    task_id: int
    business_id: int
    lease_expires_at: float | None = None  # epoch seconds (None: the side does not say)


class Side(Protocol):
    """How a simulated agent claims and records. Made in the agent's process by a picklable
    factory called `(plan, index)` (a class at module level)."""

    name: str

    def claim(self) -> Claimed | None: ...

    def record(self, call: CallInput) -> bool:
        """Record `call`; True when it was kept on disk to be saved later (the outbox)."""
        ...

    def close(self) -> dict[str, int]:
        """The end of the shift; counts to add to the agent's report."""
        ...


class ProjectSide:
    """The project's services, as the app uses them: `claim_next`, then `record_call` (through
    an outbox with `plan.outbox`, replayed before each claim and at the end of the shift)."""

    name = "project"

    def __init__(self, plan: Plan, index: int) -> None:
        self.agent_id, self.campaign_id = plan.agent_ids[index], plan.campaign_id
        pool = {"pool_size": 1, "max_overflow": 2} if "postgresql" in plan.url else {}
        self.db = open_database(plan.url, **pool)
        with self.db.engine.connect():
            pass  # connect before the clock starts
        if self.db.is_postgresql:  # as the bare twin builds its SQL before the clock
            from outreach.services.queue.fastpath import compile_statements

            compile_statements(self.db)
        self.outbox = (
            Outbox(Path(plan.log_dir) / f"outbox-{index:03d}.jsonl") if plan.outbox else None
        )
        self.replayed = 0

    def _replay(self) -> None:
        if self.outbox is not None and self.outbox.path.exists():
            report = self.outbox.replay(lambda c: record_call(self.db, c), agent_id=self.agent_id)
            self.replayed += report.replayed

    def claim(self) -> Claimed | None:
        self._replay()
        task = claim_next(self.db, self.agent_id, self.campaign_id)
        if task is None:
            return None
        return Claimed(task.task_id, task.business.id, task.lease_expires_at.timestamp())

    def record(self, call: CallInput) -> bool:
        if self.outbox is None:
            record_call(self.db, call)
            return False
        return record_or_keep(self.db, self.outbox, call, record_call) is None

    def close(self) -> dict[str, int]:
        pending = 0
        if self.outbox is not None:
            # the end of the shift: whatever waits in the outbox goes in (the server is back)
            grace = time.monotonic() + 30
            while self.outbox.path.exists() and self.outbox.count() and time.monotonic() < grace:
                try:
                    self._replay()
                except Exception:  # noqa: BLE001
                    time.sleep(0.5)
            pending = self.outbox.count()
        self.db.dispose()
        return {"replayed": self.replayed, "pending": pending}


@dataclass(frozen=True, slots=True)
class Plan:
    url: str
    campaign_id: int
    agent_ids: tuple[int, ...]
    chamber_id: int | None
    seconds: float
    log_dir: str
    slice_seconds: float = 5.0
    # the script question the agents answer (its key and choices): the campaign's first choice
    # question, as the service takes only listed choices
    question: tuple[str, tuple[str, ...]] | None = ("online", ("oui", "non"))
    # how the agents claim and record: one side, or several taken in turn, a slice each
    sides: tuple[Callable[[Plan, int], Side], ...] = (ProjectSide,)
    call_seconds: tuple[float, float] = (CALL_SECONDS, CALL_SECONDS)  # a call lasts between
    outbox: bool = False  # a call the database cannot take is kept and replayed, as the app does


@contextmanager
def preparing() -> Iterator[None]:
    """A database error while a load test prepares its campaign, businesses and agents becomes
    one clear message (an unreachable server is left to the caller's own message)."""
    try:
        yield
    except OperationalError:
        raise
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise OutreachError(
            _("le test de charge n'a pas pu préparer la base : {reason}").format(reason=reason)
        ) from None


def _ensure_agents(
    db: Database, count: int, chamber_code: str, prefix: str = AGENT_PREFIX
) -> tuple[int, ...]:
    with db.writing() as s:
        chamber = s.execute(select(Chamber.id).where(Chamber.code == chamber_code)).scalar_one()
        logins = [f"{prefix}{i:02d}" for i in range(1, count + 1)]
        have = dict(s.execute(select(Agent.login, Agent.id).where(Agent.login.in_(logins))).all())
        missing = [
            {
                "login": login,
                "name": f"Agent de charge {login[len(prefix) :]}",
                "chamber_id": chamber,
                "role": "agent",
                "created_at": utcnow(),
            }
            for login in logins
            if login not in have
        ]
        if missing:
            s.execute(insert(Agent), missing)
            have = dict(
                s.execute(select(Agent.login, Agent.id).where(Agent.login.in_(logins))).all()
            )
        return tuple(int(have[login]) for login in logins)


def ensure_campaign(db: Database, name: str = CAMPAIGN_NAME, lease_minutes: int = 15) -> int:
    """The load test's own campaign (made on first use): always open, short script."""
    with db.writing() as s:
        cid = s.execute(select(Campaign.id).where(Campaign.name == name)).scalar()
        if cid is None:
            cid = s.execute(
                insert(Campaign)
                .values(
                    name=name,
                    description=_("Campagne de test de charge (outreach loadtest)"),
                    status="active",
                    window_days="1234567",
                    window_hours="00:00-24:00",
                    skip_holidays=False,
                    max_attempts=5,
                    retry_delays=[60, 240, 1440],
                    max_attempts_30d=10,
                    lease_minutes=lease_minutes,
                    script=[
                        {
                            "key": "online",
                            "text": "Vendez-vous en ligne ?",
                            "choices": ["oui", "non"],
                        }
                    ],
                    created_at=utcnow(),
                )
                .returning(Campaign.id)
            ).scalar_one()
        return int(cid)


# The load test's own SIREN bodies: 98000000 to 99999999. A seeded or imported database may
# already hold any of them: those are skipped (ON CONFLICT DO NOTHING), never an error.
_FIRST_BODY, _LAST_BODY = 98_000_000, 99_999_999


def load_siret(i: int) -> tuple[str, str]:
    """(SIREN, SIRET) of the load test's i-th business: both pass the Luhn check."""
    siren = luhn_complete(f"{_FIRST_BODY + i:08d}")
    return siren, luhn_complete(siren + "0001")


def _insert_new(session: Any, rows: list[dict[str, Any]]) -> list[Any]:
    """Insert the businesses whose SIRET is free; (id, department) of those inserted."""
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        make(Business)
        .on_conflict_do_nothing(index_elements=["siret"])
        .returning(Business.id, Business.department)
    )
    return list(session.execute(stmt, rows).all())


def _top_up(db: Database, campaign_id: int, wanted: int) -> int:
    """Queue fresh businesses in the load-test campaign until `wanted` tasks are open.

    Their SIRETs are the load test's own (`load_siret`); one already in the database (seeded,
    imported, or made by an earlier run) is skipped, so this works on any database."""
    with db.reading() as s:
        open_now = s.execute(
            select(func.count())
            .select_from(CallTask)
            .where(CallTask.campaign_id == campaign_id, CallTask.state.in_(OPEN_STATES))
        ).scalar_one()
        made = s.execute(
            select(func.count()).select_from(Business).where(Business.name.like("Test de charge %"))
        ).scalar_one()
        chamber = s.execute(select(Chamber.id).where(Chamber.code == LOAD_CHAMBER)).scalar_one()
    need = wanted - int(open_now)
    now = utcnow()
    i = int(made)
    while need > 0:
        if i > _LAST_BODY - _FIRST_BODY:
            raise OutreachError(
                _(
                    "plus de SIRET libre pour le test de charge ({n} entreprises déjà faites)"
                ).format(n=made)
            )
        batch = range(i, min(i + min(need, 5000), _LAST_BODY - _FIRST_BODY + 1))
        rows = []
        for k in batch:
            siren, siret = load_siret(k)
            dep = LOAD_DEPARTMENTS[k % len(LOAD_DEPARTMENTS)]
            rows.append(
                {
                    "siret": siret,
                    "siren": siren,
                    "name": f"Test de charge {k:06d}",
                    "name_key": f"test de charge {k:06d}",
                    "department": dep,
                    "chamber_id": chamber,
                    "phone": f"+3361{k % 10**7:07d}",
                    "phone_alt": f"+3314{k % 10**7:07d}" if k % 3 == 0 else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        with db.writing() as s:
            ids = _insert_new(s, rows)
            if ids:
                s.execute(
                    insert(CallTask),
                    [
                        {
                            "campaign_id": campaign_id,
                            "business_id": bid,
                            "chamber_id": chamber,
                            "department": dep,
                            "priority": random.choice((0, 0, 0, 1, 2)),
                            "created_at": now,
                            "updated_at": now,
                        }
                        for bid, dep in ids
                    ],
                )
        i = batch.stop
        need -= len(ids)
    return max(0, wanted - int(open_now))


IDLE, IN_CALL, RECORDING = 0, 1, 2  # what an agent tells a conductor (`state`)


def _log(log: Any, entry: dict[str, Any]) -> None:
    log.write(json.dumps(entry) + "\n")


def agent_process(
    plan: Plan,
    index: int,
    ready: Any,
    start: Any,
    results: Any,
    state: Any = None,
    held: Any = None,
) -> None:
    """One simulated agent: claim, 'call', record a random outcome, log both; until the end.

    The log (agent-NNN.jsonl, a line per claim and per call it was told was saved, flushed
    line by line) is what the invariants are checked against. With `state` and `held` (shared
    arrays), `state[index]` tells a conductor when the agent is in a call and `held[index]`
    which task it holds (the chaos run kills agents mid-call). With several `plan.sides` the
    agent takes them in turn, a slice each, at the same boundaries as every other agent."""
    agent_id = plan.agent_ids[index]
    log = open(Path(plan.log_dir) / f"agent-{index:03d}.jsonl", "a", buffering=1)  # noqa: SIM115
    rng = random.Random(agent_id * 7919 + index)
    codes, weights = zip(*OUTCOME_WEIGHTS.items(), strict=True)
    errors: Counter[str] = Counter()
    samples: list[str] = []
    counts: Counter[str] = Counter()
    sides = [make(plan, index) for make in plan.sides]
    ready.put(index)
    start.wait()
    t0 = time.monotonic()
    deadline = t0 + plan.seconds

    def tell(what: int, task: int | None = None) -> None:
        if state is not None:
            state[index] = what
        if held is not None and task is not None:
            held[index] = task

    while (now := time.monotonic()) < deadline:
        side = sides[int((now - t0) / plan.slice_seconds) % len(sides)]
        try:
            got = side.claim()
            if got is None:
                counts["empty"] += 1
                time.sleep(0.05)
                continue
            counts["claims"] += 1
            tell(IDLE, got.task_id)
            claimed_at = time.time()
            claim = {"task": got.task_id, "agent": agent_id, "at": claimed_at}
            _log(log, {"event": "claim", **claim, "lease": got.lease_expires_at})
            tell(IN_CALL)
            code = rng.choices(codes, weights)[0]
            # the hold as the invariants see it: from the claim's return to the record's start
            started = datetime.now(UTC)
            time.sleep(rng.uniform(*plan.call_seconds))  # so two holds of one task would overlap
            ended = datetime.now(UTC)
            tell(RECORDING)
            referral = "click_and_collect" if code == "reached" and rng.random() < 0.3 else None
            call = CallInput(
                uuid=str(uuidlib.uuid4()),
                agent_id=agent_id,
                campaign_id=plan.campaign_id,
                business_id=got.business_id,
                task_id=got.task_id,
                outcome=code,
                started_at=started,
                ended_at=ended,
                callback_at=started + timedelta(days=1)
                if OUTCOMES_BY_CODE[code].needs_callback_time
                else None,
                referrals=(ReferralInput(referral),) if referral else (),
                answers={plan.question[0]: rng.choice(plan.question[1])} if plan.question else {},
            )
            kept = side.record(call)
            counts["kept" if kept else "recorded"] += 1
            _log(
                log,
                {
                    "event": "call",
                    "uuid": call.uuid,
                    "task": got.task_id,
                    "agent": agent_id,
                    "from": claimed_at,
                    "to": ended.timestamp(),
                    "kept": kept,
                    "at": time.time(),
                    "side": side.name,
                },
            )
            tell(IDLE, 0)
        except UNREACHABLE as exc:  # the server is away: wait and try again, reconnecting
            tell(IDLE)
            counts["unreachable"] += 1
            if len(samples) < 3:
                samples.append(str(exc).splitlines()[0][:200])
            time.sleep(0.2)
        except Exception as exc:  # noqa: BLE001 - counted and reported, the agent carries on
            tell(IDLE)
            errors[type(exc).__name__] += 1
            if len(samples) < 3:
                samples.append("".join(traceback.format_exception_only(exc)).strip()[:300])
            time.sleep(0.05)
    log.close()
    for side in sides:
        counts.update(side.close())
    results.put({"index": index, **counts, "errors": dict(errors), "samples": samples})


def read_logs(log_dir: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(claims, calls) from the agents' logs (a line torn by SIGKILL is skipped)."""
    claims: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for path in sorted(Path(log_dir).glob("agent-*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            (claims if entry.get("event") == "claim" else calls).append(entry)
    return claims, calls


def _overlaps(intervals: dict[int, list[tuple[float, float, int]]]) -> int:
    """Holds of the same task by different agents that overlap in time."""
    found = 0
    for holds in intervals.values():
        holds.sort()
        end, holder = float("-inf"), None
        for start, stop, agent in holds:
            if start < end and agent != holder:
                found += 1
            if stop > end:
                end, holder = stop, agent
    return found


def verify(
    db: Database, entries: list[dict[str, Any]], agent_ids: tuple[int, ...], since: datetime
) -> dict[str, Any]:
    """The invariants, from the database and the agents' logs."""
    reported = [e["uuid"] for e in entries]
    with db.reading() as s:
        stored = s.execute(
            select(Call.uuid, Call.task_id, Call.agent_id, Call.started_at, Call.ended_at).where(
                Call.agent_id.in_(agent_ids), Call.recorded_at >= since
            )
        ).all()
        holding = s.execute(
            select(CallTask.claimed_by, func.count())
            .where(CallTask.claimed_by.in_(agent_ids), CallTask.state.in_(OPEN_STATES))
            .group_by(CallTask.claimed_by)
            .having(func.count() > 1)
        ).all()
    stored_uuids = Counter(r.uuid for r in stored)
    missing = [u for u in reported if stored_uuids.get(u, 0) != 1]
    unreported = set(stored_uuids) - set(reported)
    by_task: dict[int, list[tuple[float, float, int]]] = {}
    for e in entries:
        by_task.setdefault(e["task"], []).append((e["from"], e["to"], e["agent"]))
    db_holds: dict[int, list[tuple[float, float, int]]] = {}
    for r in stored:
        db_holds.setdefault(r.task_id, []).append(
            (
                r.started_at.replace(tzinfo=UTC).timestamp(),
                r.ended_at.replace(tzinfo=UTC).timestamp(),
                r.agent_id,
            )
        )
    return {
        "reported_calls": len(reported),
        "reported_calls_missing_or_duplicated": len(missing),
        "stored_calls_not_reported": len(unreported),
        "overlapping_holds_in_agent_logs": _overlaps(by_task),
        "overlapping_holds_in_calls": _overlaps(db_holds),
        "agents_holding_two_tasks": len(holding),
    }


def start_agents(
    ctx: Any, agents: int, target: Callable[..., None], args: Callable[[int, Any], tuple[Any, ...]]
) -> list[Any]:
    """Start `agents` simulated agent processes (`target(*args(i, ready))`) and wait until each
    has imported and connected (puts on `ready`), so that no clock starts before they can work.
    A process that does not report within 5 minutes: all are killed, one clear error."""
    ready = ctx.Queue()
    procs = [ctx.Process(target=target, args=args(i, ready)) for i in range(agents)]
    for p in procs:
        p.start()
    try:
        for _p in procs:
            ready.get(timeout=300)
    except Exception:
        for p in procs:
            p.kill()
        raise OutreachError(_("les agents simulés n'ont pas pu démarrer")) from None
    return procs


def collect_reports(results: Any, count: int, timeout: float) -> list[dict[str, Any]]:
    """The reports of `count` agents as they end (fewer if one does not within `timeout`)."""
    reports = []
    for _i in range(count):
        try:
            reports.append(results.get(timeout=timeout))
        except Exception:  # noqa: BLE001
            break
    return reports


def tally(reports: list[dict[str, Any]]) -> tuple[Counter[str], list[str]]:
    """The agents' errors by kind, and their samples."""
    errors: Counter[str] = Counter()
    samples: list[str] = []
    for r in reports:
        errors.update(r["errors"])
        samples.extend(r["samples"])
    return errors, samples


def _prepare(
    db: Database, agents: int, seconds: float, campaign: str | None
) -> tuple[int, str, int]:
    """(campaign id, chamber code of its agents, tasks prepared) of a load test."""
    if campaign:
        with db.reading() as s:
            row = s.execute(
                select(Campaign.id, Campaign.chamber_id).where(Campaign.name == campaign)
            ).first()
        if row is None:
            raise NotFound(_("campagne inconnue : « {name} »").format(name=campaign))
        campaign_id = int(row.id)
        with db.reading() as s:
            chamber_code = (
                s.execute(
                    select(Chamber.code)
                    .join(CallTask, CallTask.chamber_id == Chamber.id)
                    .where(CallTask.campaign_id == campaign_id, CallTask.state == "queued")
                    .group_by(Chamber.code)
                    .order_by(func.count().desc())
                    .limit(1)
                ).scalar()
                or LOAD_CHAMBER
            )
        prepared = 0
    else:
        campaign_id = ensure_campaign(db)
        chamber_code = LOAD_CHAMBER
        prepared = _top_up(db, campaign_id, int(min(max(agents * seconds * 40, 5000), 60000)))
    return campaign_id, chamber_code, prepared


def question_of(db: Database, campaign_id: int) -> tuple[str, tuple[str, ...]] | None:
    """The script question simulated agents answer: the campaign's first with choices."""
    with db.reading() as s:
        script = script_of(s.scalar(select(Campaign.script).where(Campaign.id == campaign_id)))
    return next(((q.key, q.choices) for q in script if q.choices), None)


def run_loadtest(
    url: str,
    agents: int,
    seconds: float,
    campaign: str | None = None,
    sides: tuple[Callable[[Plan, int], Side], ...] = (ProjectSide,),
    slice_seconds: float = 5.0,
) -> dict[str, Any]:
    """Run the load test and return its JSON-ready summary (see the module's docstring)."""
    if agents < 1 or seconds <= 0:
        raise InvalidInput(_("il faut au moins un agent et une durée positive"))
    db = open_database(url)
    try:
        with preparing():
            campaign_id, chamber_code, prepared = _prepare(db, agents, seconds, campaign)
            agent_ids = _ensure_agents(db, agents, chamber_code)
            with db.reading() as s:
                chamber_id = s.execute(
                    select(Chamber.id).where(Chamber.code == chamber_code)
                ).scalar_one()
        since = utcnow()
        log_dir = tempfile.mkdtemp(prefix="outreach-loadtest-")
        plan = Plan(
            url,
            campaign_id,
            agent_ids,
            chamber_id,
            seconds,
            log_dir,
            slice_seconds,
            question_of(db, campaign_id),
            sides,
        )
        ctx = mp.get_context("spawn")
        start, results = ctx.Event(), ctx.Queue()
        procs = start_agents(
            ctx, agents, agent_process, lambda i, ready: (plan, i, ready, start, results)
        )
        t0 = time.monotonic()
        start.set()
        reports = collect_reports(results, agents, seconds + 120)
        elapsed = time.monotonic() - t0
        for p in procs:
            p.join(timeout=30)
        _claims, entries = read_logs(log_dir)
        checks = verify(db, entries, agent_ids, since)
        errors, samples = tally(reports)
        if unreachable := sum(r.get("unreachable", 0) for r in reports):
            errors["unreachable"] += unreachable  # a load test has no server restart to excuse it
        double = checks["overlapping_holds_in_agent_logs"] + checks["overlapping_holds_in_calls"]
        ok = (
            double == 0
            and checks["reported_calls_missing_or_duplicated"] == 0
            and checks["stored_calls_not_reported"] == 0
            and checks["agents_holding_two_tasks"] == 0
            and len(reports) == agents
        )
        return {
            "backend": db.url.get_backend_name(),
            "mode": "load",
            "agents": agents,
            "seconds": round(elapsed, 2),
            "campaign": campaign or CAMPAIGN_NAME,
            "tasks_prepared": prepared,
            "claims": sum(r.get("claims", 0) for r in reports),
            "empty_claims": sum(r.get("empty", 0) for r in reports),
            "calls_recorded": len(entries),
            "calls_per_second": round(len(entries) / elapsed, 1) if elapsed else 0.0,
            **(
                {"calls_by_side": dict(Counter(e["side"] for e in entries))}
                if len(sides) > 1
                else {}
            ),
            "double_claims": double,
            "errors": sum(errors.values()),
            "error_kinds": dict(errors),
            "error_samples": samples[:5],
            "agents_reporting": len(reports),
            "invariants": checks,
            "ok": ok,
            "logs": log_dir,
        }
    finally:
        db.dispose()
