"""The top line of every screen: who is logged in, today's own counts, calls waiting offline."""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual.widgets import Static

from outreach.i18n import _, ngettext
from outreach.tui.context import AppState


class StatusBar(Static):
    def on_mount(self) -> None:
        app = self.app
        for name in (
            "agent",
            "campaign_name",
            "calls_today",
            "reached_today",
            "outbox_waiting",
            "my_times",
        ):
            self.watch(app, name, self._refresh_text, init=False)
        self._refresh_text()

    def _refresh_text(self, _value: object = None) -> None:
        app = cast(AppState, self.app)
        text = Text()
        if app.outbox_waiting:
            # first, so it is never cut off on a narrow terminal
            text.append(
                _("{n} appel(s) en attente de la base").format(n=app.outbox_waiting),
                style="reverse",
            )
            text.append("  ·  ")
        if app.agent is None:
            text.append("outreach", style="bold")
        else:
            text.append(
                _("Aujourd'hui : {calls}, {reached}").format(
                    calls=ngettext("{n} appel", "{n} appels", app.calls_today).format(
                        n=app.calls_today
                    ),
                    reached=ngettext("{n} joint", "{n} joints", app.reached_today).format(
                        n=app.reached_today
                    ),
                ),
                style="bold",
            )
            if app.my_times:
                text.append(f"  ·  {app.my_times}")
            text.append(f"  ·  {app.agent.name} ({app.agent.chamber_code})")
        if app.campaign_name:
            text.append(f"  ·  {app.campaign_name}")
        self.update(text, layout=False)  # one line, docked: its size never changes
