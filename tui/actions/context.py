"""What an action's operation runs against: a call session, the phone, the sandbox's control API.

Protocols, not classes: the console passes its ``CallSession`` and ``SandboxControl``, the scenario runner
the same, tests their fakes. Nothing here imports Textual or opens a socket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tui.session.dial import DialRequest
    from tui.voipbin.models import Call


class Need(Enum):
    """What must be true for an action to run (all of an action's needs at once)."""

    CALL = "a call (live or ended)"
    LIVE_CALL = "a live call (dialling or answered)"
    SPEAKING = "an answered call (the speaking stream's lifetime)"
    SANDBOX_PHONE = "the sandbox's simulated phone"
    SANDBOX = "the sandbox's control API"


class SessionOps(Protocol):
    """The part of ``CallSession`` that actions drive."""

    @property
    def phase(self) -> str: ...

    @property
    def is_live(self) -> bool: ...

    @property
    def call(self) -> Call | None: ...

    def say(self, text: str) -> Sequence[object]: ...

    def resend(self) -> Sequence[object]: ...

    async def flush(self) -> None: ...

    async def stop_speaking(self) -> None: ...

    async def open_speaking(self) -> None: ...

    async def hangup(self) -> None: ...

    async def dial(self, request: DialRequest) -> None: ...

    async def attach(self, call_id: str) -> None: ...


class PhoneOps(Protocol):
    """The far end's phone: the sandbox's simulated softphone (or, later, the headless phone)."""

    async def answer(self, call_id: str) -> None: ...

    async def reject(self, call_id: str) -> None: ...

    async def hangup(self, call_id: str) -> None: ...

    async def speak(self, call_id: str, text: str) -> None: ...


class SandboxOps(Protocol):
    """The sandbox's fault injection."""

    async def faults(self, **faults: Any) -> dict[str, Any]: ...


@dataclass
class ActionContext:
    session: SessionOps | None = None
    phone: PhoneOps | None = None
    sandbox: SandboxOps | None = None
    export_dir: Path | None = None
    dial_request: DialRequest | None = None


class ActionError(Exception):
    """An action that cannot run now, said in words a person can act on (shown as a warning)."""

    def __init__(self, message: str, *, hint: str = "", missing: Need | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.missing = missing
