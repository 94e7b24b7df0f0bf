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
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual._path import CSSPathType
from textual.app import App
from textual.binding import BindingType
from textual.command import Provider
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.ui import exit_signals, safe
from tui.ui.clock import UiClock
from tui.ui.commands import COMMANDS_BY_NAME, ConsoleCommands, PaletteEntry, palette_entries, parse_line
from tui.ui.format import host_of, one_line, short_id
from tui.ui.gcpolicy import GcPolicy
from tui.ui.keymap import bindings, check_keymap, effective_keys, key_label
from tui.ui.screens.call import CallScreen
from tui.ui.screens.confirm import Choice as ConfirmChoice
from tui.ui.screens.confirm import ConfirmScreen
from tui.ui.screens.dial import Choice, DialProblem, DialScreen, DialValues
from tui.ui.screens.help import HelpScreen
from tui.ui.theme import VOIPBIN_DARK, choose_theme, wants_terminal_colors
from tui.ui.widgets.event_log import EntryKind

if TYPE_CHECKING:
    from tui.runtime import Runtime
    from tui.session.call_session import CallSession
    from tui.session.updates import Notice, SessionUpdate
    from tui.voipbin.events import ConnectionState, Event
    from tui.voipbin.rest import RequestRecord

log = logging.getLogger("tui.ui")

STYLES = Path(__file__).resolve().parent / "styles"
SHUTDOWN_TIMEOUT = 8.0
NOTICE_HEAD = 8192
Listener = Callable[["SessionUpdate"], None]


