"""E-mail to a business: when one may be sent, and how long to wait before trying again.

Pure rules, no I/O: the mail services apply them when a message is queued and again when it is
sent (an opposition recorded in between wins).
"""

from __future__ import annotations

import re
from datetime import timedelta

# why no e-mail goes to a business (None: it may be sent)
NO_ADDRESS = "no_address"
BAD_ADDRESS = "bad_address"
OPPOSITION = "opposition"

# the referral kinds for which the e-mail is proposed on by default in the referral modal
EMAIL_BY_DEFAULT = ("digital_diagnostic",)

# a plain check: one @, no spaces, a dot in the domain; the SMTP server judges the rest
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")

# waits after the 1st, 2nd... refused attempt; after the last one the message is given up
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=8),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def refusal(address: str | None, do_not_call: bool) -> str | None:
    """Why this business gets no e-mail (OPPOSITION, NO_ADDRESS, BAD_ADDRESS), or None."""
    if do_not_call:
        return OPPOSITION
    address = (address or "").strip()
    if not address:
        return NO_ADDRESS
    if not _ADDRESS.match(address):
        return BAD_ADDRESS
    return None


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after `attempts` refused attempts, or None when the message is to be given up."""
    if attempts < 1 or attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[attempts - 1]
