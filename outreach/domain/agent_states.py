"""An adviser's working states and the pause-reason catalogue (data, mirrored in `pause_reasons`).

`ready` waits for a business, `on_call` has one on screen, `wrap_up` runs from the outcome key to
the next business, `paused` carries a reason from the catalogue, `logged_out` ends the day (or a
crashed app's lease). Which changes are allowed is one table here, read by the service.
"""

from __future__ import annotations

from dataclasses import dataclass

READY = "ready"
ON_CALL = "on_call"
WRAP_UP = "wrap_up"
PAUSED = "paused"
LOGGED_OUT = "logged_out"
STATES: tuple[str, ...] = (READY, ON_CALL, WRAP_UP, PAUSED, LOGGED_OUT)
# the states of a logged-in adviser (everything but logged_out)
WORKING: tuple[str, ...] = (READY, ON_CALL, WRAP_UP, PAUSED)
DEFAULT_WRAP_UP_SECONDS = 120  # a wrap-up longer than this reads in red (campaigns can set theirs)

# the board's order: who needs a look first
ORDERED_FOR_BOARD: tuple[str, ...] = (PAUSED, WRAP_UP, ON_CALL, READY, LOGGED_OUT)

STATE_LABELS: dict[str, tuple[str, str]] = {
    READY: ("Disponible", "Ready"),
    ON_CALL: ("En appel", "On call"),
    WRAP_UP: ("Clôture", "Wrap-up"),
    PAUSED: ("En pause", "Paused"),
    LOGGED_OUT: ("Déconnecté", "Logged out"),
}

# from -> the states it may go to (None: no open state yet, the first login). An app back after
# its lease ran out (logged_out) may carry on with the business it shows.
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({READY, ON_CALL, PAUSED, LOGGED_OUT}),
    LOGGED_OUT: frozenset({READY, ON_CALL, PAUSED, LOGGED_OUT}),
    READY: frozenset({ON_CALL, PAUSED, LOGGED_OUT}),
    ON_CALL: frozenset({ON_CALL, WRAP_UP, READY, PAUSED, LOGGED_OUT}),
    WRAP_UP: frozenset({ON_CALL, READY, PAUSED, LOGGED_OUT}),
    PAUSED: frozenset({READY, ON_CALL, PAUSED, LOGGED_OUT}),
}


def state_label(state: str, lang: str = "fr") -> str:
    fr, en = STATE_LABELS.get(state, (state, state))
    return en if lang == "en" else fr


def allowed(current: str | None, new: str) -> bool:
    """Whether an adviser in `current` may go to `new`."""
    return new in TRANSITIONS.get(current, frozenset())


@dataclass(frozen=True, slots=True)
class PauseReason:
    code: str
    key: str  # the key in the pause modal
    label_fr: str
    label_en: str
    max_minutes: int | None  # shown in colour on the board once exceeded; None: no limit
    needs_note: bool = False

    def label(self, lang: str = "fr") -> str:
        return self.label_en if lang == "en" else self.label_fr


PAUSE_REASONS: tuple[PauseReason, ...] = (
    PauseReason("lunch", "1", "Pause déjeuner", "Lunch break", 60),
    PauseReason("training", "2", "Formation", "Training", None),
    PauseReason("meeting", "3", "Réunion", "Meeting", None),
    PauseReason("admin", "4", "Administratif", "Paperwork", 30),
    PauseReason("technical", "5", "Technique", "Technical problem", 15),
    PauseReason("other", "6", "Autre", "Other", 15, needs_note=True),
)
PAUSE_REASONS_BY_CODE = {r.code: r for r in PAUSE_REASONS}
