"""The referral lifecycle: its states, the transitions allowed between them, which states count
as "helped" and "done", and the action-plan catalogue of a done diagnostic (DESIGN invariant 9).

    proposed -> accepted -> scheduled -> done
    declined, no_show, cancelled on the side (see TRANSITIONS)

This is the one place these rules live: the services apply them, the roll-ups count from
HELPED_STATES / DONE_STATE, the screens offer only what `allowed` says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

PROPOSED = "proposed"
ACCEPTED = "accepted"
SCHEDULED = "scheduled"
DONE = "done"
DECLINED = "declined"
NO_SHOW = "no_show"
CANCELLED = "cancelled"

STATES: tuple[str, ...] = (PROPOSED, ACCEPTED, SCHEDULED, DONE, DECLINED, NO_SHOW, CANCELLED)
# what an agent may record on the call itself (the firm says yes or no on the phone)
INITIAL_STATES: tuple[str, ...] = (PROPOSED, ACCEPTED, DECLINED)
# the firm took the help: counted as "helped" by every roll-up, never a declined one
HELPED_STATES: tuple[str, ...] = (ACCEPTED, SCHEDULED, DONE)
DONE_STATE = DONE
# the firm said yes at some point, as far as the state tells (the funnel's "accepted")
ACCEPTED_STATES: tuple[str, ...] = (ACCEPTED, SCHEDULED, DONE, NO_SHOW)
# a referral someone still has to work (the follow-up worklist)
OPEN_STATES: tuple[str, ...] = (PROPOSED, ACCEPTED, SCHEDULED, NO_SHOW)
FINAL_STATES: tuple[str, ...] = (DONE, DECLINED, CANCELLED)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    PROPOSED: (ACCEPTED, SCHEDULED, DECLINED, CANCELLED),
    ACCEPTED: (SCHEDULED, DONE, DECLINED, CANCELLED),
    # a scheduled appointment can be moved (scheduled again)
    SCHEDULED: (SCHEDULED, DONE, NO_SHOW, CANCELLED),
    NO_SHOW: (SCHEDULED, DECLINED, CANCELLED),
    DONE: (),
    DECLINED: (),
    CANCELLED: (),
}

# when an open referral that has no appointment is due for follow-up, after its last change
DUE_AFTER: dict[str, timedelta] = {
    PROPOSED: timedelta(days=2),
    ACCEPTED: timedelta(days=7),
    NO_SHOW: timedelta(days=2),
}

# the kind whose `done` needs an appointment first and carries an action plan
DIAGNOSTIC = "digital_diagnostic"

STATE_LABELS: dict[str, tuple[str, str]] = {
    PROPOSED: ("proposée", "proposed"),
    ACCEPTED: ("acceptée", "accepted"),
    SCHEDULED: ("rendez-vous pris", "scheduled"),
    DONE: ("réalisée", "done"),
    DECLINED: ("refusée", "declined"),
    NO_SHOW: ("absent au rendez-vous", "no-show"),
    CANCELLED: ("annulée", "cancelled"),
}


@dataclass(frozen=True, slots=True)
class PlanAction:
    code: str
    label_fr: str
    label_en: str

    def label(self, lang: str = "fr") -> str:
        return self.label_en if lang == "en" else self.label_fr


# the action plan of a done diagnostic: a few actions picked from this catalogue
PLAN_ACTIONS: tuple[PlanAction, ...] = (
    PlanAction("site", "Site internet", "Website"),
    PlanAction("payment", "Paiement en ligne", "Online payment"),
    PlanAction("delivery", "Livraison", "Delivery"),
    PlanAction("marketplace", "Place de marché", "Marketplace"),
    PlanAction("social_networks", "Réseaux sociaux", "Social networks"),
    PlanAction("click_and_collect", "Clic et collecte", "Click and collect"),
    PlanAction("cheque_numerique", "Dossier chèque numérique", "Digital cheque file"),
    PlanAction("training", "Formation", "Training"),
)
PLAN_ACTION_CODES: tuple[str, ...] = tuple(a.code for a in PLAN_ACTIONS)
PLAN_ACTIONS_BY_CODE: dict[str, PlanAction] = {a.code: a for a in PLAN_ACTIONS}
ACTION_STATUSES: tuple[str, ...] = ("planned", "in_progress", "done", "dropped")
ACTION_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "planned": ("prévue", "planned"),
    "in_progress": ("en cours", "in progress"),
    "done": ("faite", "done"),
    "dropped": ("abandonnée", "dropped"),
}
MAX_PLAN_ACTIONS = len(PLAN_ACTIONS)


def state_label(state: str, lang: str = "fr") -> str:
    fr, en = STATE_LABELS.get(state, (state, state))
    return en if lang == "en" else fr


def allowed(kind: str, state: str) -> tuple[str, ...]:
    """The states a referral of `kind` in `state` may move to (empty: final)."""
    nexts = TRANSITIONS.get(state, ())
    if kind == DIAGNOSTIC and state == ACCEPTED:
        # a diagnostic is an appointment: it is booked before it is done
        nexts = tuple(s for s in nexts if s != DONE)
    return nexts


def can_move(kind: str, state: str, to_state: str) -> bool:
    return to_state in allowed(kind, state)


def needs_appointment(to_state: str) -> bool:
    """A move to `scheduled` carries a date, a time and an adviser."""
    return to_state == SCHEDULED


def needs_plan(kind: str, to_state: str) -> bool:
    """A diagnostic marked done carries its action plan (at least one action)."""
    return kind == DIAGNOSTIC and to_state == DONE


def is_helped(state: str) -> bool:
    return state in HELPED_STATES
