"""The startup baseline: a plain Textual app with a header, a label, an input and a footer.

It shows the same marker word as the console's mode banner, so both are timed to the same moment.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Input, Label


class BareApp(App[None]):
    TITLE = "bare"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("SANDBOX")
        yield Input(placeholder="type here")
        yield Footer()


if __name__ == "__main__":
    BareApp().run()
