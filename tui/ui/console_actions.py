"""The console's side of the declared actions: availability on screen, dispatch, the say box's lines.

Every action comes from ``tui.actions.registry``. Those with a session operation run it in a worker
(failures reach the app's one error sink); the few whose effect is on the screen are handled here.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from tui.actions.context import ActionError, Need
from tui.actions.registry import BY_ID, ActionArg, ActionDecl, ActionState
from tui.actions.slash import command_for, parse_line
from tui.ui import safe
from tui.ui.commands import PaletteEntry, palette_entries
from tui.ui.reading_actions import ReadingActions

if TYPE_CHECKING:
    from tui.ui.app import VoipbinApp

log = logging.getLogger("tui.ui")


class RepaintHold:
    """Repaints held (``App.batch_update``) from creation until ``release()``; releasing twice is harmless.

    Each say holds its own and the session releases each exactly once (within ``HOLD_MAX``), so a second
    Enter while the first is held cannot leave the screen frozen.
    """

    def __init__(self, app: VoipbinApp) -> None:
        self._app = app
        self._batch: contextlib.AbstractContextManager[None] | None = app.batch_update()
        self._batch.__enter__()

    def release(self) -> None:
        batch, self._batch = self._batch, None
        if batch is None:
            return
        batch.__exit__(None, None, None)
        # Ending a batch only prompts the app; the screen holds the pending repaint and must be prompted too.
        with contextlib.suppress(Exception):
            self._app.screen.check_idle()


class ConsoleActions:
    def __init__(self, app: VoipbinApp) -> None:
        self.app = app
        self.reading = ReadingActions(app)

    def state(self) -> ActionState:
        app = self.app
        session = app.session
        control = app.runtime.control
        sandbox = app.runtime.mode == "sandbox"
        return ActionState(
            phase=session.phase if session is not None else None,
            is_live=session is not None and session.is_live,
            # Before start-up finishes the control client does not exist yet; the mode already says it will.
            has_phone=app.runtime.phone is not None or sandbox,
            has_sandbox=control is not None or sandbox,
        )

    def check(self, action_id: str, on_call_screen: bool) -> bool | None:
        """Textual's ``check_action`` answer: True runs, None shows the key disabled, False hides it."""
        decl = BY_ID.get(action_id)
        if decl is None:
            return True
        if not on_call_screen and not decl.anywhere:
            return False
        answer = decl.availability(self.state())
        return True if answer == "available" else None if answer == "disabled" else False

    def palette_entries(self) -> list[PaletteEntry]:
        return palette_entries(self.state(), self.app.keys)

    # -- dispatch -----------------------------------------------------------------------------------------

    def run(self, action_id: str, arg: ActionArg = None) -> None:
        decl = BY_ID.get(action_id)
        if decl is None:
            log.error("no action %s", action_id)
            return
        handler = getattr(self, "_console_" + decl.keymap_id, None) or self.reading.handler(decl.keymap_id)
        if callable(handler):
            handler(arg)
            return
        if decl.console:
            self.app.call_next(self.app.run_action, decl.console)
            return
        if decl.run is not None and self._can_run(decl):
            self.app.run_worker(
                self._perform(decl, arg),
                name=decl.slash[0][1:] if decl.slash else decl.id,
                group="phone" if decl.id.startswith("phone.") else "call",
                exit_on_error=False,
            )

    def _can_run(self, decl: ActionDecl) -> bool:
        session = self.app.session
        if Need.SANDBOX_PHONE in decl.needs or Need.SANDBOX in decl.needs:
            return True  # the operation itself says what is missing
        if session is None and decl.needs:
            self.app.show_notice("warning", "no call", hint=f"{self.app.how_to('new_call')} places one")
            return False
        live = Need.LIVE_CALL in decl.needs or Need.SPEAKING in decl.needs
        if live and session is not None and not session.is_live:
            self.app.show_notice(
                "warning", "the call is not live", hint=f"{self.app.how_to('new_call')} for a new call"
            )
            return False
        return True

    async def _perform(self, decl: ActionDecl, arg: ActionArg) -> None:
        assert decl.run is not None
        try:
            result = await decl.run(self.app.action_context(), arg)
        except ActionError as exc:
            self.app.show_notice("warning", exc.message, hint=exc.hint)
            return
        if decl.id == "sandbox.fault" and isinstance(result, dict):
            # The sandbox answers with the faults now in force: say them, so a typo is not silent.
            active = {k: v for k, v in dict(result.get("faults") or {}).items() if v not in (None, False, 0, 0.0)}
            dropped = result.get("dropped_websockets")
            text = "sandbox faults: " + (", ".join(f"{k}={v}" for k, v in sorted(active.items())) or "none")
            self.app.show_notice("info", text + (f"; dropped {dropped} WebSocket(s)" if dropped else ""))

    # -- actions the console performs itself --------------------------------------------------------------

    def _console_help(self, arg: ActionArg) -> None:
        from tui.ui.screens.help import HelpScreen  # when first opened: the first frame does not need it

        app = self.app
        if isinstance(app.screen, HelpScreen):
            return
        runtime = app.runtime
        notes: dict[str, str] = {}
        session = app.session
        call = session.call if session is not None else None
        if session is not None and call is not None:
            # The full ids of the current call: what /attach, the API and a bug report need.
            notes["call"] = f"{safe.clean(call.id, 64)} ({'live' if session.is_live else session.phase})"
            if session.groupcall is not None:
                notes["groupcall"] = safe.clean(session.groupcall.id, 64)
            if session.recorder.path is not None:
                notes["record"] = str(session.recorder.path)
        if runtime.log_path is not None:
            notes["log file"] = str(runtime.log_path)
        if app.started:
            notes["session records"] = str(runtime.record_dir)
            notes["exports"] = str(runtime.export_dir)
        app.push_screen(HelpScreen(app.keys, self.state(), notes=notes))

    def _console_dismiss_notice(self, arg: ActionArg) -> None:
        self.app.clear_notice()

    def _console_toggle_log(self, arg: ActionArg) -> None:
        screen = self.app.call_screen
        screen.show_log(not screen.log_shown)

    def _console_new_call(self, arg: ActionArg) -> None:
        self.app.calls.new_call()

    def _console_attach(self, arg: ActionArg) -> None:
        self.app.calls.attach(str(arg or ""))

    def attach_line(self, arg: str) -> bool:
        """``/attach`` typed in the say box: the command stays there when it cannot run now."""
        return self.app.calls.attach(arg)

    def _console_say(self, arg: ActionArg) -> None:
        self.say(str(arg or ""))

    def _console_export(self, arg: ActionArg) -> None:
        app = self.app
        session = app.session
        if session is None:
            app.show_notice("warning", "no call", hint=f"{app.how_to('new_call')} places one")
            return
        from tui.session.export import export

        # Synchronous on purpose: the files are small and the user waits for the notice naming them.
        try:
            paths = export(session, app.runtime.export_dir)
        except Exception as exc:
            log.exception("export failed")
            app.show_notice("error", f"export failed: {exc}", hint="check [session] export_dir")
            return
        app.exported = paths
        names = ", ".join(p.suffix.lstrip(".") for p in paths)
        where = str(paths[0].parent) if paths else ""
        app.show_notice("info", f"exported {names} to {where}")
        app.call_screen.summary.show_exported([p.name for p in paths])

    # -- the say box --------------------------------------------------------------------------------------

    def say(self, text: str) -> bool:
        app = self.app
        session = app.session
        if session is None or session.phase in ("idle", "failed"):
            app.show_notice(
                "warning",
                "no call to speak into",
                hint=f"{app.how_to('new_call')} places a call; the text stays in the box",
            )
            return True
        if session.phase == "ended":
            app.show_notice(
                "warning",
                "the call has ended",
                hint=f"{app.how_to('new_call')} for a new call; the text stays in the box",
            )
            return True
        # The session writes the request before telling us about the new line, so nothing drawn for it
        # can delay the POST (Enter → request is a measured goal). Hence no worker here, and no repaint
        # until the session lets go: the box clearing would otherwise be drawn (a whole frame) between
        # the say task's first awaits and the request being written.
        hold = RepaintHold(app)
        try:
            session.say(text, on_released=hold.release)
        except BaseException:
            hold.release()
            raise
        return False

    def handle_line(self, text: str) -> bool:
        """Enter in the say box. Returns True when the text should stay in the box."""
        app = self.app
        parsed = parse_line(text)
        if parsed.kind == "empty":
            return False
        if parsed.kind == "say":
            return self.say(parsed.text)
        decl = command_for(parsed.name, self.state())
        if decl is None:
            app.show_notice(
                "warning",
                f"unknown command /{parsed.name}",
                hint="/help lists the commands; //text says a line starting with a slash",
            )
            return True
        if decl.arg and not decl.arg.startswith("[") and not parsed.arg:
            app.show_notice("warning", f"usage: /{parsed.name} {decl.arg}")
            return True
        if decl.id == "attach":
            return self.attach_line(parsed.arg)
        self.run(decl.id, parsed.arg if decl.arg else None)
        return False
