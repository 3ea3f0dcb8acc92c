"""The outcome catalogue: what each call outcome means and what it does to the task.

The rules are data (one row per outcome), read by the queue service; no outcome is special-cased
elsewhere. The same rows are written to the `outcomes` table for BI tools.
"""

from __future__ import annotations

from dataclasses import dataclass

# What recording an outcome does to the task (the queue service applies it).
DONE = "done"  # task finished (a referral asking for follow-up turns it into follow_up)
RETRY = "retry"  # try again after a growing delay, until max attempts, then exhausted
NEXT_PHONE = "next_phone"  # try the business's other phone, else exhausted and number flagged
CALLBACK = "callback"  # call back at the time the agent picked, personally or for the team


@dataclass(frozen=True, slots=True)
class Outcome:
    code: str
    key: str  # the one-key shortcut on the call screen, the same in every language
    label_fr: str
    label_en: str
    reached: bool  # somebody at the business was spoken to
    effect: str
    business_status: str | None = None  # the business's new status, if the outcome sets one
    opt_out: bool = False  # the business opposes all calls (RGPD): every queue, every chamber
    needs_callback_time: bool = False
    needs_confirmation: bool = False
    allows_referrals: bool = False

    def label(self, lang: str = "fr") -> str:
        return self.label_en if lang == "en" else self.label_fr


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("reached", "1", "Joint", "Reached", True, DONE, allows_referrals=True),
    Outcome("no_answer", "2", "Pas de réponse", "No answer", False, RETRY),
    Outcome("busy", "3", "Occupé", "Busy", False, RETRY),
    Outcome("voicemail", "4", "Messagerie", "Voicemail", False, RETRY),
    Outcome("wrong_number", "5", "Faux numéro", "Wrong number", False, NEXT_PHONE),
    Outcome("callback", "6", "Rappel", "Callback", True, CALLBACK, needs_callback_time=True),
    Outcome("refused", "7", "Refus", "Refused", True, DONE),
    Outcome(
        "ceased",
        "8",
        "Cessation d'activité",
        "Ceased trading",
        True,
        DONE,
        business_status="ceased",
    ),
    Outcome(
        "do_not_call",
        "9",
        "Opposition (ne plus appeler)",
        "Do not call (opted out)",
        True,
        DONE,
        opt_out=True,
        needs_confirmation=True,
    ),
)

OUTCOMES_BY_CODE: dict[str, Outcome] = {o.code: o for o in OUTCOMES}
OUTCOMES_BY_KEY: dict[str, Outcome] = {o.key: o for o in OUTCOMES}


class UnknownOutcome(ValueError):
    """An outcome code that is not in the catalogue."""


def outcome(code: str) -> Outcome:
    """The catalogue entry for `code`, or UnknownOutcome naming the valid codes."""
    try:
        return OUTCOMES_BY_CODE[code]
    except KeyError:
        valid = ", ".join(OUTCOMES_BY_CODE)
        raise UnknownOutcome(f"outcome {code!r} is not in the catalogue ({valid})") from None
