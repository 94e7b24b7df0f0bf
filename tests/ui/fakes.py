"""A scripted runtime and session with fixed ids and times, for SVG snapshots that never change.

Everything shown comes from the real data types (models, TranscriptBook, SayLedger, update dataclasses);
only the network and the clock are replaced. Behaviour is covered by the Pilot tests on the real
sandbox; these fakes exist so that pictures of the screens can be compared byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
from typing import Any

from tui.config import quick_probe
from tui.options import ConsoleOptions
from tui.runtime import ConsoleRuntime
from tui.session.call_session import CallSession
from tui.session.dial import SEED_GREETING, DialRequest
from tui.session.says import SayItem, SayLedger
from tui.session.speaking import SpeakingOptions
from tui.session.transcript import TranscriptBook, TranscriptChange
from tui.session.updates import (
    CallEnded,
    CallSummary,
    CallUpdated,
    Notice,
    PhaseChanged,
    SayUpdated,
    SessionUpdate,
    SpeakingUpdated,
    TranscribeUpdated,
    TranscriptUpdated,
)
from tui.session.view import CallView
from tui.ui.app import VoipbinApp
from tui.ui.clock import UiClock
from tui.voipbin.events import ConnectionState
from tui.voipbin.frames import classify_frame
from tui.voipbin.models import Action, Address, Call, Customer, Extension, Groupcall, Number, Speaking, Transcribe
from tui.voipbin.rest import RequestRecord

T0 = datetime(2026, 2, 21, 10, 5, 0, tzinfo=UTC)
CUSTOMER_ID = "550e8400-e29b-41d4-a716-446655440000"
GROUPCALL_ID = "7b2e4c1a-0d3f-4e5a-9b8c-1d2e3f4a5b6c"
CALL_ID = "e2a65df2-4e50-4e37-8628-df07b3cec579"
TRANSCRIBE_ID = "8c5a9e2a-2a7f-4a6f-9f1d-debd72c279ce"
SPEAKING_ID = "f1e103d2-0429-4170-83b3-e95e29bb0ca8"
RECORD = PurePosixPath("~/.local/state/voipbin-tui/sessions/session-20260221-100500-e2a65df2.jsonl")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def epoch(seconds: float) -> float:
    return at(seconds).timestamp()


class FakeAccount:
    def __init__(self) -> None:
        self.customer = Customer(id=CUSTOMER_ID, name="Sandbox Customer", email="admin@localhost")
        self.connection = ConnectionState(state="connected", attempt=1, at=epoch(0))
        self.client = SimpleNamespace(token_expiry=None, secrets=list, plaintext_warning=None)
        self.frame_listeners: list[Callable[[Any], None]] = []
        self.request_listeners: list[Callable[[RequestRecord], None]] = []

    def listen(self, on_event: Callable[[Any], None], on_connection: Callable[[Any], None]) -> object:
        self.frame_listeners.append(on_event)
        return object()

    def add_request_listener(self, listener: Callable[[RequestRecord], None]) -> None:
        self.request_listeners.append(listener)

    async def numbers(self) -> list[Number]:
        return [
            Number(number="+15551234567", name="Main line", type="normal", status="active"),
            Number(number="+15557654321", name="", type="normal", status="active"),
        ]

    async def extensions(self) -> list[Extension]:
        return [
            Extension(name="quickstart-phone", extension="quickstart-phone"),
            Extension(name="Extension 2000", extension="2000"),
        ]

    def play_feed(self) -> None:
        """A few frames and requests for the event log, stamped with fixed times."""
        requests = [
            RequestRecord(
                "POST", "http://127.0.0.1/v1.0/calls?accesskey=***", 200, 12.0, "req_01", None, 1, at=epoch(0.2)
            ),
            RequestRecord(
                "POST", "http://127.0.0.1/v1.0/speakings?accesskey=***", 200, 9.0, "req_02", None, 1, at=epoch(4.1)
            ),
            RequestRecord(
                "POST",
                f"http://127.0.0.1/v1.0/speakings/{SPEAKING_ID}/say?accesskey=***",
                200,
                4.0,
                "req_03",
                None,
                1,
                at=epoch(20.0),
            ),
        ]
        frames = [
            (
                1.0,
                {
                    "id": CALL_ID,
                    "customer_id": CUSTOMER_ID,
                    "status": "ringing",
                    "direction": "outgoing",
                    "tm_create": "2026-02-21T10:05:00.100000Z",
                },
            ),
            (
                4.0,
                {
                    "id": CALL_ID,
                    "customer_id": CUSTOMER_ID,
                    "status": "progressing",
                    "direction": "outgoing",
                    "tm_create": "2026-02-21T10:05:00.100000Z",
                },
            ),
            (
                6.2,
                {
                    "id": "9d59e7f0-7bdc-4c52-bb8c-bab718952050",
                    "transcribe_id": TRANSCRIBE_ID,
                    "direction": "out",
                    "message": "Hello.",
                    "tm_create": "2026-02-21T10:05:06.200000Z",
                },
            ),
            (9.0, {"hello": "a frame nobody documented"}),
        ]
        for record in requests:
            for listener in self.request_listeners:
                listener(record)
        for seconds, data in frames:
            import json

            event = classify_frame(json.dumps(data), received_at=epoch(seconds), received_mono=seconds)
            for listener in self.frame_listeners:
                listener(event)


@dataclass
class FakeSpeech:
    options: SpeakingOptions
    phase: str = "none"
    detail: str = ""
    speaking: Speaking | None = None


@dataclass
class FakeRecorder:
    path: Path | None


class FakeSession:
    """Plays a fixed call: answered, greeting, caller line, one heard SAY line, live interim text."""

    def __init__(self, account: FakeAccount, speaking: SpeakingOptions) -> None:
        self.account = account
        self.book = TranscriptBook()
        self.ledger = SayLedger()
        self.phase = "idle"
        self.dial_request: DialRequest | None = None
        self.legs: dict[str, Call] = {}
        self.groupcall: Groupcall | None = None
        self.main_call_id: str | None = None
        self.transcribes: dict[str, Transcribe] = {}
        self.summary: CallSummary | None = None
        self.answered_mono: float | None = None
        self.speech = FakeSpeech(options=speaking)
        self.recorder = FakeRecorder(Path(str(RECORD)))
        self.failure: Notice | None = None
        self._listeners: list[Callable[[SessionUpdate], None]] = []

    # -- what the app reads -------------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[SessionUpdate], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[SessionUpdate], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    @property
    def is_live(self) -> bool:
        return self.phase in ("dialing", "live")

    @property
    def call(self) -> Call | None:
        return self.legs.get(self.main_call_id or "")

    def elapsed_answered(self) -> float | None:
        return 83.0 if self.answered_mono is not None else None

    # -- the script ---------------------------------------------------------------------------------------

    def _emit(self, update: SessionUpdate) -> None:
        for listener in list(self._listeners):
            listener(update)

    def _patch(self, changes: list[TranscriptChange]) -> None:
        if changes:
            self._emit(TranscriptUpdated(tuple(changes)))

    def _set_call(self, **changes: Any) -> None:
        base = self.legs.get(CALL_ID) or Call(
            id=CALL_ID,
            customer_id=CUSTOMER_ID,
            groupcall_id=GROUPCALL_ID,
            status="dialing",
            direction="outgoing",
            source=Address(type="tel", target="+15551234567"),
            destination=Address(type="sip", target="quickstart-phone@192.0.2.10:5060"),
            tm_create=at(0.1),
        )
        self.legs[CALL_ID] = base.model_copy(update=changes)
        self.main_call_id = CALL_ID
        self._emit(CallUpdated(self.call, dict(self.legs), self.groupcall))

    def _final(self, n: int, direction: str, text: str, seconds: float) -> None:
        self._patch(
            self.book.add_transcript(
                transcript_id=f"00000000-0000-4000-8000-{n:012d}",
                transcribe_id=TRANSCRIBE_ID,
                direction=direction,
                text=text,
                at=at(seconds),
            )
        )

    async def dial(self, request: DialRequest) -> None:
        self.dial_request = request
        self.phase = "dialing"
        self._emit(PhaseChanged("dialing", request.destination))
        self.groupcall = Groupcall(
            id=GROUPCALL_ID, customer_id=CUSTOMER_ID, status="progressing", call_ids=[CALL_ID], answer_call_id=CALL_ID
        )
        self.phase = "live"
        self._emit(PhaseChanged("live"))
        self._set_call(status="progressing", action=Action(type="sleep"), tm_progressing=at(4.0))
        self.answered_mono = 1.0
        self.transcribes[TRANSCRIBE_ID] = Transcribe(
            id=TRANSCRIBE_ID,
            reference_type="call",
            reference_id=CALL_ID,
            status="progressing",
            language="en-US",
            direction="both",
        )
        self._emit(TranscribeUpdated(self.transcribes[TRANSCRIBE_ID]))
        speaking = Speaking(
            id=SPEAKING_ID,
            reference_type="call",
            reference_id=CALL_ID,
            language="en-US",
            provider="elevenlabs",
            direction="out",
            status="active",
        )
        self.speech.phase, self.speech.speaking = "active", speaking
        self._emit(SpeakingUpdated("active", speaking))
        sentences = [s.strip() + "." for s in SEED_GREETING.split(".") if s.strip()]
        for i, sentence in enumerate(sentences):
            self._final(i, "out", sentence, 6.2 + i * 2.5)
        self._final(10, "in", "Hi, this is a test of the transcription feature.", 17.4)
        item = SayItem(
            id="say-1",
            text="Hello, how are you today?",
            state="heard",
            created_at=epoch(20.0),
            sent_mono=100.0,
            sent_at=epoch(20.0),
            heard_mono=100.64,
            speaking_id=SPEAKING_ID,
            coverage=1.0,
        )
        self.ledger.items.append(item)
        self._patch(
            self.book.add_line(
                key="s:say-1", kind="say", text=item.text, direction="out", at=at(20.0), meta={"say": item}
            )
        )
        self._emit(SayUpdated(item))
        self._final(11, "out", "Hello, how are you today?", 21.1)
        self._patch(
            self.book.set_interim(transcribe_id=TRANSCRIBE_ID, direction="in", text="I can hear you", at=at(24.0))
        )
        self.account.play_feed()

    async def hangup(self) -> None:
        self._patch(self.book.clear_all_interim())
        self._final(12, "in", "I can hear you clearly, thank you.", 24.5)
        self._set_call(status="hangup", hangup_by="local", hangup_reason="normal", tm_hangup=at(87.0))
        self.phase = "ended"
        self._emit(PhaseChanged("ended", "local normal"))
        self.speech.phase, self.speech.detail = "closed", "stopped and deleted"
        self._emit(SpeakingUpdated("closed", self.speech.speaking, "stopped and deleted"))
        self.summary = CallSummary(
            call_id=CALL_ID,
            duration_s=83.0,
            hangup_by="local",
            hangup_reason="normal",
            lines_in=2,
            lines_out=6,
            says_sent=1,
            says_heard=1,
            says_failed=0,
            say_heard_p50_ms=640.0,
            say_heard_p95_ms=640.0,
            record_path=str(RECORD),
            gaps=0,
        )
        self._emit(CallEnded(self.summary))

    async def close(self, *, hangup: bool = False) -> None:
        return None

    def say(self, text: str, on_released: Callable[[], None] | None = None) -> list[SayItem]:
        # Nothing is sent, so nothing holds the screen: released at once, as the real session does for blank text.
        if on_released is not None:
            on_released()
        return []


def _fake_is_a_call_view(session: FakeSession) -> CallView:
    return session  # mypy proves the fake reads like the real session ...


def _session_is_a_call_view(session: CallSession) -> CallView:
    return session  # ... and that the real session is what the widgets read.


class FakeRuntime(ConsoleRuntime):
    def __init__(self, options: ConsoleOptions) -> None:
        super().__init__(options, quick_probe(options.config))
        self.fake_account = FakeAccount()

    async def start(self) -> None:
        self.load()
        self.account = self.fake_account  # type: ignore[assignment]
        self.started = True

    @property
    def api_url(self) -> str:
        return "http://127.0.0.1:8765/v1.0"

    def secrets(self) -> list[str]:
        return []

    def new_session(self, speaking: SpeakingOptions | None = None, call_hint: str = "") -> Any:
        return FakeSession(self.fake_account, speaking or self.speaking_options())

    async def close(self) -> None:
        return None


def fake_app(config: Path, *, dial: bool = True, theme: str = "voipbin-dark") -> VoipbinApp:
    runtime = FakeRuntime(ConsoleOptions(config=str(config), dial=dial, theme=theme))
    return VoipbinApp(runtime, clock=UiClock.frozen(), deterministic=True)
