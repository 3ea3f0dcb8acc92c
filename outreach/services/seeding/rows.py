"""Every seeded row, as batches of plain tuples in table order (parents first).

`SeedRows(plan, reference, seed, now).batches()` yields `Batch(table, rows)`; the columns of each
table are `COLUMNS[table]` (tables.py). The writer (`writer.py`) and a bare benchmark baseline
both consume the same batches. Who is called in which campaign, who ceased trading or opted out,
who gets a digital diagnostic, is drawn first (cheap arrays per business), so that the history
(history.py) can end each business's story consistently with its row.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from outreach.domain.geography import DEPARTMENTS
from outreach.domain.trades import TRADES
from outreach.services.seeding.businesses import DEPARTMENT_WEIGHTS, BusinessMaker
from outreach.services.seeding.campaigns import LIVE_INTRO, SPECS
from outreach.services.seeding.history import history_batches, live_batches, offset_minutes
from outreach.services.seeding.plan import CampaignPlan, Plan
from outreach.services.seeding.pools import make_pools
from outreach.services.seeding.reference import Reference
from outreach.services.seeding.states import state_batches
from outreach.services.seeding.tables import BATCH_ROWS, COLUMNS, Batch, iso

# where a business row (COLUMNS['businesses'] order) holds what the calls are drawn from
_EMPLOYEES_AT = COLUMNS["businesses"].index("employees")
_SELLS_ONLINE_AT = COLUMNS["businesses"].index("sells_online")


@dataclass(frozen=True, slots=True)
class AgentSeed:
    login: str
    name: str
    chamber: str
    role: str


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
        self.dep_offset = [offset_minutes(code) for code in self.departments]
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
            yield from history_batches(self, key)
        yield from live_batches(self)
        yield from state_batches(self, self.plan.state_days)

    def _emit(self, table: str, rows: list[tuple[object, ...]]) -> Iterator[Batch]:
        for start in range(0, len(rows), BATCH_ROWS):
            chunk = rows[start : start + BATCH_ROWS]
            self.counts[table] += len(chunk)
            yield Batch(table, chunk)

    def _agent_rows(self) -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = []
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
        rows: list[tuple[object, ...]] = []
        admin = self.agent_ids["cmaf.admin"]
        for key, spec in SPECS.items():
            campaign_id = self.campaign_ids[key] = self._next("campaigns")
            live = spec.lockdown is None
            if spec.lockdown is None:
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
            self.employees[b] = min(255, cast(int, row[_EMPLOYEES_AT]))
            self.sells_online[b] = cast(int, row[_SELLS_ONLINE_AT])  # 0 or 1
            rows.append(row)
            if len(rows) >= BATCH_ROWS:
                self.counts["businesses"] += len(rows)
                yield Batch("businesses", rows)
                rows = []
        if rows:
            self.counts["businesses"] += len(rows)
            yield Batch("businesses", rows)
