"""A typed, read-only view of a call session: what the console's widgets (and reports) may read.

``CallSession`` satisfies it as it is; the UI test fake implements it too, and mypy checks both, so a
field the widgets start reading cannot drift away from the fake unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tui.session.dial import DialRequest
    from tui.session.says import SayItem, SayTally
    from tui.session.speaking import SpeakingOptions
    from tui.session.transcript import TranscriptLine
    from tui.voipbin.models import Call, Groupcall, Speaking, Transcribe


class SpeechView(Protocol):
    @property
    def phase(self) -> str: ...

    @property
    def detail(self) -> str: ...

    @property
    def speaking(self) -> Speaking | None: ...

    @property
    def options(self) -> SpeakingOptions: ...


class LedgerView(Protocol):
    @property
    def items(self) -> Sequence[SayItem]: ...

    def tally(self) -> SayTally: ...


class RecorderView(Protocol):
    @property
    def path(self) -> Path | None: ...


class BookView(Protocol):
    @property
    def lines(self) -> Sequence[TranscriptLine]: ...


class CallView(Protocol):
    @property
    def phase(self) -> str: ...

    @property
    def is_live(self) -> bool: ...

    @property
    def call(self) -> Call | None: ...

    @property
    def legs(self) -> Mapping[str, Call]: ...

    @property
    def groupcall(self) -> Groupcall | None: ...

    @property
    def transcribes(self) -> Mapping[str, Transcribe]: ...

    @property
    def dial_request(self) -> DialRequest | None: ...

    @property
    def speech(self) -> SpeechView: ...

    @property
    def ledger(self) -> LedgerView: ...

    @property
    def recorder(self) -> RecorderView: ...

    @property
    def book(self) -> BookView: ...

    @property
    def answered_mono(self) -> float | None: ...

    def elapsed_answered(self) -> float | None: ...
