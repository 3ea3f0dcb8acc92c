"""`DrawnOnce`: a Rich table drawn once per width, its lines the table's own."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from textual.app import App, ComposeResult
from textual.widgets import Static

from outreach.tui.widgets.drawn_once import DrawnOnce


class CountedTable(Table):
    """A real Rich table that counts how often it is drawn."""

    drawn = 0

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self.drawn += 1
        yield from super().__rich_console__(console, options)


def calls_table() -> CountedTable:
    table = CountedTable(expand=True, box=None, padding=(0, 1), show_edge=False)
    table.add_column("Quand", no_wrap=True, style="dim")
    table.add_column("Résultat", ratio=3, no_wrap=True, overflow="ellipsis")
    table.add_column("Notes", ratio=3, no_wrap=True, overflow="ellipsis")
    table.add_row("01/12/26 09:14", "Pas de réponse", "")
    table.add_row("30/11/26 16:02", "Joint → Click & collect", "rappeler après le marché " * 3)
    return table


def lines(console: Console, renderable: object, width: int) -> list[str]:
    with console.capture() as capture:
        console.print(renderable, width=width)
    return capture.get().splitlines()


def test_the_same_lines_as_the_table_at_any_width() -> None:
    console = Console(force_terminal=True, color_system="truecolor", width=200)
    table, wrapped = calls_table(), DrawnOnce(calls_table())
    for width in (120, 80, 41, 120):
        assert lines(console, wrapped, width) == lines(console, table, width)


def test_drawn_once_per_width() -> None:
    console = Console(width=200)
    table = calls_table()
    wrapped = DrawnOnce(table)
    lines(console, wrapped, 80)
    lines(console, wrapped, 80)
    assert table.drawn == 1
    lines(console, wrapped, 60)
    lines(console, wrapped, 80)  # the width before a resize is kept
    assert table.drawn == 2


async def test_a_frame_draws_the_table_once() -> None:
    """Textual asks a Static for its height, then for its lines: one drawing for both."""
    table = calls_table()
    bare = calls_table()

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(DrawnOnce(table), id="wrapped")
            yield Static(bare, id="bare")

    async with Host().run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        assert bare.drawn >= 2  # what the wrapper saves
        assert table.drawn == 1
        assert "Click & collect" in str(pilot.app.query_one("#wrapped", Static).render_line(2))
