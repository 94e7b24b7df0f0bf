"""VoipbinApp: the console. It owns the runtime and the call session; widgets only draw.

Start-up paints first and starts the runtime afterwards (settings, sandbox, login, WebSocket) in a
worker, so the header says SANDBOX on the very first frame. Every session update arrives here
synchronously and is handed to the widget that shows it; widgets coalesce their own redraws.

Errors never reach the terminal: workers run with ``exit_on_error=False`` and their failures become
notices in one place (``on_worker_state_changed``); an exception that still escapes a handler is logged
to the file and ends the app with one line instead of a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import App
from textual.binding import BindingType
from textual.command import Provider
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.actions.context import ActionContext
from tui.actions.keys import check_keymap, effective_keys, how_to
from tui.actions.registry import ActionArg
from tui.ui import exit_signals, safe
from tui.ui.call_control import CallControl
from tui.ui.clock import UiClock
from tui.ui.commands import ConsoleCommands, PaletteEntry
from tui.ui.console_actions import ConsoleActions
from tui.ui.feeds import AccountFeeds
from tui.ui.format import host_of, one_line, short_id
from tui.ui.gcpolicy import GcPolicy
from tui.ui.input_watch import InputWatch
from tui.ui.keymap import BY_CONSOLE_ACTION, bindings
from tui.ui.screens.call import CallScreen
from tui.ui.theme import VOIPBIN_DARK, choose_theme, wants_terminal_colors
from tui.ui.view_changes import BindingsChanged, ShowNotice, ShowSummary, view_changes

if TYPE_CHECKING:
    from tui.runtime import ConsoleRuntime
    from tui.session.call_session import CallSession
    from tui.session.updates import SessionUpdate

log = logging.getLogger("tui.ui")

SHUTDOWN_TIMEOUT = 8.0
NOTICE_HEAD = 8192
# Textual's own alias lives in a private module; this is the same type.
CSSPathType = str | PurePath | list[str | PurePath]


class VoipbinApp(App[None]):
    TITLE = "voipbin-tui"
    # The default screen's own CSS_PATH is not read by Textual (only pushed screens' are), so it is here.
    CSS_PATH: ClassVar[CSSPathType] = [CallScreen.APP_CSS, CallScreen.CSS_FILE]
    BINDINGS: ClassVar[list[BindingType]] = list(bindings())
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = App.COMMANDS | {ConsoleCommands}
    NOTIFICATION_TIMEOUT = 6.0

    call_screen: CallScreen

    def __init__(self, runtime: ConsoleRuntime, *, clock: UiClock | None = None, deterministic: bool = False) -> None:
        super().__init__(ansi_color=wants_terminal_colors(os.environ))
        self.runtime = runtime
        self.deterministic = deterministic
        self.clock = clock or (UiClock.frozen() if deterministic else UiClock())
        self.calls = CallControl(self)
        self.actions = ConsoleActions(self)
        self.feeds = AccountFeeds(self)
        self.keys = effective_keys({})
        self.started = False
        self.notices: list[tuple[str, str]] = []
        self.exported: list[Path] = []
        self._secrets: list[str] = []
        self._quitting = False
        self.gc_policy = GcPolicy()
        self._io_closed = False
        # Printed on stdout once the terminal is restored: where the record is, which call, still running?
        self.exit_line = ""
        # True while a dialog shows the session's notices itself (the dial form's inline problem).
        self.notices_inline = False
        self._ticks = 0
        self.input_watch = InputWatch(self)
        self._uninstall_signals: Callable[[], None] = lambda: None
        self.register_theme(VOIPBIN_DARK)
        theme, problem = choose_theme(runtime.options.theme, os.environ, set(self.available_themes))
        self.theme = theme
        self._theme_problem = problem

    @property
    def session(self) -> CallSession | None:
        return self.calls.session

    # -- screens and start-up -----------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        self.call_screen = CallScreen(
            mode=self.runtime.mode,
            clock=self.clock,
            on_line=self.actions.handle_line,
            redact=self._redact,
        )
        return self.call_screen

    def on_mount(self) -> None:
        screen = self.call_screen
        screen.status.set_idle_text(
            "starting the sandbox…" if self.runtime.mode == "sandbox" else "connecting to VoIPBIN…"
        )
        screen.set_keys(self.keys)
        screen.transcript.on_copy = screen.events.on_copy = self._copy_selection
        if self.deterministic:
            screen.say_box.cursor_blink = False
        if self._theme_problem:
            self.show_notice("warning", self._theme_problem)
        self.set_interval(1.0, self._tick, name="tick")
        self._uninstall_signals = exit_signals.install(
            asyncio.get_running_loop(), lambda _name: self.shutdown(hangup=False)
        )
        # After the first frame: the heavy part of start-up must not delay it.
        self.call_after_refresh(self._begin_start)

    def _begin_start(self) -> None:
        self.run_worker(self._start(), name="start", group="runtime", exit_on_error=False)

    async def _start(self) -> None:
        try:
            await self.runtime.start()
        except Exception as exc:
            log.exception("start-up failed")
            self._fatal(f"cannot start: {self.runtime.start_problem(exc)}")
            return
        self.started = True
        # Everything loaded so far (Textual, pydantic schemas, the sandbox) lives as long as the app;
        # freezing it keeps the collector from re-scanning it in 50-90 ms pauses during a call.
        self.gc_policy.freeze()
        try:
            self._after_start()
        except Exception as exc:
            log.exception("setting up the console failed")
            self._fatal(f"cannot set up the console: {exc}")

    def _fatal(self, message: str) -> None:
        where = f" (details in {self.runtime.log_path})" if self.runtime.log_path else ""
        # Printed on the terminal after the screen is restored: escaped, and a few lines at most. The
        # first line says what failed (the details pointer belongs to it); the start-up hints follow.
        redacted = self._redact(message[:NOTICE_HEAD]) + message[NOTICE_HEAD:]
        first, *rest = redacted.split("\n")[:6]
        lines = [safe.one_line(first, 2000) + safe.clean(where)] + [safe.one_line(line, 400) for line in rest]
        self.exit(return_code=1, message=Text("voipbin-tui: " + "\n".join(lines)))

    def _after_start(self) -> None:
        runtime = self.runtime
        settings = runtime.settings
        assert settings is not None
        screen = self.call_screen
        ui = settings.ui
        if not runtime.options.theme:
            theme, problem = choose_theme(ui.theme, os.environ, set(self.available_themes))
            self.theme = theme
            if problem:
                self.show_notice("warning", problem)
        applied, problems = check_keymap(settings.keymap)
        if applied:
            self.set_keymap(applied)
        self.keys = effective_keys(applied)
        screen.set_keys(self.keys)
        for problem in problems:
            self.show_notice("warning", problem)
        if runtime.account is not None and runtime.account.client.plaintext_warning:
            self.show_notice("warning", runtime.account.client.plaintext_warning)
        screen.configure(ui.transcript_max_lines, ui.event_log_max_lines, ui.show_event_log)
        screen.set_sandbox(runtime.mode == "sandbox")
        headless = runtime.headless_phone
        if headless is not None:
            screen.set_headless_phone(True)
            screen.phone.show_status(headless.status)
            headless.listen(self.feeds.on_phone)
        screen.header.set_mode(runtime.mode, host_of(runtime.api_url))
        screen.header.set_customer(runtime.customer_label())
        self._refresh_credential()
        self._secrets = runtime.secrets()
        account = runtime.account
        assert account is not None
        account.listen(self.feeds.on_frame, self.feeds.on_connection)
        account.add_request_listener(self.feeds.on_request)
        account.input_waiting = self.input_watch.waiting
        if account.connection is not None:
            self.feeds.on_connection(account.connection)
        screen.status.set_idle_text(f"no call · {self.how_to('new_call')} places one")
        self.refresh_bindings()
        options = runtime.options
        if runtime.script is not None:
            self.run_worker(self._run_script(), name="script", group="call", exit_on_error=False)
        elif options.attach:
            self.run_worker(self.calls.attach_call(options.attach), name="attach", group="call", exit_on_error=False)
        elif options.dial:
            self.run_worker(self.calls.dial_defaults(), name="dial", group="call", exit_on_error=False)
        else:
            self.calls.open_dial_form()

    async def _run_script(self) -> None:
        """--script: the scenario runs in sessions installed on screen; its verdict ends up in the summary."""
        passed, verdict = await self.runtime.run_script(self.calls.new_session)
        self.call_screen.summary.add_line(verdict, passed=passed)
        self.show_notice(
            "information" if passed else "error", verdict, hint="" if passed else "the STEP lines show why"
        )

    # -- account feeds (raw frames, requests, connection) -------------------------------------------------

    def _redact(self, text: str) -> str:
        from tui.voipbin.redact import redact_text

        # Before start-up finishes the cached list is empty; ask the runtime for what it knows so far.
        return redact_text(text, self._secrets or self.runtime.secrets())

    # -- session updates ----------------------------------------------------------------------------------

    def on_session_update(self, update: SessionUpdate) -> None:
        """The current session changed: the screen redraws its part, the app says and rebinds its part."""
        if not self.screen_stack:
            # The session's last updates (the call ending during shutdown) can outlive the screens.
            log.debug("%s after the screens closed", type(update).__name__)
            return
        try:
            for change in view_changes(update):
                if isinstance(change, ShowNotice):
                    self.show_notice(
                        change.level, change.text, hint=change.hint, request_id=change.request_id, reason=change.reason
                    )
                elif isinstance(change, BindingsChanged):
                    self.refresh_bindings()
                else:
                    if isinstance(change, ShowSummary) and not self.call_screen.summary.has_class("-shown"):
                        # Once per call: the pause is harmless now that nothing is live.
                        self.set_timer(1.0, self.gc_policy.full_collection)
                    self.call_screen.apply(change)
        except Exception:
            log.exception("showing %s failed", type(update).__name__)
            self.show_notice("error", f"could not show {type(update).__name__} (see the log)")

    # -- actions ------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only the registry's actions depend on the call; Textual's own (focus moves, the palette, a
        # dialog's buttons) are always available on every screen.
        action_id = str(parameters[0]) if action == "act" and parameters else BY_CONSOLE_ACTION.get(action, "")
        if not action_id:
            return True
        return self.actions.check(action_id, isinstance(self.screen, CallScreen))

    def action_act(self, action_id: str, arg: ActionArg = None) -> None:
        """The one Textual action behind every registry binding: ``act('flush')``."""
        self.actions.run(action_id, arg)

    def action_context(self) -> ActionContext:
        runtime = self.runtime
        return ActionContext(
            session=self.session,
            phone=runtime.phone,
            sandbox=runtime.control,
            export_dir=runtime.export_dir if self.started else None,
        )

    def how_to(self, action_id: str) -> str:
        """``F5 or /dial``, following the keymap in force."""
        return how_to(action_id, self.keys)

    def palette_entries(self) -> list[PaletteEntry]:
        return self.actions.palette_entries()

    def action_prefill(self, text: str) -> None:
        box = self.call_screen.say_box
        box.value = text
        box.cursor_position = len(text)
        box.focus()

    def _copy_selection(self, text: str) -> None:
        self.actions.reading.copy(text, "the selection")

    def action_scroll_transcript(self, direction: int) -> None:
        self.call_screen.scroll_transcript(direction)

    def action_follow_transcript(self) -> None:
        self.call_screen.transcript.follow()

    # -- quitting -----------------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        self.action_request_quit()

    def action_request_quit(self) -> None:
        # Imported when first asked: the first frame does not need the dialog.
        from tui.ui.screens.confirm import Choice as ConfirmChoice
        from tui.ui.screens.confirm import ConfirmScreen

        if self._quitting:
            return
        if isinstance(self.screen, ConfirmScreen) and self.screen.purpose == "quit":
            self.screen.dismiss("hangup")
            return
        session = self.session
        settings = self.runtime.settings
        confirm = settings.ui.confirm_quit if settings is not None else True
        if session is not None and session.is_live and confirm:
            screen = ConfirmScreen(
                "Quit while the call is live?",
                "Hang up first, or leave the call running on VoIPBIN?",
                [
                    ConfirmChoice("hangup", "Hang up & quit", "h", "error"),
                    ConfirmChoice("leave", "Leave running & quit", "l", "warning"),
                    ConfirmChoice("cancel", "Cancel", "escape"),
                ],
                purpose="quit",
            )
            self.push_screen(screen, callback=self._quit_choice)
            return
        self.shutdown(hangup=False)

    def _quit_choice(self, choice: str | None) -> None:
        if choice in ("hangup", "leave"):
            self.shutdown(hangup=choice == "hangup")

    def shutdown(self, *, hangup: bool) -> None:
        if self._quitting:
            return
        self._quitting = True
        self.call_screen.status.set_idle_text("closing…")
        self.run_worker(self._close_and_exit(hangup), name="shutdown", group="shutdown", exit_on_error=False)

    async def _close_and_exit(self, hangup: bool) -> None:
        try:
            await asyncio.wait_for(self._close_everything(hangup), SHUTDOWN_TIMEOUT)
        except Exception:
            log.exception("closing did not finish cleanly")
        self.exit(return_code=self.runtime.exit_code())

    async def _close_everything(self, hangup: bool) -> None:
        if self._io_closed:
            return
        self._io_closed = True
        session = self.session
        if session is not None:
            try:
                await session.close(hangup=hangup)
            except Exception:
                log.exception("closing the session failed")
            self.exit_line = exit_line(session, sandbox=self.runtime.mode == "sandbox")
        await self.runtime.close()

    async def on_unmount(self) -> None:
        self._uninstall_signals()
        # Every way out (tests, errors, ctrl+c in a terminal that sends it) still stops the sandbox.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._close_everything(False), SHUTDOWN_TIMEOUT)

    # -- notices, errors ----------------------------------------------------------------------------------

    def show_notice(
        self,
        level: str,
        text: str,
        *,
        hint: str = "",
        request_id: str = "",
        reason: str = "",
        topic: str = "",
    ) -> None:
        """Say something once: a warning or error on the banner under the status (Esc clears it), a toast
        only for information or when a dialog covers the banner, nothing when a dialog shows it inline."""
        # Error texts can quote URLs or bodies; nothing on screen may carry a credential. They are also
        # someone else's words: one bounded line each, controls escaped, never parsed as markup.
        # Only a head can be shown, so only a head is redacted (with room for a secret across the cut).
        text = safe.one_line(self._redact(text[:NOTICE_HEAD]) + text[NOTICE_HEAD:], 2000)
        hint = safe.one_line(self._redact(hint[:NOTICE_HEAD]) + hint[NOTICE_HEAD:], 400)
        request_id, reason = safe.clean(request_id, 120), safe.clean(reason, 200)
        if request_id:
            # The request id has a place of its own; the error's one-line text quotes it too.
            text = text.replace(f" [request_id {request_id}]", "")
        self.notices.append((level, text))
        del self.notices[:-50]
        (log.warning if level in ("warning", "error") else log.info)(
            "notice %s: %s%s", level, text, f" (hint: {hint})" if hint else ""
        )
        if self.notices_inline:
            return  # the open dialog shows this one itself (a refused dial in the dial form)
        problem = level in ("error", "warning")
        if problem:
            self.call_screen.notice.show(level, text, hint=hint, request_id=request_id, reason=reason, topic=topic)
        if problem and isinstance(self.screen, CallScreen):
            return
        message = one_line(text, 300) + (f"\nhint: {one_line(hint, 300)}" if hint else "")
        message += f"\nrequest {request_id}" if request_id else ""
        severity: SeverityLevel = "error" if level == "error" else "warning" if level == "warning" else "information"
        self.notify(message, severity=severity, markup=False)

    def clear_notice(self, topic: str = "") -> None:
        """The problem is over (or Esc): the banner goes; with a topic, only a banner about that topic."""
        notice = self.call_screen.notice
        if not topic or notice.topic == topic:
            notice.clear()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one error sink: a worker that failed becomes a notice (and a logged traceback)."""
        worker = event.worker
        if event.state != WorkerState.ERROR:
            return
        error = worker.error
        log.error("worker %s failed", worker.name, exc_info=error)
        hint_of = getattr(error, "hint", None)
        hint = hint_of() if callable(hint_of) else None
        self.show_notice(
            "error",
            f"{worker.name or 'background task'} failed: {error}",
            hint=hint or "",
            request_id=getattr(error, "request_id", None) or "",
            reason=getattr(error, "reason", None) or "",
        )

    def _handle_exception(self, error: Exception) -> None:
        # Textual's private hook for an exception that escaped a handler (see docs/DEVELOPING.md, "Moving
        # the Textual pin"). Textual itself sets the exit code, keeps the error for Pilot and exits; it
        # prints the error's ``__rich__`` when it has one instead of a traceback, so we give it one line.
        log.error("unhandled error in the console", exc_info=error)
        where = f" (details in {self.runtime.log_path})" if self.runtime.log_path else ""
        detail = safe.one_line(self._redact(f"{type(error).__name__}: {error}"[:NOTICE_HEAD]), 2000)
        line = Text(f"voipbin-tui: internal error: {detail}{safe.clean(where)}")
        with contextlib.suppress(AttributeError):  # an exception with __slots__ keeps Textual's traceback
            error.__rich__ = lambda: line  # type: ignore[attr-defined]
        super()._handle_exception(error)

    # -- timers, helpers ----------------------------------------------------------------------------------

    def _tick(self) -> None:
        self._ticks += 1
        session = self.session
        self.gc_policy.tick(session is not None and session.is_live)
        if session is not None and session.is_live and session.answered_mono is not None:
            self.call_screen.status.refresh()
        if self.started and self._ticks % 30 == 0:
            self._refresh_credential()
            self._secrets = self.runtime.secrets()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.input_watch.key_pressed()
        await super().on_event(event)

    def _refresh_credential(self) -> None:
        remaining = self.runtime.credential_remaining()
        self.call_screen.header.set_credential(remaining, "token" if remaining is not None else "accesskey")

    def describe(self) -> str:
        """One line about the current call, for logs and tests."""
        session = self.session
        if session is None:
            return "no call"
        call = session.call
        return f"{session.phase} {call.status if call else '-'} {short_id(call.id if call else '')}"


def exit_line(session: CallSession, *, sandbox: bool) -> str:
    """``record PATH · call ID · still running``: the one line the console leaves on stdout."""
    call = session.call
    parts = []
    if session.recorder.path is not None:
        parts.append(f"record {session.recorder.path}")
    if call is not None:
        parts.append(f"call {call.id}")
        if session.is_live:
            # The embedded sandbox stops with the console, and its calls with it.
            parts.append("ended with the sandbox" if sandbox else "still running on VoIPBIN")
        else:
            parts.append("ended" if session.phase == "ended" else session.phase)
    elif session.phase == "failed":
        parts.append("no call (it failed)")
    return one_line(" · ".join(parts), 2000) if parts else ""
