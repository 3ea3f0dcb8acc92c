"""A list of boxes to tick whose ticked items say so in text (☑ / ☐), not only in colour."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import on
from textual.widgets import SelectionList


def box(ticked: bool) -> str:
    return "☑ " if ticked else "☐ "


class TickList(SelectionList[str]):
    """`SelectionList` of (label, value) items; Space ticks, and the mark is in the label."""

    def __init__(self, items: Iterable[tuple[str, str]], **kwargs: Any) -> None:
        pairs = list(items)
        self._labels = [label for label, _value in pairs]
        super().__init__(*((box(False) + label, value) for label, value in pairs), **kwargs)

    @on(SelectionList.SelectedChanged)
    def _mark(self) -> None:
        for index, label in enumerate(self._labels):
            ticked = self.get_option_at_index(index).value in self.selected
            self.replace_option_prompt_at_index(index, box(ticked) + label)
