"""Every seeded row, as batches of plain tuples in table order (parents first).

`SeedRows(plan, reference, seed, now).batches()` yields `Batch(table, rows)`; the columns of each
table are `COLUMNS[table]`. Values are what both backends take as they are: ints, strings,
None, booleans as 0/1, datetimes as naive-UTC ISO strings (SQLAlchemy's SQLite format), JSON as
text. The writer (`writer.py`) and a bare benchmark baseline both consume the same batches.

Consistency kept here: a call's outcome is from the catalogue and `reached` is its flag; a call's
chamber is its business's and its agent belongs to that chamber; calls start within their
lockdown's dates (weekdays, business hours in the business's time zone); a task's attempts,
last outcome, phone index and state follow from its calls; an opt-out or ceased outcome is the
last call the business got in history and sets its do_not_call / status.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from outreach.domain.geography import DEPARTMENTS, timezone_of
from outreach.domain.referrals import REFERRAL_KINDS_BY_CODE
from outreach.domain.trades import TRADES
from outreach.services.seeding.businesses import DEPARTMENT_WEIGHTS, BusinessMaker
from outreach.services.seeding.campaigns import LIVE_INTRO, SPECS, CampaignSpec
from outreach.services.seeding.plan import CampaignPlan, Plan
from outreach.services.seeding.pools import NOTES, make_pools
from outreach.services.seeding.reference import Reference

BATCH_ROWS = 20_000
COLUMNS: dict[str, tuple[str, ...]] = {
    "agents": (
        "id login name chamber_id role pin_hash failed_pins locked_until active created_at"
    ).split(),
    "campaigns": (
        "id name description lockdown_id chamber_id status max_attempts retry_delays window_days "
        "window_hours skip_holidays max_attempts_30d callback_grace_minutes lease_minutes script "
        "script_intro target created_at created_by"
    ).split(),
    "businesses": (
        "id siret siren name name_key trade_code trade_label address postcode city department "
        "chamber_id phone phone_alt phone_flagged phone_alt_flagged email status employees "
        "sells_online do_not_call do_not_call_at created_at updated_at"
    ).split(),
    "call_tasks": (
        "id campaign_id business_id chamber_id department state priority attempts "
        "next_attempt_at claimed_by claimed_at lease_expires_at callback_agent_id "
        "callback_team_at phone_index last_outcome last_call_at created_at updated_at"
    ).split(),
    "calls": (
        "id uuid task_id campaign_id business_id agent_id chamber_id phone started_at ended_at "
        "outcome reached notes callback_at lease_lost recorded_at"
    ).split(),
    "call_answers": "id call_id question answer".split(),
    "referrals": "id call_id business_id kind partner status notes created_at".split(),
}
# The tables a progress bar counts (known in advance); answers and referrals ride along.
COUNTED = ("agents", "campaigns", "businesses", "call_tasks", "calls")

# Outcome draws: a table indexed by int(random() * len) is the fastest weighted choice.
_NOT_LAST = ("no_answer",) * 50 + ("voicemail",) * 28 + ("busy",) * 12 + ("callback",) * 6
_NOT_LAST += ("wrong_number",) * 4
_LAST = ("reached",) * 82 + ("refused",) * 18
_LAST_AT_MAX = ("reached",) * 50 + ("refused",) * 8 + ("no_answer",) * 22 + ("voicemail",) * 14
_LAST_AT_MAX += ("busy",) * 4 + ("wrong_number",) * 2
_RETRY_OUTCOMES = ("no_answer", "voicemail", "busy")
_REFERRAL_STATUSES = ("done",) * 5 + ("accepted",) * 3 + ("proposed", "declined")
_SECONDS = tuple(f"{s:02d}.000000" for s in range(60))
_TALK = tuple(range(90, 900, 7))  # seconds on the phone when somebody answers
_RING = tuple(range(15, 60))  # seconds of ringing, voicemail...
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)
# First call of a business in a lockdown: in the first 80% of its working minutes.
_FIRST_SPAN = 0.8
_DAY_MINUTES = 720  # 07:00-19:00 UTC, shifted to the business's own business hours


def iso(moment: datetime) -> str:
    """A naive UTC datetime as SQLAlchemy stores it on SQLite (PostgreSQL reads it too)."""
    return moment.isoformat(" ", "microseconds")


def uuid4_of(bits: int) -> str:
    """The version-4 UUID made of 128 random bits (as `uuid.UUID(int=bits, version=4)`)."""
    h = "%032x" % ((bits & _UUID_CLEAR) | _UUID_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _offset(department: str) -> int:
    """Minutes from Paris business hours (in UTC) to the département's own."""
    zone = timezone_of(department)
    if zone.startswith("America/"):
        return 5 * 60
    if zone.startswith("Indian/"):
        return -3 * 60
    return 0


