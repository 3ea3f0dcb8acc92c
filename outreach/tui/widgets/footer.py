"""The key footer of every screen: Textual's Footer, rebuilt only when what it shows changes.

Textual's Footer mounts empty and remounts all its keys after the next refresh each time the
screen's bindings are "updated", which is every focus change (a screen shown, `set_focus(None)`
after each business, a field left), even when the keys shown stay the same. Each remount
restyles every key: tens of milliseconds per business on the call screen, and an extra frame.
This one shows its keys as soon as the screen first reports its bindings (once its first focus
is set), then remounts only when the keys it would show differ from those it shows; several
updates before the next refresh make one check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from outreach.i18n import _

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.screen import Screen


class KeyFooter(Footer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[Any, ...] | None = None  # what the last compose showed
        self._check_pending = False

    def _showing(self) -> tuple[Any, ...]:
        """Everything `Footer.compose` reads: equal tuples give the same keys on screen."""
        active = self.screen.active_bindings
        palette = None
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        return (
            tuple(
                (binding, enabled, tooltip)
                for (_node, binding, enabled, tooltip) in active.values()
                if binding.show
            ),
            None if palette is None else palette[1:],
            self.compact,
        )

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._showing()
        # descriptions are French message ids read when the screens were imported: shown in the
        # language of now (a language chosen after the import still reads right)
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.description:
                widget.description = _(widget.description)
            yield widget

    def bindings_changed(self, screen: Screen[Any]) -> None:
        first = not self._bindings_ready
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._check_pending:
            self._check_pending = True
            # the first keys right after the handler that set the screen's focus, not a frame
            # later; a change after a frame: the frame that shows what changed first (the next
            # business), its keys in the next (building them in that frame delayed it ~15 ms)
            schedule = self.call_next if first else self.call_after_refresh
            schedule(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._check_pending = False
        if self.is_attached and self._showing() != self._shown:
            await self.recompose()
