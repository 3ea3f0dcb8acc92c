"""The adviser's own line on the call screen: state and timer (on the call since the business
was shown, wrap-up since the outcome key, pause and its reason), and the callback alert. The
wrap-up timer (and the last wrap-up's length) turns red past the campaign's maximum wrap-up time
(`campaigns.max_wrap_up_seconds`, read once when the screen opens).

Every `callback_check_seconds` a thread worker asks the service for due callbacks; the first
one not on screen shows as a banner (the terminal bell once per callback, if enabled), and the
call screen's key `a` takes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from outreach.domain.agent_states import DEFAULT_WRAP_UP_SECONDS, state_label
from outreach.i18n import _, language, ngettext
from outreach.services.agent_states import wrap_up_limit
from outreach.services.callback_alerts import due_callbacks
from outreach.services.outbox import UNREACHABLE
from outreach.services.types import CallbackItem
from outreach.tui.context import AgentContext
from outreach.tui.format import in_zone


def clock_text(seconds: float) -> str:
    """1:05, 12:30, 1:02:03."""
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


@dataclass
class CallbacksDue(Message):
    items: list[CallbackItem]


@dataclass
class WrapUpLimit(Message):
    seconds: int


OVER = "bold red"  # a wrap-up past the campaign's limit


class DayBar(Vertical):
    def __init__(self, context: AgentContext, campaign_id: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.context = context
        self.campaign_id = campaign_id
        self.alert: CallbackItem | None = None
        self.on_screen: int | None = None  # the task shown on the call screen
        self._rung: set[int] = set()
        self._checking = False  # one look at a time (never a cancelled worker)
        self.wrap_up_limit = DEFAULT_WRAP_UP_SECONDS  # the campaign's, once read
        self._first_read = False  # see first_read

    def compose(self) -> ComposeResult:
        yield Static("", id="day-timer")
        yield Static("", id="day-alert")

    def on_mount(self) -> None:
        self.query_one("#day-alert").display = False
        self.set_interval(1, self.tick)
        self.context.day.listeners.append(self._state_changed)
        self.set_interval(self.context.settings.callback_check_seconds, self.check)
        self.tick()

    def first_read(self) -> None:
        """The due callbacks and the campaign's wrap-up limit, read once the screen has drawn its
        first answer from the queue (a business, or none): alongside that first claim they
        held it back (three more database reads at once, each taking the interpreter's lock
        from the claim and from the frame that shows the business)."""
        if not self._first_read:
            self._first_read = True
            self.call_after_refresh(self.check)
            self.call_after_refresh(self._read_limit)

    @work(thread=True, exit_on_error=False, group="wrap-up-limit")
    def _read_limit(self) -> None:
        try:
            seconds = self.context.backend.call(wrap_up_limit, self.campaign_id)
        except UNREACHABLE:
            return  # the default meanwhile
        self.post_message(WrapUpLimit(seconds))

    def on_wrap_up_limit(self, message: WrapUpLimit) -> None:
        message.stop()
        self.wrap_up_limit = message.seconds
        self.tick()

    def on_unmount(self) -> None:
        if self._state_changed in self.context.day.listeners:
            self.context.day.listeners.remove(self._state_changed)

    def _state_changed(self) -> None:
        """The adviser's state changed: the timer line shows it, a wrap-up a moment later.

        An outcome saved at once (no answer, busy...) is a wrap-up of a few milliseconds, over
        when the next business is drawn: showing it would only flash, and after a frame Textual
        waits 17 to 33 ms before the next one, so that frame would hold back the business.
        A wrap-up that lasts (a modal open, the database slow) shows once it has lasted
        `settings.wrap_up_shown_after` (0.2 s)."""
        current = self.context.day.current
        if current is not None and current.state == "wrap_up":
            self.set_timer(self.context.settings.wrap_up_shown_after, self.tick)
        else:
            self.tick()

    def tick(self) -> None:
        """The state and its timer, now."""
        day, now = self.context.day, self.context.settings.now()
        current = day.current
        text = Text()
        limit = self.wrap_up_limit
        if current is not None:
            label = state_label(current.state, language())
            if current.reason:
                label += f" ({day.reason_label(current.reason)})"
            elapsed = (now - current.at).total_seconds()
            line = f"{label} {clock_text(elapsed)}"
            if current.state == "wrap_up" and elapsed > limit:
                line += " " + _("(max {time})").format(time=clock_text(limit))
                text.append(line, OVER)
            else:
                text.append(line, "bold")
        if day.last_wrap_up is not None:
            last = day.last_wrap_up.total_seconds()
            text.append("  ·  ")
            text.append(
                _("dernière clôture {time}").format(time=clock_text(last)),
                OVER if last > limit else "",
            )
        self.query_one("#day-timer", Static).update(text)

    def check(self) -> None:
        if not self._checking:
            self._checking = True
            self._check_worker(self.context.agent.id)

    @work(thread=True, exit_on_error=False, group="callback-alert")
    def _check_worker(self, agent_id: int) -> None:
        try:
            items = self.context.backend.call(
                due_callbacks, agent_id, self.campaign_id, now=self.context.settings.now_arg()
            )
        except UNREACHABLE:
            return
        finally:
            self._checking = False
        self.post_message(CallbacksDue(items))

    def on_callbacks_due(self, message: CallbacksDue) -> None:
        message.stop()
        items = [c for c in message.items if c.task_id != self.on_screen]
        self.alert = items[0] if items else None
        line = self.query_one("#day-alert", Static)
        line.display = self.alert is not None
        if self.alert is None:
            return
        a = self.alert
        when = in_zone(a.callback_at, self.context.settings.display_timezone).strftime("%H:%M")
        text = (
            _("Rappel dû : {business} ({campaign}, prévu à {time})")
            if a.personal
            else _("Rappel d'équipe dû : {business} ({campaign}, prévu à {time})")
        ).format(business=a.business_name, campaign=a.campaign_name, time=when)
        more = len(items) - 1
        if more:
            text += " " + ngettext("+{n} autre", "+{n} autres", more).format(n=more)
        line.update(Text(text + "  ·  " + _("a : le prendre maintenant"), "bold"))
        if a.task_id not in self._rung and self.context.settings.callback_bell:
            self.app.bell()
        self._rung.add(a.task_id)

    def shown(self, task_id: int | None) -> None:
        """The call screen shows this task now (no alert for it)."""
        self.on_screen = task_id
        if self.alert is not None and self.alert.task_id == task_id:
            self.alert = None
            self.query_one("#day-alert").display = False
