"""The one-line header: where we are (SANDBOX or the service host), who, the event channel, the credential.

Setters only store values and ask for a repaint; the text is built in ``render`` so that a burst of
connection changes costs one draw per frame.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from tui.ui import safe
from tui.ui.format import CONNECTION_COLOUR, lifetime
from tui.ui.widgets.guard import safe_render


class ConsoleHeader(Widget):
    DEFAULT_CSS = """
    ConsoleHeader {
        height: 1;
        width: 1fr;
    }
    """

    def __init__(self, mode: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode = mode
        self.host = ""
        self.customer = ""
        self.channel_state = "starting"
        self.channel_attempt = 0
        self.channel_error = ""
        self.channel_unauthorized = False
        self.gap_note = ""
        self.credential: str = ""

    # -- setters ------------------------------------------------------------------------------------------

    def set_mode(self, mode: str, host: str = "") -> None:
        self.mode, self.host = mode, host
        self.refresh()

    def set_customer(self, customer: str) -> None:
        self.customer = customer
        self.refresh()

    def set_channel(self, state: str, attempt: int = 0, error: str = "", *, unauthorized: bool = False) -> None:
        self.channel_state, self.channel_attempt, self.channel_error = state, attempt, error
        self.channel_unauthorized = unauthorized
        if state == "reconnecting":
            self.gap_note = ""
        self.refresh()

    def set_gap(self, note: str) -> None:
        self.gap_note = note
        self.refresh()

    def set_credential(self, remaining: float | None, kind: str) -> None:
        self.credential = f"{kind} {lifetime(remaining)}" if remaining is not None else kind
        self.refresh()

    # -- text ---------------------------------------------------------------------------------------------

    @property
    def channel_text(self) -> str:
        state = self.channel_state
        if state == "reconnecting" and self.channel_unauthorized:
            text = "unauthorized, retrying"
        elif state == "reconnecting":
            text = f"reconnecting {self.channel_attempt}" if self.channel_attempt else "reconnecting"
        elif state == "reconnected":
            text = "connected"
        else:
            text = state
        if self.gap_note and state in ("connected", "reconnected"):
            text += f" · {self.gap_note}"
        return text

    @property
    def plain(self) -> str:
        return str(self.render())

    @safe_render
    def render(self) -> Content:
        if self.mode == "sandbox":
            banner = (" SANDBOX ", "bold reverse $warning")
        else:
            banner = (f" {safe.clean(self.host or 'VoIPBIN', 80)} ", "bold reverse $primary")
        colour = CONNECTION_COLOUR.get(self.channel_state, "$text-muted")
        parts: list[str | tuple[str, str]] = [banner]
        if self.customer:
            parts += ["  ", (safe.clean(self.customer, 60), "bold")]
        parts += ["  ", ("events ", "$text-muted"), ("● ", colour), (self.channel_text, colour)]
        if self.credential:
            parts += ["  ", (self.credential, "$text-muted")]
        return safe.assemble(*parts)
