"""The console's call: making, installing and retiring sessions, dialling, attaching, the dial form."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tui.ui.screens.confirm import Choice as ConfirmChoice
from tui.ui.screens.confirm import ConfirmScreen
from tui.ui.screens.dial import Choice, DialProblem, DialScreen, DialValues

if TYPE_CHECKING:
    from collections.abc import Callable

    from tui.session.call_session import CallSession
    from tui.session.dial import DialRequest
    from tui.session.updates import SessionUpdate
    from tui.ui.app import VoipbinApp

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
        request = replace(self.app.runtime.default_dial(), **values.request_changes())
        problems = request.problems()
        if problems:
            return DialProblem("; ".join(problems))
        session = self.new_session(values.speaking_changes())
        return await self.dial(session, request)

    async def dial(self, session: CallSession, request: DialRequest) -> DialProblem | None:
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
        request = self.app.runtime.default_dial()
        problems = request.problems()
        if problems:
            self.open_dial_form(DialProblem("cannot dial the configured defaults: " + "; ".join(problems)))
            return
        session = self.new_session()
        failure = await self.dial(session, request)
        if failure is not None:
            self.open_dial_form(failure)

    async def attach_call(self, call_id: str) -> None:
        from tui.actions.operations import attach

        session = self.new_session()
        try:
            await attach(self.app.action_context(), call_id)
        except Exception as exc:
            if session.failure is None:
                self.app.show_notice("error", f"cannot attach to {call_id}: {exc}")

    def attach(self, call_id: str) -> None:
        app = self.app
        if not app.started:
            app.show_notice("warning", "still starting")
            return
        session = self.session
        if session is not None and session.is_live:
            app.show_notice("warning", "a call is live", hint=f"hang up first ({app.how_to('hangup')})")
            return
        app.run_worker(self.attach_call(call_id), name="attach", group="call", exit_on_error=False)

    # -- the dial form ------------------------------------------------------------------------------------

    def form_values(self) -> DialValues:
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
        app = self.app
        if not app.started:
            app.show_notice("warning", "still starting; the dial form opens when the console is ready")
            return
        if isinstance(app.screen, DialScreen):
            return
        app.push_screen(
            DialScreen(self.form_values(), submit=self.place_call, load_choices=self.load_choices, problem=problem)
        )

    def new_call(self) -> None:
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
