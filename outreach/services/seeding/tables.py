"""The seeded tables' columns and the batch of rows the generator hands to a writer.

Values are what both backends take as they are: ints, strings, None, booleans as 0/1, datetimes
as naive-UTC ISO strings (SQLAlchemy's SQLite format), JSON as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

BATCH_ROWS = 20_000
COLUMNS: dict[str, list[str]] = {
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
        "chamber_id phone phone_alt phone_flagged phone_alt_flagged email contact_name status "
        "employees "
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
    "agent_state_events": (
        "id agent_id at state reason note business_id ended_at expires_at".split()
    ),
}
# The tables a progress bar counts (known in advance); answers and referrals ride along.
COUNTED = ("agents", "campaigns", "businesses", "call_tasks", "calls")

UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


@dataclass(frozen=True, slots=True)
class Batch:
    table: str
    rows: list[tuple[object, ...]]


def iso(moment: datetime) -> str:
    """A naive UTC datetime as SQLAlchemy stores it on SQLite (PostgreSQL reads it too)."""
    return moment.isoformat(" ", "microseconds")


def uuid4_of(bits: int) -> str:
    """The version-4 UUID made of 128 random bits (as `uuid.UUID(int=bits, version=4)`)."""
    h = "%032x" % ((bits & UUID4_CLEAR) | UUID4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
