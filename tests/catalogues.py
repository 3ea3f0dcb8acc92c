"""The gettext catalogues as tests read them (Babel's own .po reader)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parents[1] / "outreach" / "locale"


@dataclass(frozen=True)
class Entries:
    messages: dict[str, str]  # plain entries, translated
    plurals: dict[str, tuple[str, ...]]  # plural entries by their singular id


def entries(lang: str, domain: str = "outreach") -> Entries:
    with (LOCALE / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
        catalogue = read_po(handle)
    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for m in catalogue:
        if not m.id or not m.string:
            continue
        if isinstance(m.id, tuple):
            if all(m.string):
                plurals[m.id[0]] = tuple(m.string)
        elif isinstance(m.id, str):
            messages[m.id] = str(m.string)
    return Entries(messages, plurals)