class _Clock:
    """A lockdown's minutes as ready-made strings: formatting millions of times stays cheap.

    Times are minutes since `origin` (the day before the lockdown, 00:00 UTC); `minutes[k]` is
    "YYYY-MM-DD HH:MM:" and a call's time is that plus `_SECONDS[s]`.
    """

    def __init__(self, starts_on: date, ends_on: date) -> None:
        origin = datetime(starts_on.year, starts_on.month, starts_on.day) - timedelta(days=1)
        days = (ends_on - starts_on).days + 3
        self.minutes = [iso(origin + timedelta(minutes=k))[:17] for k in range(days * 1440)]
        # every working minute (weekdays, 07:00-19:00 UTC) of the lockdown
        self.slots: list[int] = []
        for d in range(days - 2):
            if (starts_on + timedelta(days=d)).weekday() < 5:
                first = (d + 1) * 1440 + 7 * 60
                self.slots.extend(range(first, first + _DAY_MINUTES))


@dataclass(frozen=True, slots=True)
class Batch:
    table: str
    rows: list[tuple[object, ...]]


@dataclass(frozen=True, slots=True)
class AgentSeed:
    login: str
    name: str
    chamber: str
    role: str


def attempts_for(rng: random.Random, tasks: int, calls: int, max_attempts: int) -> list[int]:
    """Attempts per task (1..max), decreasing odds, summing to exactly `calls`."""
    calls = min(max(calls, tasks), tasks * max_attempts)
    mean = calls / tasks
    lo, hi = 0.0, 50.0
    for _ in range(60):  # ratio q of a truncated geometric law whose mean is `mean`
        q = (lo + hi) / 2
        w = [q**k for k in range(max_attempts)]
        if sum((k + 1) * x for k, x in enumerate(w)) / sum(w) < mean:
            lo = q
        else:
            hi = q
    weights = [lo**k for k in range(max_attempts)]
    out = rng.choices(range(1, max_attempts + 1), weights, k=tasks)
    total = sum(out)
    while total != calls:
        i = rng.randrange(tasks)
        if total < calls and out[i] < max_attempts:
            out[i] += 1
            total += 1
        elif total > calls and out[i] > 1:
            out[i] -= 1
            total -= 1
    return out


