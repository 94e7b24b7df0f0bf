"""The console's call: making, installing and retiring sessions, dialling, attaching, the dial form."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from tui.session.call_session import CallSession
    from tui.session.dial import DialRequest
    from tui.session.updates import SessionUpdate
    from tui.ui.app import VoipbinApp
    from tui.ui.screens.dial import Choice, DialProblem, DialValues

# The dial form and the confirmation dialog are imported when first opened: the first frame needs neither.

log = logging.getLogger("tui.ui")


class CallControl:
    """Holds the app's current ``CallSession`` and the flows that replace it."""

    def __init__(self, app: VoipbinApp) -> None:
        self.app = app
        self.session: CallSession | None = None
        self._listener: Callable[[SessionUpdate], None] | None = None

    # -- the session's lifetime ---------------------------------------------------------------------------

    def install(self, session: CallSession) -> None:
        old = self.session
        if old is not None and old is not session:
            self.retire(old)
        self.session = session
        self.app.exported = []
        self.app.call_screen.show_session(session)

        def listener(update: SessionUpdate) -> None:
            if self.session is session:
                self.app.on_session_update(update)

        self._listener = listener
        session.subscribe(listener)
        self.app.refresh_bindings()

    def retire(self, session: CallSession) -> None:
        if self._listener is not None:
            session.unsubscribe(self._listener)
        self.app.run_worker(session.close(), name="close-session", group="sessions", exit_on_error=False)

    def new_session(self, speaking_changes: dict[str, Any] | None = None) -> CallSession:
        runtime = self.app.runtime
        speaking = runtime.speaking_options(**speaking_changes) if speaking_changes else None
        session = runtime.new_session(speaking=speaking)
        self.install(session)
        return session

    # -- dialling and attaching ---------------------------------------------------------------------------

    async def place_call(self, values: DialValues) -> DialProblem | None:
        """Dial with the form's values; the problem to show in the form if VoIPBIN (or we) refused."""
        from tui.ui.screens.dial import DialProblem

        request = replace(self.app.runtime.default_dial(), **values.request_changes())
        problems = request.problems()
        if problems:
            return DialProblem("; ".join(problems))
        session = self.new_session(values.speaking_changes())
        # The form shows a refusal inline: the same words as a banner and a toast too would be three times.
        self.app.notices_inline = True
        try:
            return await self.dial(session, request)
        finally:
            self.app.notices_inline = False

    async def dial(self, session: CallSession, request: DialRequest) -> DialProblem | None:
        from tui.ui.screens.dial import DialProblem

        try:
            await session.dial(request)
        except Exception as exc:
            # The session reported why (and the notice is on screen); the form shows that same notice.
            notice = session.failure
            if notice is not None:
                return DialProblem(notice.text, notice.hint or "", notice.request_id or "", notice.reason or "")
            log.warning("dial failed: %s", exc)
            hint_of = getattr(exc, "hint", None)
            hint = hint_of() if callable(hint_of) else None
            self.app.show_notice("error", f"dial failed: {exc}", hint=hint or "")
            return DialProblem(f"dial failed: {exc}", hint or "", getattr(exc, "request_id", None) or "")
        return None

    async def dial_defaults(self) -> None:
        from tui.ui.screens.dial import DialProblem

        request = self.app.runtime.default_dial()
        problems = request.problems()
        if problems:
            self.open_dial_form(DialProblem("cannot dial the configured defaults: " + "; ".join(problems)))
            return
        session = self.new_session()
        failure = await self.dial(session, request)
        if failure is not None:
            self.open_dial_form(failure)

    async def attach_call(self, text: str) -> None:
        """Resolve ``text`` (a full id or a unique prefix) and follow that call.

        The new session joins the screen only once it has found the call: a refused attach leaves the
        ended call's transcript and summary where they were (only when nothing is on screen yet does the
        failed session show, so the status says what happened).
        """
        from tui.session.call_lookup import CallLookupError, resolve_call_id

        app = self.app
        account = app.runtime.account
        if account is None:
            app.show_notice("warning", "still starting")
            return
        try:
            call_id = await resolve_call_id(account.client, text)
        except CallLookupError as exc:
            app.show_notice("warning", f"cannot attach: {exc.message}", hint=exc.hint)
            return
        session = self.app.runtime.new_session()
        try:
            await session.attach(call_id)
        except Exception as exc:
            notice = session.failure
            if self.session is None:
                self.install(session)
            else:
                app.run_worker(session.close(), name="close-session", group="sessions", exit_on_error=False)
            if notice is not None:
                app.show_notice(
                    notice.level,
                    notice.text,
                    hint=notice.hint or "",
                    request_id=notice.request_id or "",
                    reason=notice.reason or "",
                )
            else:
                app.show_notice("error", f"cannot attach to {call_id}: {exc}")
            return
        self.install(session)

    def attach(self, call_id: str) -> bool:
        """``/attach [ID]``. Returns True when the typed command should stay in the say box."""
        app = self.app
        if not app.started:
            app.show_notice("warning", "still starting")
            return True
        session = self.session
        if session is not None and session.is_live:
            app.show_notice("warning", "a call is live", hint=f"hang up first ({app.how_to('hangup')})")
            return True
        if not call_id.strip():
            app.run_worker(self.pick_call(), name="attach-list", group="call", exit_on_error=False)
            return False
        app.run_worker(self.attach_call(call_id), name="attach", group="call", exit_on_error=False)
        return False

    async def pick_call(self) -> None:
        """``/attach`` alone: live and recent calls in a small list; Enter attaches to the chosen one."""
        from tui.session.call_lookup import list_choices
        from tui.ui.screens.pick_call import PickCallScreen

        account = self.app.runtime.account
        if account is None:
            return
        choices = await list_choices(account.client)

        def picked(call_id: str | None) -> None:
            if call_id:
                self.attach(call_id)

        self.app.push_screen(PickCallScreen(choices), callback=picked)

    # -- the dial form ------------------------------------------------------------------------------------

    def form_values(self) -> DialValues:
        from tui.ui.screens.dial import DialValues

        runtime = self.app.runtime
        request = runtime.default_dial()
        session = self.session
        if session is not None and session.dial_request is not None:
            request = session.dial_request
        speaking = session.speech.options if session is not None else runtime.speaking_options()
        return DialValues(
            source=request.source,
            destination=request.destination,
            language=request.language,
            greeting=request.greeting,
            sleep_ms=request.sleep_ms,
            provider=speaking.provider,
            direction=speaking.direction or "out",
            transcribe_provider=request.transcribe_provider,
        )

    async def load_choices(self) -> tuple[list[Choice], list[Choice]]:
        from tui.ui.screens.dial import Choice

        account = self.app.runtime.account
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
        from tui.ui.screens.dial import DialScreen

        app = self.app
        if not app.started:
            app.show_notice("warning", "still starting; the dial form opens when the console is ready")
            return
        if isinstance(app.screen, DialScreen):
            return
        app.push_screen(
            DialScreen(self.form_values(), submit=self.place_call, load_choices=self.load_choices, problem=problem),
            callback=self._form_closed,
        )

    def _form_closed(self, result: object = None) -> None:
        """A refusal the form showed inline stays on the banner once the form is gone (said once at a time)."""
        session = self.session
        failure = session.failure if session is not None and session.phase == "failed" else None
        if failure is not None and not self.app.call_screen.notice.text:
            self.app.call_screen.notice.show(
                failure.level,
                failure.text,
                hint=failure.hint or "",
                request_id=failure.request_id or "",
                reason=failure.reason or "",
            )

    def new_call(self) -> None:
        from tui.ui.screens.confirm import Choice as ConfirmChoice
        from tui.ui.screens.confirm import ConfirmScreen

        session = self.session
        if session is not None and session.is_live:
            self.app.push_screen(
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
            self.app.run_worker(session.hangup(), name="hangup", group="call", exit_on_error=False)
            self.open_dial_form()
        elif choice == "leave":
            self.open_dial_form()
