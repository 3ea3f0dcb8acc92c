"""The call queue: claim under a lease, record a call, callbacks, search, do-not-call, why empty.

One module per job; everything the TUI, the CLI and the load test use is re-exported here.
"""

from __future__ import annotations

from outreach.services.queue.callbacks import my_callbacks
from outreach.services.queue.claim import (
    claim_next,
    release_task,
    renew_lease,
    take_task,
)
from outreach.services.queue.dnc import lift_do_not_call, set_do_not_call
from outreach.services.queue.handback import hand_back
from outreach.services.queue.record import record_call
from outreach.services.queue.search import search_businesses
from outreach.services.queue.status import campaigns_for_agent, why_empty
from outreach.services.queue.undo import undo_call

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
