"""The footer: only the key labels that fit whole, so nothing is cut mid-word at 80–120 columns.

Textual's footer lays every key out and lets the last ones run under the palette hint, which left half a
label and a stray character after ``^p palette``. This one drops keys from the end (the registry's order
puts the most needed first) until the rest fit, and lays itself out again when the terminal is resized.
Every dropped action stays reachable: its key still works, and F1, ``?`` and ``^p`` list it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# "▏ ^p palette " and a column to spare.
PALETTE_COLUMNS = 14


def key_columns(key: FooterKey, compact: bool) -> int:
    """Columns one key takes: ``F8 Hang up`` and its padding (one column less in compact mode)."""
    return len(key.key_display) + len(key.description) + (2 if compact else 3)


class FittedFooter(Footer):
    # The screen width the keys were last laid out for (None: not yet).
    fitted_width: int | None = None

    def compose(self) -> ComposeResult:
        widgets: list[Widget] = list(super().compose())
        width = self.app.size.width
        if widgets:
            self.fitted_width = width
        room = width - PALETTE_COLUMNS
        used = 0
        for widget in widgets:
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                used += key_columns(widget, self.compact)
                if used > room:
                    continue
            yield widget
