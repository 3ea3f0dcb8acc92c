"""A Rich renderable drawn once per width, however often Textual asks for it.

Textual asks a widget's renderable for its lines at least twice in the frame that shows it (its
height for the layout, then its lines), and again whenever the widget is repainted. For a Rich
`Table` each of those is a whole table layout: every cell measured, padded and cropped (the call
screen's history and business card: most of the frame that shows the next business). Wrapped in
`DrawnOnce`, the table is drawn once for a given width and its lines are handed out again.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment

_WIDTHS_KEPT = 2  # the width on screen and the one before a resize


class DrawnOnce:
    """`renderable`, drawn at most once per width (its lines do not depend on the height)."""

    __slots__ = ("renderable", "_lines", "_measurements")

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._lines: dict[tuple[object, ...], list[list[Segment]]] = {}
        self._measurements: dict[int, Measurement] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        key = (options.max_width, options.justify, options.overflow, options.no_wrap)
        lines = self._lines.get(key)
        if lines is None:
            lines = console.render_lines(self.renderable, options.update(height=None), pad=False)
            if len(self._lines) >= _WIDTHS_KEPT:
                self._lines.clear()
            self._lines[key] = lines
        new_line = Segment.line()
        for line in lines:
            yield from line
            yield new_line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        measured = self._measurements.get(options.max_width)
        if measured is None:
            measured = Measurement.get(console, options, self.renderable)
            self._measurements[options.max_width] = measured
        return measured
