"""The nine outcome keys, always on screen, labelled in the current language."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from outreach.domain.outcomes import OUTCOMES
from outreach.i18n import language


class OutcomeBar(Static):
    def on_mount(self) -> None:
        text = Text()
        for entry in OUTCOMES:
            if text:
                text.append("  ")
            text.append(f" {entry.key} ", style="reverse bold")
            text.append(" " + entry.label(language()))
        self.update(text)
