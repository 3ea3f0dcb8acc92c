"""Call history of the lockdown campaigns, and the live campaign's queue.

Consistency kept here: a call's outcome is from the catalogue and `reached` is its flag; a call's
chamber is its business's and its agent belongs to that chamber; calls start within their
lockdown's dates (weekdays, business hours in the business's time zone); a task's attempts,
last outcome, phone index and state follow from its calls; an opt-out or ceased outcome is the
last call the business got in history (its do_not_call / status were set to match).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from outreach.domain.geography import timezone_of
from outreach.domain.referrals import REFERRAL_KINDS_BY_CODE
from outreach.services.seeding.campaigns import SPECS, CampaignSpec
from outreach.services.seeding.plan import CampaignPlan
from outreach.services.seeding.pools import NOTES
from outreach.services.seeding.tables import (
    BATCH_ROWS,
    COLUMNS,
    UUID4_CLEAR,
    UUID4_SET,
    Batch,
    iso,
    uuid4_of,
)

if TYPE_CHECKING:
    from outreach.services.seeding.rows import SeedRows

# Outcome draws: a table indexed by int(random() * len) is the fastest weighted choice.
_NOT_LAST: tuple[str, ...] = (
    ("no_answer",) * 50 + ("voicemail",) * 28 + ("busy",) * 12 + ("callback",) * 6
)
_NOT_LAST += ("wrong_number",) * 4
_LAST = ("reached",) * 82 + ("refused",) * 18
_LAST_AT_MAX: tuple[str, ...] = (
    ("reached",) * 50 + ("refused",) * 8 + ("no_answer",) * 22 + ("voicemail",) * 14
)
_LAST_AT_MAX += ("busy",) * 4 + ("wrong_number",) * 2
_RETRY_OUTCOMES = ("no_answer", "voicemail", "busy")
_REFERRAL_STATUSES = ("done",) * 5 + ("accepted",) * 3 + ("proposed", "declined")
_SECONDS = tuple(f"{s:02d}.000000" for s in range(60))
_TALK = tuple(range(90, 900, 7))  # seconds on the phone when somebody answers
_RING = tuple(range(15, 60))  # seconds of ringing, voicemail...
# First call of a business in a lockdown: in the first 80% of its working minutes.
_FIRST_SPAN = 0.8
_DAY_MINUTES = 720  # 07:00-19:00 UTC, shifted to the business's own business hours


def offset_minutes(department: str) -> int:
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
        day_strings = [iso(origin + timedelta(days=d))[:11] for d in range(days)]
        clock = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
        self.minutes = [day + hhmm for day in day_strings for hhmm in clock]
        # every working minute (weekdays, 07:00-19:00 UTC) of the lockdown
        self.slots: list[int] = []
        for d in range(days - 2):
            if (starts_on + timedelta(days=d)).weekday() < 5:
                first = (d + 1) * 1440 + 7 * 60
                self.slots.extend(range(first, first + _DAY_MINUTES))


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


def _flush(rows: SeedRows, buffers: dict[str, list[tuple[object, ...]]]) -> Iterator[Batch]:
    for table in ("call_tasks", "calls", "call_answers", "referrals"):
        chunk = buffers[table]
        if chunk:
            rows.counts[table] += len(chunk)
            yield Batch(table, chunk)
            buffers[table] = []


def history_batches(rows: SeedRows, key: str) -> Iterator[Batch]:
    """One lockdown campaign: its tasks, calls, answers and referrals."""
    cp: CampaignPlan = getattr(rows.plan, key)
    spec: CampaignSpec = SPECS[key]
    members = rows.members[key]
    if not members:
        return
    rng = rows.rng
    rnd = rng.random
    bits128 = rng.getrandbits
    _id, starts_on, ends_on = rows.ref.lockdowns[spec.lockdown or ""]
    clock = _Clock(starts_on, ends_on)
    slots, minutes = clock.slots, clock.minutes
    last_slot = len(slots) - 1
    first_span = int(len(slots) * _FIRST_SPAN)
    campaign_id = rows.campaign_ids[key]
    created = iso(datetime(starts_on.year, starts_on.month, starts_on.day, 6))
    later_bits = {"l1": 6, "l2": 4, "cc": 4, "l3": 0}[key]
    attempts = attempts_for(rng, len(members), cp.calls, cp.max_attempts)
    reached_of = {code: int(flag) for code, flag in rows.ref.reached.items()}
    questions = [(q["key"], q["choices"]) for q in spec.script]
    referral_odds = [k for k in spec.referrals if k[0] in rows.ref.referral_kinds]
    follow_kinds = {code for code, kind in REFERRAL_KINDS_BY_CODE.items() if kind.follow_up}
    platforms = rows.ref.platforms
    diagnostics = rows.diagnostic if key == "l2" else None
    # hot loop: everything it reads is a local name
    ids = rows.ids
    next_task, next_call = ids["call_tasks"], ids["calls"]
    next_answer, next_referral = ids["call_answers"], ids["referrals"]
    dep_of, departments, dep_chamber = rows.dep_of, rows.departments, rows.dep_chamber
    dep_offset, chamber_agents = rows.dep_offset, rows.chamber_agents
    phone_of, alt_of = rows.maker.phones, rows.maker.alts
    fate, bits, first_business = rows.fate, rows.bits, rows.first_business
    sells_online, employees = rows.sells_online, rows.employees
    max_attempts = cp.max_attempts
    not_last, n_not_last = _NOT_LAST, len(_NOT_LAST)
    last, n_last = _LAST, len(_LAST)
    last_at_max, n_last_at_max = _LAST_AT_MAX, len(_LAST_AT_MAX)
    talks, rings, seconds_s = _TALK, _RING, _SECONDS
    n_talks, n_rings = len(_TALK), len(_RING)
    notes, n_notes = NOTES, len(NOTES)
    uuid_clear, uuid_set = UUID4_CLEAR, UUID4_SET
    buffers: dict[str, list[tuple[object, ...]]] = {t: [] for t in COLUMNS}
    tasks, calls = buffers["call_tasks"], buffers["calls"]
    for k, b in enumerate(members):
        a = attempts[k]
        dep = dep_of[b]
        dep_code = departments[dep]
        chamber = dep_chamber[dep]
        agents = chamber_agents[chamber]
        n_agents = len(agents)
        phones = (phone_of[b], alt_of[b])
        business_id = first_business + b
        offset = dep_offset[dep]
        phone_index = 0
        slot = int(rnd() * first_span)
        forced = None
        if fate[b] and not bits[b] & later_bits:
            forced = "ceased" if fate[b] == 1 else "do_not_call"
        elif diagnostics is not None and diagnostics[b]:
            forced = "reached"
        task_id = next_task
        next_task += 1
        state = "done"
        outcome = ""
        started = ended = ""
        for j in range(a):
            if j < a - 1:
                outcome = not_last[int(rnd() * n_not_last)]
                if outcome == "wrong_number" and (phone_index or phones[1] is None):
                    outcome = "no_answer"
            elif forced:
                outcome = forced
            elif a == max_attempts:
                outcome = last_at_max[int(rnd() * n_last_at_max)]
            else:
                outcome = last[int(rnd() * n_last)]
            reached = reached_of[outcome]
            minute = slots[slot] + offset
            second = int(rnd() * 60)
            started = minutes[minute] + seconds_s[second]
            second += talks[int(rnd() * n_talks)] if reached else rings[int(rnd() * n_rings)]
            ended = minutes[minute + second // 60] + seconds_s[second % 60]
            next_slot = min(last_slot, slot + 30 + int(rnd() * 2000))
            callback_at = (
                minutes[slots[next_slot] + offset] + seconds_s[0] if outcome == "callback" else None
            )
            call_id = next_call
            next_call += 1
            h = "%032x" % ((bits128(128) & uuid_clear) | uuid_set)  # as uuid4_of, inlined
            calls.append(
                (
                    call_id,
                    f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}",
                    task_id,
                    campaign_id,
                    business_id,
                    agents[int(rnd() * n_agents)],
                    chamber,
                    phones[phone_index],
                    started,
                    ended,
                    outcome,
                    reached,
                    notes[int(rnd() * n_notes)] if rnd() < 0.08 else None,
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
                    answer = "oui" if sells_online[b] else "non"
                else:
                    answer = choices[int(rnd() * len(choices))]
                buffers["call_answers"].append((next_answer, call_id, question, answer))
                next_answer += 1
            kinds = [kind for kind, p in referral_odds if rnd() < p]
            if forced == "reached":
                kinds.append("digital_diagnostic")
            for kind in kinds:
                if kind == "cheque_numerique" and employees[b] >= 11:
                    continue
                status = _REFERRAL_STATUSES[int(rnd() * len(_REFERRAL_STATUSES))]
                if kind == "digital_diagnostic" and status == "declined":
                    status = "accepted"
                if kind in follow_kinds and status in ("proposed", "accepted"):
                    state = "follow_up"
                partner = platforms[int(rnd() * len(platforms))] if kind == "platform" else None
                next_referral += 1
                buffers["referrals"].append(
                    (
                        next_referral - 1,
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
        priority = 10 if bits[b] & 8 and key != "cc" else 0
        if key == "cc":
            priority = 5 if sells_online[b] else 10
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
            yield from _flush(rows, buffers)
            tasks, calls = buffers["call_tasks"], buffers["calls"]
    ids["call_tasks"], ids["calls"] = next_task, next_call
    ids["call_answers"], ids["referrals"] = next_answer, next_referral
    yield from _flush(rows, buffers)


def live_batches(rows: SeedRows) -> Iterator[Batch]:
    """The live campaign: work queued now, a few retries due, callbacks today and tomorrow."""
    rng = rows.rng
    rnd = rng.random
    campaign_id = rows.campaign_ids["live"]
    created = iso(rows.now - timedelta(days=7))
    grace = timedelta(minutes=30)
    buffers: dict[str, list[tuple[object, ...]]] = {t: [] for t in COLUMNS}
    for b in rows.live:
        dep = rows.dep_of[b]
        chamber = rows.dep_chamber[dep]
        business_id = rows.first_business + b
        task_id = rows._next("call_tasks")
        priority = 10 if rows.bits[b] & 8 else 0
        state, attempts, next_at, owner_id, team_at = "queued", 0, None, None, None
        last_outcome = last_call = None
        updated = created
        if rows.fate[b]:
            state = "cancelled"
        elif b in rows.live_special:
            kind, owner, when = rows.live_special[b]
            agents = rows.chamber_agents[chamber]
            agent_id = rows.agent_ids[owner] if owner else agents[int(rnd() * len(agents))]
            if kind == "retry":
                start = when
                last_outcome = _RETRY_OUTCOMES[int(rnd() * 3)]
                next_at = iso(when + timedelta(minutes=60))
                callback_at = None
            else:
                start = min(rows.now, when) - timedelta(minutes=rng.randint(60, 1200))
                state, last_outcome = "callback", "callback"
                next_at = callback_at = iso(when)
                owner_id = rows.agent_ids[owner] if owner else None
                team_at = iso(when + grace) if owner else iso(when)
            attempts = 1
            reached = int(rows.ref.reached[last_outcome])
            last_call = iso(start)
            updated = iso(start + timedelta(seconds=(_TALK if reached else _RING)[0]))
            buffers["calls"].append(
                (
                    rows._next("calls"),
                    uuid4_of(rng.getrandbits(128)),
                    task_id,
                    campaign_id,
                    business_id,
                    agent_id,
                    chamber,
                    rows.maker.phones[b],
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
                rows.departments[dep],
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
            yield from _flush(rows, buffers)
    yield from _flush(rows, buffers)
