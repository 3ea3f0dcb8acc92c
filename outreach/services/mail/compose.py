"""What an e-mail to a business says: Jinja2 templates (files under outreach/templates/mail/<lang>/),
the appointment as an iCalendar attachment, and the MIME message sent.

No database here: the queueing service gathers the facts, this module turns them into text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"
LANGUAGES = ("fr", "en")
ENV_AUTODIAG_URL = "OUTREACH_AUTODIAG_URL"
ENV_MAIL_LANG = "OUTREACH_MAIL_LANG"
# the CMA network's online self-diagnostic ("autodiagnostic numérique"); set your own
DEFAULT_AUTODIAG_URL = "https://www.artisanat.fr/autodiagnostic-numerique"
DIAGNOSTIC_LENGTH = timedelta(hours=1, minutes=30)

PLATFORM_CATEGORIES: dict[str, tuple[str, str]] = {
    "site": ("site de vente", "online shop"),
    "payment": ("paiement", "payment"),
    "delivery": ("livraison", "delivery"),
    "marketplace": ("place de marché", "marketplace"),
    "click_and_collect": ("clic et collecte", "click and collect"),
}
_MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def mail_language() -> str:
    """The language of e-mails to businesses: OUTREACH_MAIL_LANG (fr or en), French by default
    (the firms are French; the adviser's own screen language does not decide it)."""
    value = os.environ.get(ENV_MAIL_LANG, "").strip().lower()
    return "en" if value.startswith("en") else "fr"


def autodiag_url() -> str:
    return os.environ.get(ENV_AUTODIAG_URL, "").strip() or DEFAULT_AUTODIAG_URL


@dataclass(frozen=True, slots=True)
class Appointment:
    starts_at: datetime  # aware
    zone: str  # the business's time zone: the time is shown there
    adviser_name: str | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class MailFacts:
    """Everything an e-mail to a business may say."""

    business_name: str
    chamber_name: str
    adviser_name: str
    kinds: tuple[str, ...] = ()  # referral kind labels, in the mail's language
    platforms: tuple[tuple[str, str], ...] = ()  # (name, category code)
    diagnostic: bool = False
    appointment: Appointment | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str
    ics: str | None


@cache
def _environment() -> Any:
    import jinja2  # loaded on the first e-mail only: the agents' app starts without it

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain-text mail
        keep_trailing_newline=True,
    )


def when_text(appointment: Appointment, language: str) -> str:
    """`mardi 8 décembre 2020 à 14 h 30 (heure de Paris)`-like, in the business's own zone."""
    local = appointment.starts_at.astimezone(ZoneInfo(appointment.zone))
    if language == "en":
        return f"{local:%A %d %B %Y at %H:%M} ({appointment.zone})"
    days = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
    month = _MONTHS_FR[local.month - 1]
    return (
        f"{days[local.weekday()]} {local.day} {month} {local.year} à {local:%H} h {local:%M} "
        f"(heure locale, {appointment.zone})"
    )


def render(kind: str, language: str, facts: MailFacts, *, uid: str) -> Rendered:
    """The subject, body and (for an appointment) iCalendar text of one e-mail."""
    if language not in LANGUAGES:
        language = "fr"
    names = {code: (fr, en) for code, (fr, en) in PLATFORM_CATEGORIES.items()}
    context = {
        "business_name": facts.business_name,
        "chamber_name": facts.chamber_name,
        "adviser_name": facts.adviser_name,
        "kinds": list(facts.kinds),
        "platforms": [
            {"name": name, "category": names.get(cat, (cat, cat))[language == "en"]}
            for name, cat in facts.platforms
        ],
        "diagnostic": facts.diagnostic,
        "autodiag_url": autodiag_url(),
        "appointment": when_text(facts.appointment, language) if facts.appointment else None,
        **facts.extra,
    }
    env = _environment()
    subject = env.get_template(f"{language}/{kind}.subject.j2").render(context)
    body = env.get_template(f"{language}/{kind}.txt.j2").render(context)
    ics = ics_text(facts, language, uid=uid) if facts.appointment else None
    return Rendered(" ".join(subject.split()), body, ics)


def ics_text(facts: MailFacts, language: str, *, uid: str) -> str:
    """The appointment as an iCalendar (RFC 5545) VEVENT, times in UTC."""
    import icalendar

    appointment = facts.appointment
    assert appointment is not None
    start = appointment.starts_at
    cal = icalendar.Calendar()
    cal.add("prodid", "-//CMA//outreach//FR")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", start)
    event.add("dtstart", start)
    event.add("dtend", start + DIAGNOSTIC_LENGTH)
    event.add(
        "summary",
        f"Digital diagnostic - {facts.chamber_name}"
        if language == "en"
        else f"Diagnostic numérique - {facts.chamber_name}",
    )
    if appointment.location:
        event.add("location", appointment.location)
    if appointment.adviser_name:
        event.add("description", appointment.adviser_name)
    cal.add_component(event)
    return bytes(cal.to_ical()).decode("utf-8")


def mime_message(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    ics: str | None,
    created_at: datetime,
) -> EmailMessage:
    """The message as sent: plain text (UTF-8), the .ics attached when there is one."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(created_at)
    msg.set_content(body)
    if ics:
        msg.add_attachment(
            ics.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            filename="diagnostic.ics",
            params={"method": "PUBLISH"},
        )
    return msg
