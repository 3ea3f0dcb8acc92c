"""The campaign's script: its intro, then one answer per question (saved with the call).

A question with listed choices is answered by choice keys (`ChoiceField`): typing the start of
a choice picks it (`n` or `non` picks "non"), left/right move between choices, Backspace
clears. A key that starts no choice is refused with a bell, never passed on to the screen's
commands; digits stay the outcome keys. Where the question allows another answer, text that
starts no choice is kept as that answer. A question without choices takes free text (`Input`).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widget import AwaitMount, Widget
from textual.widgets import Input, Label, Static

from outreach.domain.script import matching_choice
from outreach.i18n import _
from outreach.services.types import ScriptQuestion


class ChoiceField(Static, can_focus=True):
    """One choice question, answered by typing the start of a choice."""

    BINDINGS = [
        Binding("left", "move(-1)", show=False),
        Binding("right", "move(1)", show=False),
        Binding("enter", "next", show=False),
    ]

    class Refused(Message):
        """A key that starts no choice was typed (the screen says which keys answer)."""

        def __init__(self, field: ChoiceField) -> None:
            super().__init__()
            self.field = field

    def __init__(self, question: ScriptQuestion, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.question = question
        self.typed = ""

    @property
    def choice(self) -> str | None:
        return matching_choice(self.question.choices, self.typed)

    @property
    def value(self) -> str:
        """The answer: the picked choice, else the other text where allowed, else ''."""
        choice = self.choice
        if choice is not None:
            return choice
        return self.typed.strip() if self.question.other else ""

    def set_value(self, value: str) -> None:
        self.typed = value
        self._draw()

    def on_mount(self) -> None:
        self._draw()

    def _draw(self) -> None:
        picked = self.choice
        text = Text()
        for choice in self.question.choices:
            if text:
                text.append("  ")
            mark = "●" if choice == picked else "○"
            style = "bold reverse" if choice == picked else ""
            text.append(f"{mark} ", style=style)
            text.append(choice[:1], style=f"{style} underline".strip())
            text.append(choice[1:], style=style)
        if self.question.other:
            other = self.typed if picked is None else ""
            text.append("  " + _("autre : "), style="italic")
            text.append(other or "…", style="bold reverse" if other else "dim")
        self.update(text)

    def on_key(self, event: events.Key) -> None:
        char = event.character
        if event.key == "backspace":
            self.typed = self.typed[:-1] if self.choice is None else ""
        elif event.key == "delete":
            self.typed = ""
        elif char is None or not char.isprintable() or char.isdigit() or event.key == "tab":
            return  # digits stay the outcome keys; tab, escape... go to the screen
        elif self.question.other or matching_choice(self.question.choices, self.typed + char):
            self.typed += char
        elif matching_choice(self.question.choices, char):
            self.typed = char  # another choice: start again from this key
        else:
            self.app.bell()
            self.post_message(self.Refused(self))
        event.stop()
        event.prevent_default()
        self._draw()

    def action_move(self, step: int) -> None:
        choices = self.question.choices
        current = self.choice
        index = choices.index(current) if current in choices else (-1 if step > 0 else 0)
        self.typed = choices[(index + step) % len(choices)]
        self._draw()

    def action_next(self) -> None:
        self.screen.focus_next()


class ScriptForm(VerticalScroll, can_focus=False):
    """Rebuilt only when the script changes (same campaign: same fields, just cleared).

    Not focusable itself: Tab goes straight to the answers."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._script: tuple[ScriptQuestion, ...] | None = None
        self._intro: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="script-intro")

    def load(self, script: tuple[ScriptQuestion, ...], intro: str | None) -> AwaitMount | None:
        """Show `script` (its fields cleared); the fields' mounting to await when it changed."""
        if script == self._script and intro == self._intro:
            for field in self.fields():
                field.set_value("") if isinstance(field, ChoiceField) else field.clear()
            self.scroll_home(animate=False)
            return None
        self._script, self._intro = script, intro
        self.query_one("#script-intro", Static).update(intro or "")
        for widget in list(self.children)[1:]:
            widget.remove()
        widgets: list[Widget] = []
        for index, question in enumerate(script):
            widgets.append(Label(question.text, classes="question", markup=False))
            if question.choices:
                widgets.append(ChoiceField(question, id=f"answer-{index}", classes="answer"))
            else:
                widgets.append(Input(id=f"answer-{index}", classes="answer", compact=True))
        return self.mount_all(widgets)

    def fields(self) -> list[ChoiceField | Input]:
        return [w for w in self.query(".answer") if isinstance(w, ChoiceField | Input)]

    def first_field(self) -> ChoiceField | Input | None:
        fields = self.fields()
        return fields[0] if fields else None

    def answers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for question, field in zip(self._script or (), self.fields(), strict=False):
            value = field.value.strip()
            if value:
                out[question.key] = value
        return out

    def restore(self, answers: dict[str, str]) -> None:
        """Put back the answers of a call that was undone."""
        for question, field in zip(self._script or (), self.fields(), strict=False):
            value = answers.get(question.key, "")
            if isinstance(field, ChoiceField):
                field.set_value(value)
            else:
                field.value = value
