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


# What handing a business back (without a call outcome) does: the hand-back reasons.
REQUEUE = "requeue"  # back to the queue after `delay_minutes`, for anybody
REMOVE = "remove"  # out of the campaign: the task cancelled, its end_reason the reason's code
FLAG = "flag"  # the record reported to a supervisor; out of the queue until resolved


@dataclass(frozen=True, slots=True)
class HandBack:
    code: str
    label_fr: str
    label_en: str
    effect: str
    needs_text: bool = False  # the adviser must say why, in a few words
    delay_minutes: int = 10  # requeue: not offered again before

    def label(self, lang: str = "fr") -> str:
        return self.label_en if lang == "en" else self.label_fr


HAND_BACKS: tuple[HandBack, ...] = (
    HandBack(
        "not_target",
        "Hors cible (pas une entreprise artisanale)",
        "Out of target (not an artisan business)",
        REMOVE,
    ),
    HandBack(
        "personal_link",
        "Je connais personnellement l'entreprise",
        "I know the business personally",
        REQUEUE,
    ),
    HandBack(
        "handled_elsewhere",
        "Déjà suivie par un autre conseiller",
        "Already followed by another adviser",
        REMOVE,
    ),
    HandBack(
        "bad_data",
        "Fiche erronée (adresse, activité) : signaler au superviseur",
        "Wrong record (address, trade): report to a supervisor",
        FLAG,
    ),
    HandBack("other", "Autre motif (à préciser)", "Other reason (say which)", REQUEUE, True),
)

HAND_BACKS_BY_CODE: dict[str, HandBack] = {h.code: h for h in HAND_BACKS}


def hand_back_reason(code: str) -> HandBack:
    """The hand-back reason `code`; KeyError when it is not in the catalogue."""
    return HAND_BACKS_BY_CODE[code]
