"""How values read on screen (French first): times in a zone, statuses, outcome labels."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from outreach.domain.lifecycle import ACTION_STATUS_LABELS, PLAN_ACTIONS_BY_CODE, state_label
from outreach.domain.outcomes import OUTCOMES_BY_CODE
from outreach.domain.referrals import REFERRAL_KINDS_BY_CODE
from outreach.i18n import _, language


def outcome_label(code: str) -> str:
    entry = OUTCOMES_BY_CODE.get(code)
    return entry.label(language()) if entry else code


def referral_label(code: str) -> str:
    entry = REFERRAL_KINDS_BY_CODE.get(code)
    return entry.label(language()) if entry else code


def referral_status_label(status: str) -> str:
    return state_label(status, language())


def plan_action_label(code: str) -> str:
    entry = PLAN_ACTIONS_BY_CODE.get(code)
    return entry.label(language()) if entry else code


def action_status_label(status: str) -> str:
    fr, en = ACTION_STATUS_LABELS.get(status, (status, status))
    return en if language() == "en" else fr


def status_label(status: str, *, short: bool = False) -> str:
    if short and status == "closed_admin":
        return _("fermée (confinement)")
    return {
        "open": _("ouverte"),
        "closed_admin": _("fermée administrativement (confinement)"),
        "ceased": _("cessation d'activité"),
    }.get(status, status)


def task_state_label(state: str) -> str:
    return {
        "queued": _("en file"),
        "waiting": _("en file (nouvel essai plus tard)"),
        "callback": _("rappel"),
        "follow_up": _("suivi"),
        "done": _("terminée"),
        "exhausted": _("épuisée"),
        "cancelled": _("annulée"),
    }.get(state, state)


def in_zone(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def short_datetime(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return ""
    return in_zone(moment, zone).strftime("%d/%m/%Y %H:%M")


_WEEKDAYS = {
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def long_datetime(moment: datetime, zone: str | None = None) -> str:
    """'ven. 05/12/2026 14:30' (in `zone` if given): the weekday says which day it is."""
    local = in_zone(moment, zone) if zone else moment
    day = _WEEKDAYS["en" if language() == "en" else "fr"][local.weekday()]
    return f"{day} {local.strftime('%d/%m/%Y %H:%M')}"


def window_text(days: str, hours: str) -> str:
    """'lun. mar. mer. jeu. ven., 10:00-13:00, 14:00-20:00' from a campaign's window."""
    names = _WEEKDAYS["en" if language() == "en" else "fr"]
    shown = " ".join(names[int(d) - 1] for d in sorted(set(days)) if d in "1234567")
    return f"{shown}, {hours.replace(',', ', ')}"


def hour(moment: datetime, zone: str) -> str:
    return in_zone(moment, zone).strftime("%H:%M")


_WHEN = re.compile(
    r"^\s*(?:(?P<day>\d{1,2})/(?P<month>\d{1,2})(?:/(?P<year>\d{4}))?\s+)?"
    r"(?P<hour>\d{1,2})\s*[:hH]\s*(?P<minute>\d{2})?\s*$"
)


def parse_local_time(text: str, now: datetime, zone: str) -> datetime:
    """'14:30', '14h', '28/11 9h15', '28/11/2026 09:15' in `zone`, as an aware datetime.

    A time alone is today, or tomorrow if already past; a day without a year already past is
    next year's (02/01 typed in December). ValueError with a message in the user's language."""
    match = _WHEN.match(text)
    if not match:
        raise ValueError(_("heure illisible : tapez 14:30, 14h ou 28/11 09:15"))
    local_now = in_zone(now, zone)
    try:
        when = local_now.replace(
            hour=int(match["hour"]),
            minute=int(match["minute"] or 0),
            second=0,
            microsecond=0,
        )
        if match["day"]:
            when = when.replace(
                year=int(match["year"] or local_now.year),
                month=int(match["month"]),
                day=int(match["day"]),
            )
            if not match["year"] and when <= local_now:
                when = when.replace(year=local_now.year + 1)
        elif when <= local_now:
            when += timedelta(days=1)
    except ValueError:
        raise ValueError(_("date ou heure impossible : {text}").format(text=text.strip())) from None
    if when <= local_now:
        raise ValueError(_("le rappel doit être dans le futur"))
    return when


def mail_refusal_label(reason: str, address: str | None = None) -> str:
    """Why no e-mail goes to the firm (a reason of outreach.domain.mail), for the screen."""
    if reason == "opposition":
        return _("Pas de courriel : l'entreprise s'y est opposée")
    if reason == "no_address":
        return _("Pas de courriel : aucune adresse connue")
    return _("Pas de courriel : adresse invalide ({address})").format(address=address or "")
