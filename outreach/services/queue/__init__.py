"""The call queue: claim under a lease, record a call, callbacks, search, do-not-call, why empty.

One module per job; everything the TUI, the CLI and the load test use is re-exported here.
Each name is imported on first use (PEP 562): the agents' app needs the claim to show its first
business, not the record, the hand-back or the referrals behind them (about 50 ms of imports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from outreach.services.queue.callbacks import my_callbacks
    from outreach.services.queue.claim import claim_next, release_task, renew_lease, take_task
    from outreach.services.queue.dnc import lift_do_not_call, set_do_not_call
    from outreach.services.queue.handback import hand_back
    from outreach.services.queue.record import record_call
    from outreach.services.queue.search import search_businesses
    from outreach.services.queue.status import campaigns_for_agent, why_empty
    from outreach.services.queue.undo import undo_call

_HOMES = {
    "campaigns_for_agent": "status",
    "claim_next": "claim",
    "hand_back": "handback",
    "lift_do_not_call": "dnc",
    "my_callbacks": "callbacks",
    "record_call": "record",
    "release_task": "claim",
    "renew_lease": "claim",
    "search_businesses": "search",
    "set_do_not_call": "dnc",
    "take_task": "claim",
    "undo_call": "undo",
    "why_empty": "status",
}
__all__ = [
    "campaigns_for_agent",
    "claim_next",
    "hand_back",
    "lift_do_not_call",
    "my_callbacks",
    "record_call",
    "release_task",
    "renew_lease",
    "search_businesses",
    "set_do_not_call",
    "take_task",
    "undo_call",
    "why_empty",
]
assert sorted(__all__) == sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
