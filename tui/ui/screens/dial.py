"""The dial form: what to call, from where, with which greeting, and how to speak into it.

Each address field is a text input (the truth) with a picker beside it filled from ``GET /numbers`` and
``GET /extensions``: picking fills the input, typing a tel or sip address works too. Extensions are
listed by name but dialled by their ``extension`` field, which is what VoIPBIN matches. The form stays
open and filled while the call is placed, so a refused dial can be corrected and retried at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from tui.ui import safe
from tui.ui.format import one_line, parse_sleep, sleep_text

HERE = Path(__file__).resolve().parent

PROVIDERS = ("elevenlabs", "gcp", "aws")
DIRECTIONS = ("out", "in", "both")


@dataclass(frozen=True, slots=True)
class DialValues:
    """What the form collected; the app turns it into a DialRequest and speaking options."""

    source: str
    destination: str
    language: str
    greeting: str
    sleep_ms: int
    provider: str
    direction: str
    transcribe_provider: str = ""

    def request_changes(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "language": self.language,
            "greeting": self.greeting,
            "sleep_ms": self.sleep_ms,
            "transcribe_provider": self.transcribe_provider,
        }

    def speaking_changes(self) -> dict[str, Any]:
        return {"provider": self.provider, "direction": self.direction}


@dataclass(frozen=True, slots=True)
class DialProblem:
    """Why a dial did not go through, as the form shows it."""

    text: str
    hint: str = ""
    request_id: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    value: str


Submit = Callable[[DialValues], Awaitable[DialProblem | None]]
LoadChoices = Callable[[], Awaitable[tuple[list[Choice], list[Choice]]]]


class DialScreen(ModalScreen[bool]):
    """Dismissed with True once a call was placed, False when cancelled."""

    CSS_PATH = HERE / "dial.tcss"
    AUTO_FOCUS = "#dial-destination"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dial_cancel", tooltip="Close the form without dialling"),
    ]

    def __init__(
        self,
        defaults: DialValues,
        *,
        submit: Submit,
        load_choices: LoadChoices | None = None,
        problem: DialProblem | None = None,
    ) -> None:
        super().__init__(id="dial-screen")
        self.defaults = defaults
        self._submit = submit
        self._load_choices = load_choices
        self.problem = problem
        self.busy = False

    def compose(self) -> ComposeResult:
        d = self.defaults
        with Vertical(id="dial-box"):
            yield Label("New call", id="dial-title")
            with VerticalScroll(id="dial-fields"):
                with Horizontal(classes="field"):
                    yield Label("Source", classes="field-label")
                    yield Input(d.source, id="dial-source", compact=True, placeholder="+E.164 number of yours")
                    yield Select[str]([], id="pick-source", prompt="numbers…", compact=True)
                with Horizontal(classes="field"):
                    yield Label("Destination", classes="field-label")
                    yield Input(
                        d.destination,
                        id="dial-destination",
                        compact=True,
                        placeholder="extension, +E.164 or sip:user@host",
                    )
                    yield Select[str]([], id="pick-destination", prompt="extensions…", compact=True)
                with Horizontal(classes="field"):
                    yield Label("Language", classes="field-label")
                    yield Input(d.language, id="dial-language", compact=True, placeholder="BCP47, e.g. en-US")
                    yield Select[str](
                        [(f"transcribe: {p or 'default'}", p or "default") for p in ("", "gcp", "aws")],
                        value=d.transcribe_provider or "default",
                        id="dial-transcribe-provider",
                        allow_blank=False,
                        compact=True,
                        tooltip="default and gcp stop transcribing after about 5 minutes; aws does not",
                    )
                with Horizontal(classes="field"):
                    yield Label("Greeting", classes="field-label")
                    yield Input(d.greeting, id="dial-greeting", compact=True, placeholder="talk action text")
                with Horizontal(classes="field"):
                    yield Label("Sleep", classes="field-label")
                    yield Input(
                        sleep_text(d.sleep_ms), id="dial-sleep", compact=True, placeholder="600s, 10m or 600000ms"
                    )
                with Horizontal(classes="field"):
                    yield Label("Speaking", classes="field-label")
                    yield Select[str](
                        [(p, p) for p in _with(PROVIDERS, d.provider)],
                        value=d.provider,
                        id="dial-provider",
                        allow_blank=False,
                        compact=True,
                    )
                    yield Select[str](
                        [(f"heard by: {x}", x) for x in _with(DIRECTIONS, d.direction)],
                        value=d.direction,
                        id="dial-direction",
                        allow_blank=False,
                        compact=True,
                    )
            yield Label("", id="dial-problem")
            with Horizontal(id="dial-buttons"):
                yield Button(
                    "Dial", id="dial-go", variant="primary", compact=True, tooltip="Place the call (Enter in any field)"
                )
                yield Button("Cancel", id="dial-cancel", compact=True, tooltip="Close the form (Esc)")

    def on_mount(self) -> None:
        if getattr(self.app, "deterministic", False):
            for field in self.query(Input):
                field.cursor_blink = False
        if self.problem is not None:
            self.show_problem(self.problem)
        if self._load_choices is not None:
            self._fill_pickers()

    # -- pickers ------------------------------------------------------------------------------------------

    @work(group="dial-form", exit_on_error=False)
    async def _fill_pickers(self) -> None:
        assert self._load_choices is not None
        try:
            numbers, extensions = await self._load_choices()
        except Exception as exc:  # the form still works by typing
            self.query_one("#dial-problem", Label).update(
                safe.plain(f"could not list numbers/extensions: {one_line(str(exc), 120)}", "$warning")
            )
            return
        self._set_options("#pick-source", numbers)
        self._set_options("#pick-destination", extensions)

    def _set_options(self, selector: str, choices: Sequence[Choice]) -> None:
        picker = self.query_one(selector, Select)
        # Names come from the server: plain Text, so "[/x]" is shown, not parsed (and typing still searches).
        picker.set_options([(safe.plain_text(c.label, limit=200), c.value) for c in choices])

    @on(Select.Changed, "#pick-source")
    def _pick_source(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.query_one("#dial-source", Input).value = event.value

    @on(Select.Changed, "#pick-destination")
    def _pick_destination(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.query_one("#dial-destination", Input).value = event.value

    # -- submit -------------------------------------------------------------------------------------------

    def values(self) -> DialValues:
        """The form's values; raises ValueError with a message for the user when one is unusable."""

        def text(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value.strip()

        def choice(widget_id: str) -> str:
            value = self.query_one(f"#{widget_id}", Select).value
            return value if isinstance(value, str) else ""

        return DialValues(
            source=text("dial-source"),
            destination=text("dial-destination"),
            language=text("dial-language") or "en-US",
            greeting=text("dial-greeting"),
            sleep_ms=parse_sleep(text("dial-sleep") or "0"),
            provider=choice("dial-provider"),
            direction=choice("dial-direction"),
            transcribe_provider=choice("dial-transcribe-provider").replace("default", ""),
        )

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_dial()

    @on(Button.Pressed, "#dial-go")
    def _go(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_dial()

    @on(Button.Pressed, "#dial-cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_dial(self) -> None:
        if self.busy:
            return
        try:
            values = self.values()
        except ValueError as exc:
            self.show_problem(DialProblem(str(exc)))
            return
        self._place(values)

    @work(group="dial-form", exit_on_error=False)
    async def _place(self, values: DialValues) -> None:
        self.set_busy(True)
        try:
            problem = await self._submit(values)
        finally:
            self.set_busy(False)
        if problem is None:
            self.dismiss(True)
        else:
            self.show_problem(problem)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        button = self.query_one("#dial-go", Button)
        button.disabled = busy
        button.label = "Dialling…" if busy else "Dial"
        if busy:
            self.query_one("#dial-problem", Label).update("")

    def show_problem(self, problem: DialProblem) -> None:
        self.problem = problem
        parts: list[str | tuple[str, str]] = [("✗ ", "bold $error"), (one_line(problem.text, 300), "$error")]
        if problem.reason:
            parts += ["  ", ("reason ", "$text-muted"), problem.reason]
        if problem.request_id:
            parts += ["  ", ("request ", "$text-muted"), problem.request_id]
        if problem.hint:
            parts += ["\n", ("hint: ", "bold $text-muted"), one_line(problem.hint, 300)]
        self.query_one("#dial-problem", Label).update(safe.assemble(*parts))

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(False)


def _with(options: Sequence[str], value: str) -> list[str]:
    return list(options) if not value or value in options else [value, *options]
