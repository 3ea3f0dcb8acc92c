"""The campaign's script: its intro, then one answer field per question (saved with the call)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import AwaitMount, Widget
from textual.widgets import Input, Label, Static

from outreach.services.types import ScriptQuestion


class ScriptForm(VerticalScroll):
    """Rebuilt only when the script changes (same campaign: same fields, just cleared)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._script: tuple[ScriptQuestion, ...] | None = None
        self._intro: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="script-intro")

    def load(self, script: tuple[ScriptQuestion, ...], intro: str | None) -> AwaitMount | None:
        """Show `script` (its fields cleared); the fields' mounting to await when it changed."""
        if script == self._script and intro == self._intro:
            for field in self.query(Input):
                field.value = ""
            return None
        self._script, self._intro = script, intro
        self.query_one("#script-intro", Static).update(intro or "")
        for widget in list(self.children)[1:]:
            widget.remove()
        widgets: list[Widget] = []
        for index, question in enumerate(script):
            hint = f"  [{' / '.join(question.choices)}]" if question.choices else ""
            widgets.append(Label(question.text + hint, classes="question", markup=False))
            widgets.append(Input(id=f"answer-{index}", classes="answer", compact=True))
        return self.mount_all(widgets)

    def answers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for index, question in enumerate(self._script or ()):
            value = self.query_one(f"#answer-{index}", Input).value.strip()
            if value:
                out[question.key] = value
        return out
