"""Every action of the console, the scenario runner and the phone, declared once.

A declaration says what an action is called (its id: the runner's step verb, the ``[keymap]`` key, the
palette and help entry), how a person invokes it (default keys, slash commands and their argument), when
it can run (``needs``), and what it does to a call (``run``: an async operation on an ``ActionContext``,
Textual-free). Actions whose whole effect is on the screen (help, the event log, scrolling, quitting)
have no ``run``; the console performs them itself. Add an action here and every surface picks it up:
key bindings, slash commands, the palette, the help screen, footer labels, hints, availability and
``config check``'s keymap validation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from tui.actions import operations as op
from tui.actions.context import Need

if TYPE_CHECKING:
    from tui.actions.context import ActionContext

Operation = Callable[["ActionContext", "ActionArg"], Awaitable[object]]
ActionArg = str | Mapping[str, object] | None


Availability = Literal["available", "disabled", "hidden"]


@dataclass(frozen=True, slots=True)
class ActionDecl:
    id: str
    title: str
    description: str
    keys: str = ""
    slash: tuple[str, ...] = ()
    arg: str = ""
    needs: frozenset[Need] = frozenset()
    run: Operation | None = None
    # Shown in the footer (``keys`` on screen) and reachable from any screen (help, quit).
    footer: bool = True
    anywhere: bool = False
    # Runs before the focused widget sees the key (quit must work from inside the say box).
    priority: bool = False
    # A console-only action name to call instead of the generic dispatcher (``scroll_transcript(-1)``).
    console: str = ""
    # Handled inside a widget (the say box, the event log), not bound on the app.
    widget: bool = False

    @property
    def keymap_id(self) -> str:
        """The name in ``[keymap]``: TOML reads ``phone.answer = …`` as a table, so dots become underscores."""
        return self.id.replace(".", "_")

    @property
    def usage(self) -> str:
        """``/caller TEXT``: the first slash command with its argument."""
        if not self.slash:
            return ""
        return self.slash[0] + (f" {self.arg}" if self.arg else "")

    def availability(self, state: ActionState) -> Availability:
        """Hidden when the target can never do it (the sandbox phone on the service), disabled until it can."""
        if (Need.SANDBOX_PHONE in self.needs and not state.has_phone) or (
            Need.SANDBOX in self.needs and not state.has_sandbox
        ):
            return "hidden"
        phase = state.phase
        if Need.SPEAKING in self.needs and phase != "live":
            return "disabled"
        if Need.LIVE_CALL in self.needs and not state.is_live:
            return "disabled"
        if Need.CALL in self.needs and phase not in ("live", "ended"):
            return "disabled"
        return "available"


@dataclass(frozen=True, slots=True)
class ActionState:
    """What availability depends on, without the session object itself."""

    phase: str | None = None
    is_live: bool = False
    has_phone: bool = False
    has_sandbox: bool = False


def _decls() -> tuple[ActionDecl, ...]:
    ops: Mapping[str, Operation] = op.OPERATIONS
    L, S, C, P, X = Need.LIVE_CALL, Need.SPEAKING, Need.CALL, Need.SANDBOX_PHONE, Need.SANDBOX
    return (
        ActionDecl(
            "help",
            "Help",
            "Keys and slash commands (? too, when the focus is not in a text box)",
            "f1,question_mark",
            ("/help",),
            anywhere=True,
        ),
        ActionDecl(
            "hangup", "Hang up", "Hang up the call", "f8", ("/hangup",), needs=frozenset({L}), run=ops["hangup"]
        ),
        ActionDecl(
            "flush",
            "Flush",
            "Cut what is being spoken and clear the queue",
            "f2",
            ("/flush",),
            needs=frozenset({S}),
            run=ops["flush"],
        ),
        ActionDecl(
            "stop_speaking",
            "Stop",
            "Stop the speaking stream (VoIPBIN cannot resume it)",
            "f3",
            ("/stop",),
            needs=frozenset({S}),
            run=ops["stop_speaking"],
        ),
        ActionDecl(
            "open_speaking",
            "Speak",
            "Open a new speaking stream (after stop)",
            "f4",
            ("/speak",),
            needs=frozenset({S}),
            run=ops["open_speaking"],
        ),
        ActionDecl("new_call", "New call", "Open the dial form for a new call", "f5", ("/dial",), run=ops["new_call"]),
        ActionDecl("toggle_log", "Events", "Show or hide the raw event log", "f6", ("/log",)),
        ActionDecl(
            "export",
            "Export",
            "Save the transcript as Markdown, JSONL and SRT",
            "f7",
            ("/export",),
            needs=frozenset({C}),
            run=ops["export"],
        ),
        ActionDecl(
            "phone.answer",
            "Answer",
            "The phone answers the call (the sandbox's, or the headless phone)",
            "f9",
            ("/answer",),
            needs=frozenset({P}),
            run=ops["phone.answer"],
        ),
        ActionDecl(
            "phone.reject",
            "Reject",
            "The phone declines the call",
            "f10",
            ("/reject",),
            needs=frozenset({P}),
            run=ops["phone.reject"],
        ),
        ActionDecl(
            "phone.hangup",
            "Phone hangs up",
            "The phone hangs up",
            "f11",
            ("/phonehangup",),
            needs=frozenset({P}),
            run=ops["phone.hangup"],
        ),
        ActionDecl(
            "resend",
            "Resend",
            "Say the last failed or flushed line again",
            "f12",
            ("/resend",),
            needs=frozenset({S}),
            run=ops["resend"],
        ),
        ActionDecl(
            "scroll_up",
            "Scroll up",
            "Scroll the transcript up a page",
            "pageup",
            footer=False,
            console="scroll_transcript(-1)",
        ),
        ActionDecl(
            "scroll_down",
            "Scroll down",
            "Scroll the transcript down a page (at the end it follows new lines again)",
            "pagedown",
            footer=False,
            console="scroll_transcript(1)",
        ),
        ActionDecl(
            "quit",
            "Quit",
            "Quit (asks first while a call is live)",
            "ctrl+q",
            ("/quit",),
            priority=True,
            anywhere=True,
            console="request_quit",
        ),
        # Below: actions with an argument or without a key of their own.
        ActionDecl("say", "Say", "Speak TEXT into the call (plain text in the say box)", arg="TEXT", run=ops["say"]),
        ActionDecl(
            "attach",
            "Attach to a call",
            "Follow an existing call or groupcall by its id or a unique prefix of it; alone: pick from a list",
            slash=("/attach",),
            arg="[ID|PREFIX]",
            run=ops["attach"],
        ),
        ActionDecl(
            "phone.say",
            "Caller line",
            "The phone says TEXT (an `in` line)",
            slash=("/caller",),
            arg="TEXT",
            needs=frozenset({P}),
            run=ops["phone.say"],
        ),
        ActionDecl(
            "sandbox.fault",
            "Sandbox fault",
            "Inject a fault into the sandbox: drop_websockets, latency_ms=N, http_error_rate=R, "
            "expire_tokens, reorder, frame_shape=S; no argument resets",
            slash=("/fault",),
            arg="[NAME[=VALUE]…]",
            needs=frozenset({X}),
            run=ops["sandbox.fault"],
        ),
        ActionDecl(
            "dismiss_notice",
            "Dismiss the notice",
            "Clear the error or warning line under the status",
            "escape",
            footer=False,
        ),
        ActionDecl(
            "follow", "Follow the transcript", "Jump to the newest line and keep following", console="follow_transcript"
        ),
        # Finding, copying and reading: their whole effect is on the screen (and the terminal's clipboard).
        ActionDecl(
            "find",
            "Find",
            "Search the transcript: opens the find box; /find TEXT jumps to the newest match",
            "ctrl+f",
            ("/find",),
            arg="[TEXT]",
            footer=False,
        ),
        ActionDecl(
            "find_next",
            "Find next",
            "In the transcript: the next (newer) line matching the search",
            "n",
            ("/next",),
            footer=False,
            widget=True,
        ),
        ActionDecl(
            "find_prev",
            "Find previous",
            "In the transcript: the previous (older) line matching the search",
            "p",
            ("/prev",),
            footer=False,
            widget=True,
        ),
        ActionDecl(
            "copy_id",
            "Copy call id",
            "Copy the call's full id",
            "ctrl+y",
            ("/copyid",),
            needs=frozenset({C}),
            footer=False,
        ),
        ActionDecl(
            "copy_line",
            "Copy line",
            "Copy the transcript's selected lines (the newest line when none is selected)",
            "ctrl+l",
            ("/copyline",),
            needs=frozenset({C}),
            footer=False,
        ),
        ActionDecl(
            "copy_transcript",
            "Copy transcript",
            "Copy the whole transcript as text",
            "ctrl+o",
            ("/copy",),
            needs=frozenset({C}),
            footer=False,
        ),
        ActionDecl(
            "toggle_time",
            "Transcript times",
            "In the transcript: cycle times between wall clock, wall clock with ms, since the call began (T+0:12.345)",
            "t",
            ("/time",),
            footer=False,
            widget=True,
        ),
        ActionDecl(
            "log_filter",
            "Filter the event log",
            "Show only entries with every WORD (kind:NAME for a kind, -WORD hides); no argument shows all",
            slash=("/filter",),
            arg="[WORD…]",
        ),
        ActionDecl(
            "log_quiet",
            "Quiet event log",
            "In the event log: hide or show interim speech frames and speaking polls",
            "h",
            ("/quiet",),
            footer=False,
            widget=True,
        ),
        ActionDecl(
            "log_open",
            "Open log entry",
            "In the event log: show the selected entry's whole frame or request (↑/↓ select)",
            "enter",
            ("/entry",),
            footer=False,
            widget=True,
        ),
        ActionDecl(
            "log_wrap",
            "Wrap the log",
            "In the event log: wrap long entries",
            "w",
            ("/wrap",),
            footer=False,
            widget=True,
        ),
        ActionDecl(
            "log_full",
            "Full-screen log",
            "In the event log: fill the screen with it (again: back)",
            "f",
            ("/logfull",),
            footer=False,
            widget=True,
        ),
        ActionDecl(
            "history_prev", "Previous line", "Previous line from the say box history", "up", footer=False, widget=True
        ),
        ActionDecl(
            "history_next", "Next line", "Next line from the say box history", "down", footer=False, widget=True
        ),
    )


ACTIONS: tuple[ActionDecl, ...] = _decls()
BY_ID: dict[str, ActionDecl] = {a.id: a for a in ACTIONS}
BY_KEYMAP_ID: dict[str, ActionDecl] = {a.keymap_id: a for a in ACTIONS}
BY_SLASH: dict[str, ActionDecl] = {name.removeprefix("/"): a for a in ACTIONS for name in a.slash}


def action(action_id: str) -> ActionDecl:
    """The declaration of ``action_id`` (the dotted id or its ``[keymap]`` spelling); KeyError if none."""
    found = BY_ID.get(action_id) or BY_KEYMAP_ID.get(action_id)
    if found is None:
        raise KeyError(action_id)
    return found


def keyed() -> tuple[ActionDecl, ...]:
    """The actions that have keys (bindings on the app or in the say box)."""
    return tuple(a for a in ACTIONS if a.keys)
