"""The compact status area: the call, its timer and action, the transcribe, the speaking stream.

The panel keeps no copy of the state: ``render`` reads the session when the screen is drawn, so any
number of updates between two frames cost one render (Textual merges the refresh requests).
Every state is printed as a word next to its colour, so it reads the same with NO_COLOR.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widget import Widget

from tui.ui import safe
from tui.ui.clock import UiClock
from tui.ui.format import SPEAKING_COLOUR, STATUS_COLOUR, duration, one_line, short_id
from tui.ui.widgets.guard import safe_render

if TYPE_CHECKING:
    from tui.session.updates import Notice
    from tui.session.view import CallView

Part = str | tuple[str, str]


class StatusPanel(Widget):
    DEFAULT_CSS = """
    StatusPanel {
        height: 2;
    }
    """

    def __init__(self, *, clock: UiClock | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock or UiClock()
        self.session: CallView | None = None
        self.idle_text = "starting…"

    def show_session(self, session: CallView | None) -> None:
        self.session = session
        self.refresh()

    def set_idle_text(self, text: str) -> None:
        self.idle_text = text
        self.refresh()

    @property
    def plain(self) -> str:
        return self.render().plain

    @safe_render
    def render(self) -> Content:
        session = self.session
        if session is None:
            return safe.assemble(("○ ", "$text-muted"), self.idle_text)
        return Content("\n").join([self._call_line(session), self._stream_line(session)])

    def _call_line(self, session: CallView) -> Content:
        parts: list[Part] = []
        call = session.call
        phase = session.phase
        if call is not None:
            status = call.status or "unknown"
            colour = STATUS_COLOUR.get(status, "$text")
            mark = "■" if status == "hangup" else "●"
            parts += [(f"{mark} ", colour), (status, f"bold {colour}")]
        elif phase == "failed":
            parts += [("✖ ", "$error"), ("failed", "bold $error")]
        elif phase == "dialing":
            parts += [("◌ ", "$accent"), ("dialing", "bold $accent")]
        else:
            parts += [("○ ", "$text-muted"), (phase, "bold")]
        elapsed = self.clock.call_elapsed(session.elapsed_answered())
        if elapsed is not None:
            parts += ["  ", (duration(elapsed), "bold")]
        if call is not None:
            action = call.action_type
            if action and not call.is_hungup:
                parts += ["  ", ("▸ ", "$text-muted"), action]
            if call.is_hungup:
                reason = " ".join(p for p in (call.hangup_by, call.hangup_reason) if p)
                if reason:
                    parts += ["  ", (reason, "$text-muted")]
        # What the user dialled reads better than the leg's resolved SIP contact.
        target = ""
        request = session.dial_request
        if request is not None:
            target = f"{request.kind}:{request.destination}"
        elif call is not None and call.destination is not None:
            target = call.destination.display()
        if target:
            parts += ["  ", ("→ ", "$text-muted"), target]
        if call is not None:
            parts += ["  ", ("call ", "$text-muted"), short_id(call.id)]
            legs = len(session.legs)
            if legs > 1:
                parts += [f" ({legs} legs)"]
        elif phase == "failed" and not request:
            parts += ["  ", "see the error above"]
        return safe.assemble(*parts)

    def _stream_line(self, session: CallView) -> Content:
        parts: list[Part] = [("transcribe ", "$text-muted")]
        transcribes = list(session.transcribes.values())
        if transcribes:
            tr = transcribes[-1]
            status = tr.status or "?"
            colour = "$success" if status == "progressing" else "$text-muted"
            parts += [(status, colour)]
            if tr.language:
                parts += [f" {tr.language}"]
        else:
            parts += [("none yet", "$text-muted")]
        speech = session.speech
        phase = speech.phase
        parts += ["  ", ("speaking ", "$text-muted"), (phase, f"bold {SPEAKING_COLOUR.get(phase, '$text')}")]
        speaking = speech.speaking
        if speaking is not None and phase in ("active", "opening", "stopping"):
            parts += [f" {speaking.provider or speech.options.provider}→{speaking.direction or '?'}"]
        elif speech.detail and phase in ("failed", "waiting", "stopped"):
            parts += [("  " + one_line(speech.detail, 60), "$text-muted")]
        items = session.ledger.items
        if items:
            queued = sum(1 for i in items if i.state in ("queued", "sending"))
            heard = sum(1 for i in items if i.state == "heard")
            failed = sum(1 for i in items if i.state == "failed")
            parts += ["  ", ("says ", "$text-muted"), f"{len(items)}"]
            if queued:
                parts += [f" · {queued} queued"]
            parts += [f" · {heard} heard"]
            if failed:
                parts += [" · ", (f"{failed} failed", "$error")]
        return safe.assemble(*parts)


class NoticeLine(Widget):
    """The last error or warning, where the eye already is: under the status, above the transcript."""

    DEFAULT_CSS = """
    NoticeLine {
        height: auto;
        max-height: 3;
        display: none;
    }
    NoticeLine.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.level = "info"
        self.text = ""
        self.hint = ""
        self.request_id = ""
        self.reason = ""

    def show_notice(self, notice: Notice) -> None:
        self.show(
            notice.level,
            notice.text,
            hint=notice.hint or "",
            request_id=notice.request_id or "",
            reason=notice.reason or "",
        )

    def show(self, level: str, text: str, *, hint: str = "", request_id: str = "", reason: str = "") -> None:
        self.level, self.text, self.hint, self.request_id, self.reason = level, text, hint, request_id, reason
        self.set_class(bool(text), "-shown")
        self.set_class(level == "error", "-error")
        self.set_class(level == "warning", "-warning")
        self.refresh(layout=True)

    def clear(self) -> None:
        self.show("info", "")

    @property
    def plain(self) -> str:
        return self.render().plain

    @safe_render
    def render(self) -> Content:
        if not self.text:
            return Content("")
        mark = " ✗ " if self.level == "error" else " ▲ " if self.level == "warning" else " · "
        colour = "$error" if self.level == "error" else "$warning" if self.level == "warning" else "$accent"
        # Reverse video, not a tinted background: tints vanish or swallow the text in the ANSI theme.
        parts: list[Part] = [(mark, f"bold reverse {colour}"), " ", (one_line(self.text), colour)]
        if self.reason:
            parts += ["  ", ("reason ", "$text-muted"), self.reason]
        if self.request_id:
            parts += ["  ", ("request ", "$text-muted"), self.request_id]
        if self.hint:
            parts += ["\n", ("  hint: ", "bold $text-muted"), one_line(self.hint)]
        return safe.assemble(*parts)