class SeedRows:
    """The rows of one seed; deterministic for (plan, reference, seed, now)."""

    def __init__(self, plan: Plan, ref: Reference, seed: int, now: datetime) -> None:
        self.plan = plan
        self.ref = ref
        self.seed = seed
        self.now = now.replace(microsecond=0)
        self.now_s = iso(self.now)
        self.rng = rng = random.Random(seed)
        self.pools = make_pools(seed)
        self.counts: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        self.ids = dict(ref.next_ids)
        n = plan.businesses
        self.departments = [d.code for d in DEPARTMENTS if d.code in ref.department_chambers]
        dep_weights = [DEPARTMENT_WEIGHTS.get(code, 1.5) for code in self.departments]
        self.dep_chamber = [ref.department_chambers[code] for code in self.departments]
        self.dep_offset = [_offset(code) for code in self.departments]
        self.dep_of = rng.choices(range(len(self.departments)), dep_weights, k=n)
        self.trade_of = rng.choices(range(len(TRADES)), [t.weight for t in TRADES], k=n)
        # membership bits: 1 lockdown 1, 2 lockdown 2, 4 lockdown 3, 8 click and collect
        self.members: dict[str, list[int]] = {}
        self.bits = bytearray(n)
        for key, bit in (("l1", 1), ("l2", 2), ("l3", 4)):
            cp: CampaignPlan = getattr(plan, key)
            chosen = sorted(rng.sample(range(n), min(cp.tasks, n)))
            self.members[key] = chosen
            for b in chosen:
                self.bits[b] |= bit
        closed = [b for b in self.members["l2"] if TRADES[self.trade_of[b]].closed_lockdown2]
        self.members["cc"] = sorted(rng.sample(closed, min(plan.cc.tasks, len(closed))))
        for b in self.members["cc"]:
            self.bits[b] |= 8
        # fate: 1 ceased, 2 opted out (never for the closed businesses of click and collect)
        self.fate = bytearray(n)
        rnd = rng.random
        for b in range(n):
            if self.bits[b] and not self.bits[b] & 8:
                r = rnd()
                if r < 0.012:
                    self.fate[b] = 1
                elif r < 0.016:
                    self.fate[b] = 2
        eligible = [b for b in self.members["l2"] if not self.fate[b]]
        self.diagnostic = bytearray(n)
        for b in rng.sample(eligible, min(plan.diagnostics, len(eligible))):
            self.diagnostic[b] = 1
        self.agents = self._agent_seeds()
        self.live = self.members["l2"] if plan.profile == "national" else list(range(n))
        self.live_special = self._live_special()

    # ------------------------------------------------------------------ planning helpers
    def _next(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _agent_seeds(self) -> list[AgentSeed]:
        pools, rng = self.pools, self.rng

        def name() -> str:
            return f"{rng.choice(pools.first_names)} {rng.choice(pools.last_names)}"

        seeds = [
            AgentSeed("cmaf.admin", name(), "CMAF", "admin"),
            AgentSeed("cmaf.superviseur", name(), "CMAF", "supervisor"),
            AgentSeed("demo", name(), "IDF", "agent"),
            AgentSeed("demo.superviseur", name(), "IDF", "supervisor"),
        ]
        chambers = sorted({c for c in self.ref.chamber_ids if c in self._chamber_codes()})
        for code in chambers:
            seeds.append(AgentSeed(f"{code.lower()}.superviseur", name(), code, "supervisor"))
            seeds += [
                AgentSeed(f"{code.lower()}.agent{i}", name(), code, "agent") for i in (1, 2, 3)
            ]
        if self.plan.agents:
            code_of = {v: k for k, v in self.ref.chamber_ids.items()}
            size: dict[str, int] = {}
            for d in self.dep_of:
                code = code_of[self.dep_chamber[d]]
                size[code] = size.get(code, 0) + 1
            for code in chambers:
                extra = round(self.plan.agents * size.get(code, 0) / len(self.dep_of))
                seeds += [
                    AgentSeed(f"{code.lower()}.agent{i}", name(), code, "agent")
                    for i in range(4, 4 + extra)
                ]
        return seeds

    def _chamber_codes(self) -> set[str]:
        by_id = {v: k for k, v in self.ref.chamber_ids.items()}
        return {by_id[c] for c in self.dep_chamber}

    def _live_special(self) -> dict[int, tuple[str, str | None, datetime]]:
        """Live tasks already touched: b -> (retry | callback, owner login or None, when)."""
        rng, now, plan = self.rng, self.now, self.plan
        special: dict[int, tuple[str, str | None, datetime]] = {}
        by_chamber: dict[int, list[int]] = {}
        logins_of: dict[str, list[str]] = {}
        for a in self.agents:
            if a.role == "agent":
                logins_of.setdefault(a.chamber, []).append(a.login)
        code_of = {v: k for k, v in self.ref.chamber_ids.items()}
        for b in self.live:
            if self.fate[b]:
                continue
            by_chamber.setdefault(self.dep_chamber[self.dep_of[b]], []).append(b)
            r = rng.random()
            if r < plan.live_callback_share:
                chamber = code_of[self.dep_chamber[self.dep_of[b]]]
                owner = rng.choice(logins_of[chamber]) if rng.random() < 0.7 else None
                when = now + timedelta(minutes=rng.randint(-180, 36 * 60))
                special[b] = ("callback", owner, when)
            elif r < plan.live_callback_share + plan.live_retry_share:
                special[b] = ("retry", None, now - timedelta(minutes=rng.randint(70, 600)))
        # the fixed logins: personal callbacks due now, later today and tomorrow
        day = 24 * 60
        for chamber_id, pool in sorted(by_chamber.items()):
            chamber = code_of[chamber_id]
            due = [(f"{chamber.lower()}.agent{i}", m) for i in (1, 2, 3) for m in (-10, 90, day)]
            if chamber == "IDF":
                due += [("demo", m) for m in (-45, -10, 60, 120, day + 60, day + 180)]
            free = [b for b in pool if b not in special]
            for b, (owner, minutes) in zip(
                rng.sample(free, min(len(free) // 2, len(due))), due, strict=False
            ):
                special[b] = ("callback", owner, now + timedelta(minutes=minutes))
        return special

    def expected_rows(self) -> int:
        """Rows of the counted tables (`COUNTED`) this seed writes: the progress bar's total."""
        p = self.plan
        tasks = sum(len(self.members[k]) for k in ("l1", "l2", "cc", "l3")) + len(self.live)
        calls = sum(
            min(
                max(cp.calls, len(self.members[cp.key])),
                len(self.members[cp.key]) * cp.max_attempts,
            )
            for cp in p.campaigns
        )
        return len(self.agents) + len(SPECS) + p.businesses + tasks + calls + len(self.live_special)

    # ------------------------------------------------------------------ the rows
    def batches(self) -> Iterator[Batch]:
        """Every row, in batches, parents before children."""
        self.agent_ids: dict[str, int] = {}
        yield from self._emit("agents", self._agent_rows())
        self.campaign_ids: dict[str, int] = {}
        yield from self._emit("campaigns", self._campaign_rows())
        yield from self._business_batches()
        for key in ("l1", "l2", "cc", "l3"):
            yield from self._history(key)
        yield from self._live()

    def _emit(self, table: str, rows: list[tuple[object, ...]]) -> Iterator[Batch]:
        for start in range(0, len(rows), BATCH_ROWS):
            chunk = rows[start : start + BATCH_ROWS]
            self.counts[table] += len(chunk)
            yield Batch(table, chunk)

    def _agent_rows(self) -> list[tuple[object, ...]]:
        rows = []
        for a in self.agents:
            if a.login in self.ref.logins:  # kept as it is (an admin made it before the seed)
                self.agent_ids[a.login] = self.ref.logins[a.login]
                continue
            agent_id = self.agent_ids[a.login] = self._next("agents")
            chamber_id = self.ref.chamber_ids[a.chamber]
            rows.append(
                (agent_id, a.login, a.name, chamber_id, a.role, None, 0, None, 1, self.now_s)
            )
        by_chamber: dict[int, list[int]] = {}
        for a in self.agents:
            if a.role == "agent":
                by_chamber.setdefault(self.ref.chamber_ids[a.chamber], []).append(
                    self.agent_ids[a.login]
                )
        self.chamber_agents = by_chamber
        return rows

    def _campaign_rows(self) -> list[tuple[object, ...]]:
        rows = []
        admin = self.agent_ids["cmaf.admin"]
        for key, spec in SPECS.items():
            campaign_id = self.campaign_ids[key] = self._next("campaigns")
            live = spec.lockdown is None
            if live:
                lockdown_id, created = None, self.now - timedelta(days=7)
                max_attempts, days, hours, holidays = 5, "1234567", "00:00-24:00", 0
            else:
                lockdown_id, starts_on, _ends = self.ref.lockdowns[spec.lockdown]
                created = datetime(starts_on.year, starts_on.month, starts_on.day, 6)
                max_attempts, days, hours, holidays = 4, "12345", "10:00-13:00,14:00-20:00", 1
            rows.append(
                (
                    campaign_id,
                    spec.name,
                    spec.description,
                    lockdown_id,
                    None,
                    "active" if live else "closed",
                    max_attempts,
                    json.dumps([60, 240, 1440]),
                    days,
                    hours,
                    holidays,
                    4,
                    30,
                    15,
                    json.dumps(spec.script, ensure_ascii=False),
                    LIVE_INTRO if live else None,
                    json.dumps(spec.target, ensure_ascii=False) if spec.target else None,
                    iso(created),
                    admin,
                )
            )
        return rows

    def _business_batches(self) -> Iterator[Batch]:
        n = self.plan.businesses
        self.first_business = self.ids["businesses"]
        self.ids["businesses"] += n
        self.maker = maker = BusinessMaker(self.pools, self.rng, n, self.now_s)
        self.employees = bytearray(n)
        self.sells_online = bytearray(n)
        rows: list[tuple[object, ...]] = []
        for b in range(n):
            dep = self.dep_of[b]
            fate, bits = self.fate[b], self.bits[b]
            status = "closed_admin" if bits & 8 else "ceased" if fate == 1 else "open"
            row = maker.row(
                b,
                self.first_business + b,
                self.departments[dep],
                self.dep_chamber[dep],
                self.trade_of[b],
                status,
                fate == 2,
            )
            self.employees[b] = min(255, row[18])  # type: ignore[call-overload]
            self.sells_online[b] = row[19]  # type: ignore[call-overload]
            rows.append(row)
            if len(rows) >= BATCH_ROWS:
                self.counts["businesses"] += len(rows)
                yield Batch("businesses", rows)
                rows = []
        if rows:
            self.counts["businesses"] += len(rows)
            yield Batch("businesses", rows)

    def _flush(self, buffers: dict[str, list[tuple[object, ...]]], force: bool) -> Iterator[Batch]:
        if not force and len(buffers["calls"]) < BATCH_ROWS:
            return
        for table in ("call_tasks", "calls", "call_answers", "referrals"):
            rows = buffers[table]
            if rows:
                self.counts[table] += len(rows)
                yield Batch(table, rows)
                buffers[table] = []

    def _history(self, key: str) -> Iterator[Batch]:
        """One lockdown campaign: its tasks, calls, answers and referrals."""
        cp: CampaignPlan = getattr(self.plan, key)
        spec: CampaignSpec = SPECS[key]
        members = self.members[key]
        if not members:
            return
        rng = self.rng
        rnd = rng.random
        bits128 = rng.getrandbits
        _id, starts_on, ends_on = self.ref.lockdowns[spec.lockdown or ""]
        clock = _Clock(starts_on, ends_on)
        slots, minutes = clock.slots, clock.minutes
        last_slot = len(slots) - 1
        first_span = int(len(slots) * _FIRST_SPAN)
        campaign_id = self.campaign_ids[key]
        created = iso(datetime(starts_on.year, starts_on.month, starts_on.day, 6))
        later_bits = {"l1": 6, "l2": 4, "cc": 4, "l3": 0}[key]
        attempts = attempts_for(rng, len(members), cp.calls, cp.max_attempts)
        reached_of = {code: int(flag) for code, flag in self.ref.reached.items()}
        questions = [(q["key"], q["choices"]) for q in spec.script]
        referral_odds = [k for k in spec.referrals if k[0] in self.ref.referral_kinds]
        follow_kinds = {code for code, kind in REFERRAL_KINDS_BY_CODE.items() if kind.follow_up}
        platforms = self.ref.platforms
        diagnostics = self.diagnostic if key == "l2" else None
        ids = self.ids
        buffers: dict[str, list[tuple[object, ...]]] = {t: [] for t in COLUMNS}
        tasks, calls = buffers["call_tasks"], buffers["calls"]
        for k, b in enumerate(members):
            a = attempts[k]
            dep = self.dep_of[b]
            dep_code = self.departments[dep]
            chamber = self.dep_chamber[dep]
            agents = self.chamber_agents[chamber]
            phones = (self.maker.phones[b], self.maker.alts[b])
            business_id = self.first_business + b
            offset = self.dep_offset[dep]
            phone_index = 0
            slot = int(rnd() * first_span)
            forced = None
            if self.fate[b] and not self.bits[b] & later_bits:
                forced = "ceased" if self.fate[b] == 1 else "do_not_call"
            elif diagnostics is not None and diagnostics[b]:
                forced = "reached"
            task_id = ids["call_tasks"]
            ids["call_tasks"] = task_id + 1
            state = "done"
            outcome = ""
            started = ended = ""
            for j in range(a):
                if j < a - 1:
                    outcome = _NOT_LAST[int(rnd() * len(_NOT_LAST))]
                    if outcome == "wrong_number" and (phone_index or phones[1] is None):
                        outcome = "no_answer"
                elif forced:
                    outcome = forced
                elif a == cp.max_attempts:
                    outcome = _LAST_AT_MAX[int(rnd() * len(_LAST_AT_MAX))]
                else:
                    outcome = _LAST[int(rnd() * len(_LAST))]
                reached = reached_of[outcome]
                minute = slots[slot] + offset
                second = int(rnd() * 60)
                talk = _TALK if reached else _RING
                started = minutes[minute] + _SECONDS[second]
                second += talk[int(rnd() * len(talk))]
                ended = minutes[minute + second // 60] + _SECONDS[second % 60]
                next_slot = min(last_slot, slot + 30 + int(rnd() * 2000))
                callback_at = (
                    minutes[slots[next_slot] + offset] + _SECONDS[0]
                    if outcome == "callback"
                    else None
                )
                call_id = ids["calls"]
                ids["calls"] = call_id + 1
                calls.append(
                    (
                        call_id,
                        uuid4_of(bits128(128)),
                        task_id,
                        campaign_id,
                        business_id,
                        agents[int(rnd() * len(agents))],
                        chamber,
                        phones[phone_index],
                        started,
                        ended,
                        outcome,
                        reached,
                        NOTES[int(rnd() * len(NOTES))] if rnd() < 0.08 else None,
                        callback_at,
                        0,
                        ended,
                    )
                )
                if outcome == "wrong_number" and j < a - 1:
                    phone_index = 1
                slot = next_slot
            if outcome == "reached":
                for question, choices in questions:
                    if question == "vente_en_ligne":
                        answer = "oui" if self.sells_online[b] else "non"
                    else:
                        answer = choices[int(rnd() * len(choices))]  # type: ignore[index,arg-type]
                    buffers["call_answers"].append(
                        (self._next("call_answers"), call_id, question, answer)
                    )
                kinds = [kind for kind, p in referral_odds if rnd() < p]
                if forced == "reached":
                    kinds.append("digital_diagnostic")
                for kind in kinds:
                    if kind == "cheque_numerique" and self.employees[b] >= 11:
                        continue
                    status = _REFERRAL_STATUSES[int(rnd() * len(_REFERRAL_STATUSES))]
                    if kind == "digital_diagnostic" and status == "declined":
                        status = "accepted"
                    if kind in follow_kinds and status in ("proposed", "accepted"):
                        state = "follow_up"
                    partner = platforms[int(rnd() * len(platforms))] if kind == "platform" else None
                    buffers["referrals"].append(
                        (
                            self._next("referrals"),
                            call_id,
                            business_id,
                            kind,
                            partner,
                            status,
                            None,
                            ended,
                        )
                    )
            elif outcome not in ("refused", "ceased", "do_not_call"):
                state = "exhausted"
            priority = 10 if self.bits[b] & 8 and key != "cc" else 0
            if key == "cc":
                priority = 5 if self.sells_online[b] else 10
            tasks.append(
                (
                    task_id,
                    campaign_id,
                    business_id,
                    chamber,
                    dep_code,
                    state,
                    priority,
                    a,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    phone_index,
                    outcome,
                    started,
                    created,
                    ended,
                )
            )
            if len(calls) >= BATCH_ROWS:
                yield from self._flush(buffers, force=True)
                tasks, calls = buffers["call_tasks"], buffers["calls"]
        yield from self._flush(buffers, force=True)

    def _live(self) -> Iterator[Batch]:
        """The live campaign: work queued now, a few retries due, callbacks today and tomorrow."""
        rng = self.rng
        rnd = rng.random
        campaign_id = self.campaign_ids["live"]
        created = iso(self.now - timedelta(days=7))
        grace = timedelta(minutes=30)
        buffers: dict[str, list[tuple[object, ...]]] = {t: [] for t in COLUMNS}
        for b in self.live:
            dep = self.dep_of[b]
            chamber = self.dep_chamber[dep]
            business_id = self.first_business + b
            task_id = self._next("call_tasks")
            priority = 10 if self.bits[b] & 8 else 0
            state, attempts, next_at, owner_id, team_at = "queued", 0, None, None, None
            last_outcome = last_call = None
            updated = created
            if self.fate[b]:
                state = "cancelled"
            elif b in self.live_special:
                kind, owner, when = self.live_special[b]
                agents = self.chamber_agents[chamber]
                agent_id = self.agent_ids[owner] if owner else agents[int(rnd() * len(agents))]
                if kind == "retry":
                    start = when
                    last_outcome = _RETRY_OUTCOMES[int(rnd() * 3)]
                    next_at = iso(when + timedelta(minutes=60))
                    callback_at = None
                else:
                    start = min(self.now, when) - timedelta(minutes=rng.randint(60, 1200))
                    state, last_outcome = "callback", "callback"
                    next_at = callback_at = iso(when)
                    owner_id = self.agent_ids[owner] if owner else None
                    team_at = iso(when + grace) if owner else iso(when)
                attempts = 1
                reached = int(self.ref.reached[last_outcome])
                last_call = iso(start)
                updated = iso(start + timedelta(seconds=(_TALK if reached else _RING)[0]))
                buffers["calls"].append(
                    (
                        self._next("calls"),
                        uuid4_of(rng.getrandbits(128)),
                        task_id,
                        campaign_id,
                        business_id,
                        agent_id,
                        chamber,
                        self.maker.phones[b],
                        last_call,
                        updated,
                        last_outcome,
                        reached,
                        None,
                        callback_at,
                        0,
                        updated,
                    )
                )
            buffers["call_tasks"].append(
                (
                    task_id,
                    campaign_id,
                    business_id,
                    chamber,
                    self.departments[dep],
                    state,
                    priority,
                    attempts,
                    next_at,
                    None,
                    None,
                    None,
                    owner_id,
                    team_at,
                    0,
                    last_outcome,
                    last_call,
                    created,
                    updated,
                )
            )
            if len(buffers["call_tasks"]) >= BATCH_ROWS:
                yield from self._flush(buffers, force=True)
        yield from self._flush(buffers, force=True)
