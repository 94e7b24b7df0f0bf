"""The side column on wide terminals: every leg of the call, and (sandbox) the phone's own buttons."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import Button, Label

from tui.actions.keys import how_to
from tui.actions.registry import BY_ID
from tui.ui import safe
from tui.ui.format import STATUS_COLOUR
from tui.ui.widgets.guard import safe_render

if TYPE_CHECKING:
    from tui.headless_phone import PhoneStatus
    from tui.session.view import CallView


class LegsPanel(Widget):
    """Legs, groupcall, transcribe and speaking ids, and where the session record is written."""

    DEFAULT_CSS = """
    LegsPanel {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: CallView | None = None

    def show_session(self, session: CallView | None) -> None:
        self.session = session
        self.refresh(layout=True)

    @property
    def plain(self) -> str:
        return self.render().plain

    @safe_render
    def render(self) -> Content:
        session = self.session
        if session is None:
            return safe.assemble(("Legs", "bold"), "\n", ("no call", "$text-muted"))
        parts: list[str | tuple[str, str]] = [("Legs", "bold")]
        # Full ids, each on a line of its own under its label: they are what /attach and the API take,
        # and a person copies them from here (a 36-character UUID fits the side column; a label beside it
        # would not).
        gc = session.groupcall
        if gc is not None:
            parts += ["\n", ("groupcall ", "$text-muted"), gc.status or "?", "\n", "  ", gc.id]
        if not session.legs:
            parts += ["\n", ("waiting for the first leg…", "$text-muted")]
        main = session.call
        for leg in session.legs.values():
            status = leg.status or "?"
            mark = "▶" if main is not None and leg.id == main.id else " "
            parts += ["\n", f"{mark} ", (status, STATUS_COLOUR.get(status, "$text"))]
            if leg.destination is not None:
                parts += [("  " + leg.destination.display(), "$text-muted")]
            parts += ["\n", "  ", leg.id]
        for tr in session.transcribes.values():
            parts += ["\n", ("transcribe ", "$text-muted"), tr.status or "?", "\n", "  ", tr.id]
        speaking = session.speech.speaking
        if speaking is not None:
            parts += ["\n", ("speaking ", "$text-muted"), speaking.status or "?", "\n", "  ", speaking.id]
        path = session.recorder.path
        if path is not None:
            parts += ["\n", ("record ", "$text-muted"), path.name]
        return safe.assemble(*parts)


class PhonePanel(Vertical):
    """The far end's phone: the sandbox's simulated softphone, or the headless phone (`[phone]`) with its
    registration and audio counts. What a person would do on Linphone."""

    DEFAULT_CSS = """
    PhonePanel {
        height: auto;
    }
    PhonePanel Horizontal {
        height: auto;
    }
    """

    BUTTONS = (
        ("phone-answer", "Answer", "phone.answer"),
        ("phone-reject", "Reject", "phone.reject"),
        ("phone-hangup", "Hang up", "phone.hangup"),
    )

    def compose(self) -> ComposeResult:
        yield Label("Phone (sandbox)", id="phone-title", classes="panel-title")
        # Only the headless phone has a state to show; the sandbox's panel stays as it was.
        state = Label("", id="phone-state")
        state.display = False
        yield state
        with Horizontal():
            for button_id, label, action_id in self.BUTTONS:
                yield Button(label, id=button_id, action=f"app.act({action_id!r})", compact=True)
        yield Label(f"{BY_ID['phone.say'].usage}: speak as the phone", classes="panel-hint")

    def show_status(self, status: PhoneStatus) -> None:
        """The headless phone: registration (transport), call state, audio packets in and out, last heard."""
        lines = [status.summary()]
        if status.state == "in_call" or status.rx_packets or status.tx_packets:
            lines.append(status.audio())
        if status.heard:
            lines.append("heard: " + status.heard[-1].display())
        if status.said:
            lines.append("said: " + status.said)
        if status.last_hangup and status.state == "registered":
            lines.append(status.last_hangup)
        with contextlib.suppress(NoMatches):
            self.query_one("#phone-title", Label).update(safe.plain("Phone (headless " + status.engine + ")"))
            label = self.query_one("#phone-state", Label)
            label.update(safe.multiline("\n".join(lines)))
            label.display = True

    @property
    def state_text(self) -> str:
        try:
            return str(self.query_one("#phone-state", Label).render())
        except NoMatches:
            return ""

    def set_keys(self, keys: Mapping[str, str]) -> None:
        """Tooltips name the keys in force."""
        for button_id, _, action_id in self.BUTTONS:
            with contextlib.suppress(NoMatches):
                self.query_one(
                    f"#{button_id}", Button
                ).tooltip = f"{BY_ID[action_id].description} ({how_to(action_id, keys)})"

    def on_mount(self) -> None:
        self.set_keys({})
        # Clicking a phone button must not take the keyboard away from the say box.
        for button in self.query(Button):
            button.can_focus = False
