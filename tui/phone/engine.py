"""The one small interface both SIP engines implement, and the values that cross it.

Audio crosses it as 16-bit little-endian mono PCM at 8 kHz (the G.711 rate VoIPBIN and the sandbox
use), in whatever chunk sizes the engine has; the phone paces what it writes in 20 ms frames.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal, Protocol

SAMPLE_RATE = 8000
FRAME_BYTES = 320  # 20 ms of 16-bit mono at 8 kHz

Transport = Literal["udp", "tcp", "tls"]
EventKind = Literal["registered", "register_failed", "incoming", "answered", "closed"]


class EngineUnavailable(RuntimeError):
    """The engine's package is not installed or cannot load here."""


class RegistrationFailed(RuntimeError):
    """The registrar refused us (``status`` is the SIP code when there was one) or never answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class PhoneAccount:
    """Who to register as and where. ``password`` is never printed: see ``__repr__``."""

    user: str
    domain: str
    password: str = field(repr=False)
    registrar: str = ""  # host[:port] when it is not the domain itself
    transport: Transport = "udp"
    srtp: bool = False
    reg_interval: int = 300
    local_host: str = ""  # interface address to bind; empty: the engine's default
    local_port: int = 0  # 0: pick a free one
    tls_ca_file: str = ""  # CA bundle that signed the registrar's certificate; empty: the system's


@dataclass(frozen=True, slots=True)
class EngineEvent:
    kind: EventKind
    detail: str = ""
    status: int | None = None
    peer: str = ""
    call_id: str = ""


@dataclass(frozen=True, slots=True)
class MediaStats:
    """A call's RTP as the engine counted it (loss and jitter of what we received)."""

    rx_packets: int = 0
    tx_packets: int = 0
    rx_lost: int = 0
    rx_jitter_ms: float = 0.0

    @property
    def rx_loss_pct(self) -> float:
        expected = self.rx_packets + self.rx_lost
        return round(100.0 * self.rx_lost / expected, 2) if expected else 0.0


class PhoneEngine(Protocol):
    """A SIP user agent for one account and at most one call at a time."""

    name: str
    events: asyncio.Queue[EngineEvent]

    async def start(self) -> None: ...
    async def register(self) -> None:
        """Register and wait for the outcome; raise :class:`RegistrationFailed`."""

    async def unregister(self) -> None: ...
    async def answer(self) -> None: ...
    async def reject(self) -> None: ...
    async def hangup(self) -> None: ...
    def write_pcm(self, pcm: bytes) -> int:
        """Queue PCM to send; returns the bytes taken (0 while no call has media)."""

    def read_pcm(self) -> bytes:
        """Take the PCM received since the last read (b"" when none)."""

    def stats(self) -> MediaStats: ...
    async def close(self) -> None: ...