class VoipbinApp(App[None]):
    TITLE = "voipbin-tui"
    # The default screen's own CSS_PATH is not read by Textual (only pushed screens' are), so it is here.
    CSS_PATH: ClassVar[CSSPathType] = [STYLES / "app.tcss", STYLES / "call.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = list(bindings())
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = App.COMMANDS | {ConsoleCommands}
    NOTIFICATION_TIMEOUT = 6.0

    call_screen: CallScreen

    def __init__(self, runtime: Runtime, *, clock: UiClock | None = None, deterministic: bool = False) -> None:
        super().__init__(ansi_color=wants_terminal_colors(os.environ))
        self.runtime = runtime
        self.deterministic = deterministic
        self.clock = clock or (UiClock.frozen() if deterministic else UiClock())
        self.session: CallSession | None = None
        self.keys = effective_keys({})
        self.started = False
        self.last_notice: Notice | None = None
        self.notices: list[tuple[str, str]] = []
        self.exported: list[Path] = []
        self._listener: Listener | None = None
        self._secrets: list[str] = []
        self._quitting = False
        self.gc_policy = GcPolicy()
        self._io_closed = False
        self._ticks = 0
        self._uninstall_signals: Callable[[], None] = lambda: None
        self.register_theme(VOIPBIN_DARK)
        theme, problem = choose_theme(runtime.options.theme, os.environ, set(self.available_themes))
        self.theme = theme
        self._theme_problem = problem

    # -- screens ------------------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        self.call_screen = CallScreen(
            mode=self.runtime.mode,
            clock=self.clock,
            on_line=self.handle_line,
            redact=self._redact,
        )
        return self.call_screen

    def on_mount(self) -> None:
        screen = self.call_screen
        screen.status.set_idle_text(
            "starting the sandbox…" if self.runtime.mode == "sandbox" else "connecting to VoIPBIN…"
        )
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
            self._fatal(f"cannot start: {exc}")
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
        # Printed on the terminal after the screen is restored: escaped, and a few lines at most.
        text = safe.one_line(self._redact(message[:NOTICE_HEAD]) + message[NOTICE_HEAD:], 2000)
        self.exit(return_code=1, message=Text(f"voipbin-tui: {text}{safe.clean(where)}"))

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
        for problem in problems:
            self.show_notice("warning", problem)
        screen.transcript.max_lines = ui.transcript_max_lines
        screen.events.set_max_lines(ui.event_log_max_lines)
        screen.show_log(ui.show_event_log)
        screen.set_sandbox(runtime.mode == "sandbox")
        screen.header.set_mode(runtime.mode, host_of(runtime.api_url))
        screen.header.set_customer(runtime.customer_label())
        self._refresh_credential()
        self._secrets = runtime.secrets()
        account = runtime.account
        assert account is not None
        account.listen(self._on_frame, self._on_connection)
        account.add_request_listener(self._on_request)
        if account.connection is not None:
            self._on_connection(account.connection)
        screen.status.set_idle_text(f"no call · {self._key('new_call')} or /dial places one")
        self.refresh_bindings()
        options = runtime.options
        if options.attach:
            self.run_worker(self._attach_call(options.attach), name="attach", group="call", exit_on_error=False)
        elif options.dial:
            self.run_worker(self._dial_defaults(), name="dial", group="call", exit_on_error=False)
        else:
            self.open_dial_form()

    # -- account feeds (raw frames, requests, connection) -------------------------------------------------

    def _redact(self, text: str) -> str:
        from tui.voipbin.redact import redact_text

        # Before start-up finishes the cached list is empty; ask the runtime for what it knows so far.
        return redact_text(text, self._secrets or self.runtime.secrets())

    def _on_frame(self, event: Event) -> None:
        kind: EntryKind
        if event.kind == "unrecognised":
            kind = "unrecognised"
        elif event.duplicate:
            kind = "duplicate"
        else:
            kind = "frame"
        self.call_screen.events.write(kind, f"{event.summary()} [{event.shape}] {event.raw}", event.received_at)

    def _on_request(self, record: RequestRecord) -> None:
        failed = record.status is None or record.status >= 400
        self.call_screen.events.write("request-error" if failed else "request", record.summary(), record.at)

    def _on_connection(self, state: ConnectionState) -> None:
        screen = self.call_screen
        screen.header.set_channel(state.state, state.attempt, state.error or "")
        screen.events.write("connection", "event channel " + state.summary(), state.at)
        if state.state == "reconnected" and state.gap_started is not None and state.gap_ended is not None:
            seconds = state.gap_ended - state.gap_started
            session = self.session
            # Only a live or just-ended call backfills (and reports when it is done); otherwise nothing
            # was missed that the screen shows.
            backfills = session is not None and session.phase in ("live", "ended")
            screen.header.set_gap(f"gap {seconds:.1f}s, backfilling" if backfills else f"gap {seconds:.1f}s")
        if state.state == "closed" and state.fatal:
            self.show_notice(
                "error",
                f"event channel closed: {state.error or 'unknown reason'}",
                hint="check the credential; restart the console to reconnect",
            )

    # -- sessions -----------------------------------------------------------------------------------------

    def _install(self, session: CallSession) -> None:
        old = self.session
        if old is not None and old is not session:
            self._retire(old)
        self.session = session
        self.last_notice = None
        self.exported = []
        screen = self.call_screen
        screen.notice.clear()
        screen.summary.clear()
        screen.transcript.source = lambda: session.book.lines
        screen.transcript.reset(session.book.lines)
        screen.status.show_session(session)
        screen.legs.show_session(session)

        def listener(update: SessionUpdate) -> None:
            if self.session is session:
                self._on_session_update(session, update)

        self._listener = listener
        session.subscribe(listener)
        self.refresh_bindings()

    def _retire(self, session: CallSession) -> None:
        if self._listener is not None:
            session.unsubscribe(self._listener)
        self.run_worker(session.close(), name="close-session", group="sessions", exit_on_error=False)

    def _on_session_update(self, session: CallSession, update: SessionUpdate) -> None:
        from tui.session import updates as u

        screen = self.call_screen
        try:
            if isinstance(update, u.TranscriptUpdated):
                screen.transcript.apply(update.changes)
                return
            if isinstance(update, u.SayUpdated):
                screen.transcript.touch("s:" + update.item.id)
                screen.status.refresh()
                item = update.item
                if item.state == "failed":
                    self.show_notice(
                        "error",
                        f"say failed: {item.error or 'unknown error'}",
                        hint=item.hint or "",
                        request_id=item.request_id or "",
                    )
                return
            if isinstance(update, u.Notice):
                self.show_notice(
                    update.level,
                    update.text,
                    hint=update.hint or "",
                    request_id=update.request_id or "",
                    reason=update.reason or "",
                    notice=update,
                )
                return
            if isinstance(update, u.CallEnded):
                if not screen.summary.has_class("-shown"):
                    # Once per call: the pause is harmless now that nothing is live.
                    self.set_timer(1.0, self.gc_policy.full_collection)
                screen.summary.show_summary(update.summary, {k: key_label(v) for k, v in self.keys.items()})
                screen.status.refresh()
                screen.legs.refresh(layout=True)
                self.refresh_bindings()
                return
            if isinstance(update, u.GapRecovered):
                got = update.recovered
                screen.header.set_gap(f"gap {update.seconds:.1f}s recovered")
                self.show_notice(
                    "warning" if update.error else "info",
                    f"event channel was down {update.seconds:.1f}s; recovered {got.get('transcripts', 0)} "
                    f"transcript(s) and {got.get('status', 0)} status change(s)"
                    + (f" (incomplete: {update.error})" if update.error else ""),
                )
                return
            if isinstance(update, u.PhaseChanged):
                self.refresh_bindings()
            screen.status.refresh()
            screen.legs.refresh(layout=True)
        except Exception:
            log.exception("showing %s failed", type(update).__name__)
            self.show_notice("error", f"could not show {type(update).__name__} (see the log)")

    def _new_session(self, speaking_changes: dict[str, Any] | None = None) -> CallSession:
        runtime = self.runtime
        speaking = runtime.speaking_options(**speaking_changes) if speaking_changes else None
        session = runtime.new_session(speaking=speaking)
        self._install(session)
        return session

    async def place_call(self, values: DialValues) -> DialProblem | None:
        """Dial with the form's values; the problem to show in the form if VoIPBIN (or we) refused."""
        request = replace(self.runtime.default_dial(), **values.request_changes())
        problems = request.problems()
        if problems:
            return DialProblem("; ".join(problems))
        session = self._new_session(values.speaking_changes())
        return await self._dial(session, request)

    async def _dial(self, session: CallSession, request: Any) -> DialProblem | None:
        try:
            await session.dial(request)
        except Exception as exc:
            notice = self.last_notice
            if notice is not None and notice.level == "error":
                return DialProblem(notice.text, notice.hint or "", notice.request_id or "", notice.reason or "")
            log.warning("dial failed: %s", exc)
            hint = exc.hint() if hasattr(exc, "hint") else None
            self.show_notice("error", f"dial failed: {exc}", hint=hint or "")
            return DialProblem(f"dial failed: {exc}", hint or "", getattr(exc, "request_id", None) or "")
        return None

    async def _dial_defaults(self) -> None:
        request = self.runtime.default_dial()
        problems = request.problems()
        if problems:
            problem = DialProblem("cannot dial the configured defaults: " + "; ".join(problems))
            self.open_dial_form(problem=problem)
            return
        session = self._new_session()
        failure = await self._dial(session, request)
        if failure is not None:
            self.open_dial_form(problem=failure)

    async def _attach_call(self, call_id: str) -> None:
        session = self._new_session()
        try:
            await session.attach(call_id)
        except Exception as exc:
            if self.last_notice is None or self.last_notice.level != "error":
                self.show_notice("error", f"cannot attach to {call_id}: {exc}")

    def _dial_defaults_values(self) -> DialValues:
        request = self.runtime.default_dial()
        session = self.session
        if session is not None and session.dial_request is not None:
            request = session.dial_request
        speaking = self.runtime.speaking_options()
        if session is not None:
            speaking = session.speech.options
        return DialValues(
            source=request.source,
            destination=request.destination,
            language=request.language,
            greeting=request.greeting,
            sleep_ms=request.sleep_ms,
            provider=speaking.provider,
            direction=speaking.direction or "out",
        )

    async def _load_choices(self) -> tuple[list[Choice], list[Choice]]:
        account = self.runtime.account
        if account is None:
            return [], []
        numbers = await account.numbers()
        extensions = await account.extensions()
        number_choices = [
            Choice(f"{n.number}" + (f" ({n.name})" if n.name else ""), n.number) for n in numbers if n.number
        ]
        extension_choices = [
            Choice(f"{e.name} ({e.extension})" if e.name and e.name != e.extension else e.extension, e.extension)
            for e in extensions
            if e.extension
        ]
        return number_choices, extension_choices

    def open_dial_form(self, problem: DialProblem | None = None) -> None:
        if not self.started:
            self.show_notice("warning", "still starting; the dial form opens when the console is ready")
            return
        if isinstance(self.screen, DialScreen):
            return
        self.push_screen(
            DialScreen(
                self._dial_defaults_values(), submit=self.place_call, load_choices=self._load_choices, problem=problem
            )
        )

    # -- the say box --------------------------------------------------------------------------------------

    def handle_line(self, text: str) -> bool:
        """Enter in the say box. Returns True when the text should stay in the box."""
        parsed = parse_line(text)
        if parsed.kind == "empty":
            return False
        if parsed.kind == "say":
            return self.say(parsed.text)
        command = COMMANDS_BY_NAME.get(parsed.name)
        if command is None or (command.sandbox_only and self.runtime.mode != "sandbox"):
            self.show_notice(
                "warning",
                f"unknown command /{parsed.name}",
                hint="/help lists the commands; //text says a line starting with a slash",
            )
            return True
        if command.arg:
            if not parsed.arg:
                self.show_notice("warning", f"usage: {command.usage}")
                return True
            if command.name == "caller":
                self.phone_speak(parsed.arg)
            elif command.name == "attach":
                self.attach(parsed.arg)
            return False
        if command.action:
            self._run_action_now(command.action)
        return False

    def _run_action_now(self, action: str) -> None:
        method = getattr(self, f"action_{action}", None)
        if method is None:
            log.error("no action %s", action)
            return
        result = method()
        if asyncio.iscoroutine(result):
            self.run_worker(result, name=action, group="actions", exit_on_error=False)

    def say(self, text: str) -> bool:
        session = self.session
        if session is None or session.phase in ("idle", "failed"):
            self.show_notice(
                "warning",
                "no call to speak into",
                hint=f"{self._key('new_call')} or /dial places a call; the text stays in the box",
            )
            return True
        if session.phase == "ended":
            self.show_notice(
                "warning",
                "the call has ended",
                hint=f"{self._key('new_call')} or /dial for a new call; the text stays in the box",
            )
            return True
        # The session writes the request before telling us about the new line, so nothing drawn for it
        # can delay the POST (Enter → request is a measured goal).
        session.say(text)
        return False

    # -- actions ------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("request_quit", "quit", "help", "command_palette"):
            return True
        if not isinstance(self.screen, CallScreen):
            return False
        if action.startswith("phone_"):
            return self.runtime.mode == "sandbox"
        session = self.session
        if action in ("flush", "stop_speaking", "open_speaking", "resend"):
            return True if session is not None and session.phase == "live" else None
        if action in ("hangup",):
            return True if session is not None and session.is_live else None
        if action == "export":
            return True if session is not None and session.phase in ("live", "ended") else None
        return True

    def _need_session(self, live: bool = True) -> CallSession | None:
        session = self.session
        if session is None:
            self.show_notice("warning", "no call", hint=f"{self._key('new_call')} or /dial places one")
            return None
        if live and not session.is_live:
            self.show_notice("warning", "the call is not live", hint=f"{self._key('new_call')} or /dial for a new call")
            return None
        return session

    def _call_op(self, name: str, op: Callable[[CallSession], Awaitable[None]]) -> None:
        session = self._need_session()
        if session is not None:
            self.run_worker(op(session), name=name, group="call", exit_on_error=False)

    def action_flush(self) -> None:
        self._call_op("flush", lambda s: s.flush())

    def action_stop_speaking(self) -> None:
        self._call_op("stop", lambda s: s.stop_speaking())

    def action_open_speaking(self) -> None:
        self._call_op("speak", lambda s: s.open_speaking())

    def action_hangup(self) -> None:
        self._call_op("hangup", lambda s: s.hangup())

    def action_resend(self) -> None:
        session = self._need_session()
        if session is not None:
            session.resend()

    def action_export(self) -> None:
        session = self._need_session(live=False)
        if session is None:
            return
        from tui.session.export import export

        try:
            paths = export(session, self.runtime.export_dir)
        except Exception as exc:
            log.exception("export failed")
            self.show_notice("error", f"export failed: {exc}", hint="check [session] export_dir")
            return
        self.exported = paths
        names = ", ".join(p.suffix.lstrip(".") for p in paths)
        where = str(paths[0].parent) if paths else ""
        self.show_notice("info", f"exported {names} to {where}")
        self.call_screen.summary.show_exported([p.name for p in paths])

    def action_toggle_log(self) -> None:
        screen = self.call_screen
        screen.show_log(not screen.log_shown)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        runtime = self.runtime
        notes: dict[str, str] = {}
        if runtime.log_path is not None:
            notes["log file"] = str(runtime.log_path)
        if self.started:
            notes["session records"] = str(runtime.record_dir)
            notes["exports"] = str(runtime.export_dir)
        self.push_screen(HelpScreen(self.keys, sandbox=runtime.mode == "sandbox", notes=notes))

    def action_new_call(self) -> None:
        session = self.session
        if session is not None and session.is_live:
            self.push_screen(
                ConfirmScreen(
                    "A call is live",
                    "Start a new call? The current one can be hung up or left running.",
                    [
                        ConfirmChoice("hangup", "Hang up, new call", "h", "error"),
                        ConfirmChoice("leave", "Leave it, new call", "l", "warning"),
                        ConfirmChoice("cancel", "Cancel", "escape"),
                    ],
                ),
                callback=self._new_call_choice,
            )
            return
        self.open_dial_form()

    def _new_call_choice(self, choice: str | None) -> None:
        session = self.session
        if choice == "hangup" and session is not None:
            self.run_worker(session.hangup(), name="hangup", group="call", exit_on_error=False)
            self.open_dial_form()
        elif choice == "leave":
            self.open_dial_form()

    def attach(self, call_id: str) -> None:
        if not self.started:
            self.show_notice("warning", "still starting")
            return
        session = self.session
        if session is not None and session.is_live:
            self.show_notice("warning", "a call is live", hint=f"hang up first ({self._key('hangup')} or /hangup)")
            return
        self.run_worker(self._attach_call(call_id), name="attach", group="call", exit_on_error=False)

    def action_prefill(self, text: str) -> None:
        box = self.call_screen.say_box
        box.value = text
        box.cursor_position = len(text)
        box.focus()

    def action_scroll_transcript(self, direction: int) -> None:
        view = self.call_screen.transcript
        if direction < 0:
            view.scroll_page_up(animate=False)
        elif view.scroll_y >= view.max_scroll_y - view.scrollable_content_region.height:
            view.follow()
        else:
            view.scroll_page_down(animate=False)

    def action_follow_transcript(self) -> None:
        self.call_screen.transcript.follow()

    # -- the sandbox phone --------------------------------------------------------------------------------

    def _phone_call_id(self) -> str | None:
        session = self.session
        call = session.call if session is not None else None
        if call is None:
            self.show_notice("warning", "no call for the phone yet")
            return None
        return call.id

    def _phone(self, what: str, op: Callable[[Any, str], Awaitable[None]]) -> None:
        phone = self.runtime.phone
        if phone is None:
            self.show_notice("warning", "there is no simulated phone: this is not the sandbox")
            return
        call_id = self._phone_call_id()
        if call_id is None:
            return

        async def run() -> None:
            try:
                await op(phone, call_id)
            except Exception as exc:
                self.show_notice(
                    "warning",
                    f"the phone could not {what}: {exc}",
                    hint="answer and reject work while it rings; speaking and hanging up once answered",
                )

        self.run_worker(run(), name=f"phone-{what}", group="phone", exit_on_error=False)

    def action_phone_answer(self) -> None:
        self._phone("answer", lambda p, cid: p.answer(cid))

    def action_phone_reject(self) -> None:
        self._phone("reject", lambda p, cid: p.reject(cid))

    def action_phone_hangup(self) -> None:
        self._phone("hang up", lambda p, cid: p.hangup(cid))

    def phone_speak(self, text: str) -> None:
        self._phone("speak", lambda p, cid: p.speak(cid, text))

    # -- quitting -----------------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        self.action_request_quit()

    def action_request_quit(self) -> None:
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
        self.exit(return_code=0)

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
        notice: Notice | None = None,
    ) -> None:
        if notice is not None:
            self.last_notice = notice
        # Error texts can quote URLs or bodies; nothing on screen may carry a credential. They are also
        # someone else's words: one bounded line each, controls escaped, never parsed as markup.
        # Only a head can be shown, so only a head is redacted (with room for a secret across the cut).
        text = safe.one_line(self._redact(text[:NOTICE_HEAD]) + text[NOTICE_HEAD:], 2000)
        hint = safe.one_line(self._redact(hint[:NOTICE_HEAD]) + hint[NOTICE_HEAD:], 400)
        request_id, reason = safe.clean(request_id, 120), safe.clean(reason, 200)
        self.notices.append((level, text))
        del self.notices[:-50]
        (log.warning if level in ("warning", "error") else log.info)(
            "notice %s: %s%s", level, text, f" (hint: {hint})" if hint else ""
        )
        if level in ("error", "warning"):
            self.call_screen.notice.show(level, text, hint=hint, request_id=request_id, reason=reason)
        message = one_line(text, 300) + (f"\nhint: {one_line(hint, 300)}" if hint else "")
        message += f"\nrequest {request_id}" if request_id else ""
        severity: SeverityLevel = "error" if level == "error" else "warning" if level == "warning" else "information"
        self.notify(message, severity=severity, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
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
        # Textual would print a traceback over the terminal and exit; we log it and leave one line.
        log.error("unhandled error in the console", exc_info=error)
        where = f" (details in {self.runtime.log_path})" if self.runtime.log_path else ""
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        detail = safe.one_line(self._redact(f"{type(error).__name__}: {error}"[:NOTICE_HEAD]), 2000)
        self._exit_renderables.append(Text(f"voipbin-tui: internal error: {detail}{safe.clean(where)}"))
        self._close_messages_no_wait()

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

    def _refresh_credential(self) -> None:
        remaining = self.runtime.credential_remaining()
        self.call_screen.header.set_credential(remaining, "token" if remaining is not None else "accesskey")

    def _key(self, binding_id: str) -> str:
        return key_label(self.keys.get(binding_id, ""))

    def palette_entries(self) -> list[PaletteEntry]:
        return palette_entries(self.runtime.mode == "sandbox", self.keys)

    def describe(self) -> str:
        """One line about the current call, for logs and tests."""
        session = self.session
        if session is None:
            return "no call"
        call = session.call
        return f"{session.phase} {call.status if call else '-'} {short_id(call.id if call else '')}"
