"""RTP for one call leg (RFC 3550): 20 ms packets out on a shared clock, packets in with statistics.

Receive statistics follow RFC 3550 appendix A: loss from the extended highest sequence number, and the
interarrival jitter estimate J += (|D| - J) / 16 in timestamp units, reported in milliseconds.
"""

from __future__ import annotations

import asyncio
import collections
import secrets
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tui.sandbox.sip import g711

if TYPE_CHECKING:
    from tui.sandbox.sip.srtp import SrtpCall

SAMPLE_RATE = 8000
FRAME_SAMPLES = 160
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
MAX_QUEUED_FRAMES = 50 * 600  # ten minutes of audio per leg
_HEADER = struct.Struct("!BBHII")


class RtpStats:
    def __init__(self) -> None:
        self.sent = 0
        self.received = 0
        self.bad = 0
        self._base_seq: int | None = None
        self._max_seq = 0
        self._cycles = 0
        self._transit: float | None = None
        self.jitter = 0.0  # timestamp units
        self.jitter_samples: collections.deque[float] = collections.deque(maxlen=3000)

    def on_packet(self, seq: int, timestamp: int, arrival: float) -> None:
        self.received += 1
        if self._base_seq is None:
            self._base_seq = seq
            self._max_seq = seq
        else:
            delta = (seq - self._max_seq) & 0xFFFF
            if 0 < delta < 0x8000:
                if seq < self._max_seq:
                    self._cycles += 1 << 16
                self._max_seq = seq
        transit = arrival * SAMPLE_RATE - timestamp
        if self._transit is not None:
            d = abs(transit - self._transit)
            if d < SAMPLE_RATE * 10:  # ignore a timestamp jump (a new talkspurt source)
                self.jitter += (d - self.jitter) / 16.0
                self.jitter_samples.append(self.jitter_ms)
        self._transit = transit

    @property
    def expected(self) -> int:
        if self._base_seq is None:
            return 0
        return self._cycles + self._max_seq - self._base_seq + 1

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.received)

    @property
    def jitter_ms(self) -> float:
        return self.jitter * 1000.0 / SAMPLE_RATE

    def summary(self) -> dict[str, Any]:
        return {
            "packets_sent": self.sent,
            "packets_received": self.received,
            "packets_lost": self.lost,
            "packets_bad": self.bad,
            "jitter_ms": round(self.jitter_ms, 3),
        }


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, session: RtpSession) -> None:
        self.session = session

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.session.received(data, (str(addr[0]), int(addr[1])))


class RtpSession:
    """One RTP stream pair. ``on_audio`` gets each inbound G.711 frame (payload, payload type, arrival)."""

    def __init__(self, host: str, on_audio: Callable[[bytes, int, float], None]) -> None:
        self.host = host
        self.port = 0
        self.on_audio = on_audio
        self.remote: tuple[str, int] | None = None
        self.payload_type = 0
        self.sending = True
        self.stats = RtpStats()
        self._transport: asyncio.DatagramTransport | None = None
        self._ssrc = secrets.randbits(32)
        self._seq = secrets.randbits(16)
        self._timestamp = secrets.randbits(32)
        self._frames: collections.deque[bytes] = collections.deque()
        self._marker = True
        self.energy_out_frames = 0
        self.on_tick: Callable[[float], None] | None = None
        self.srtp: SrtpCall | None = None  # the SRTP transform, applied to every packet out and in

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), local_addr=(self.host, 0))
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._frames.clear()

    @property
    def closed(self) -> bool:
        return self._transport is None or self._transport.is_closing()

    # --- outbound --------------------------------------------------------------------------------

    def play(self, payload: bytes) -> float:
        """Queue encoded audio after what is queued; returns the seconds until it has all been sent."""
        for start in range(0, len(payload), FRAME_SAMPLES):
            if len(self._frames) >= MAX_QUEUED_FRAMES:
                break
            frame = payload[start : start + FRAME_SAMPLES]
            if len(frame) < FRAME_SAMPLES:
                frame += g711.silence(self.payload_type, FRAME_SAMPLES - len(frame))
            self._frames.append(frame)
        return len(self._frames) * FRAME_SECONDS

    def stop_playback(self) -> None:
        self._frames.clear()

    @property
    def playing(self) -> bool:
        return bool(self._frames)

    def tick(self) -> None:
        """Send the next 20 ms (queued audio, else silence); called by the shared media clock."""
        if self._transport is None or self._transport.is_closing():
            return
        if self.on_tick is not None:
            self.on_tick(asyncio.get_running_loop().time())
        if self.remote is None:
            return
        payload = self._frames.popleft() if self._frames else None
        if not self.sending:
            # On hold (the phone's SDP says sendonly/inactive): nothing is sent, time still passes.
            self._timestamp = (self._timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
            self._marker = True
            return
        if payload is None:
            payload = g711.silence(self.payload_type, FRAME_SAMPLES)
            marker = False
            self._marker = True
        else:
            marker = self._marker
            self._marker = False
            self.energy_out_frames += 1
        header = _HEADER.pack(0x80, (0x80 if marker else 0) | self.payload_type, self._seq, self._timestamp, self._ssrc)
        packet = header + payload
        if self.srtp is not None:
            packet = self.srtp.protect(packet) or b""  # nothing to send before the keys are agreed
        if packet:
            self._transport.sendto(packet, self.remote)
        self._seq = (self._seq + 1) & 0xFFFF
        self._timestamp = (self._timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
        self.stats.sent += 1

    # --- inbound ---------------------------------------------------------------------------------

    def received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.srtp is not None:
            plain = self.srtp.unprotect(data)
            if plain is None:
                return  # failed authentication or replay check: counted by the transform
            data = plain
        if len(data) < 12 or len(data) > 1500 or data[0] >> 6 != 2:
            self.stats.bad += 1
            return
        first, second, seq, timestamp, _ = _HEADER.unpack_from(data)
        offset = 12 + 4 * (first & 0x0F)
        if first & 0x10:
            if len(data) < offset + 4:
                self.stats.bad += 1
                return
            offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
        end = len(data)
        if first & 0x20 and end > offset:
            end -= data[-1]
        payload_type = second & 0x7F
        if payload_type not in g711.CODECS:
            return  # telephone-event and comfort noise carry no speech for us
        if offset > end:
            self.stats.bad += 1
            return
        arrival = asyncio.get_running_loop().time()
        self.stats.on_packet(seq, timestamp, arrival)
        self.on_audio(data[offset:end], payload_type, arrival)


class MediaClock:
    """One 20 ms ticker for every leg: absolute deadlines, so pacing never drifts; lateness is recorded."""

    def __init__(self) -> None:
        self.sessions: set[RtpSession] = set()
        self._task: asyncio.Task[None] | None = None
        self.lateness_ms: collections.deque[float] = collections.deque(maxlen=20000)

    def add(self, session: RtpSession) -> None:
        self.sessions.add(session)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="tui.sandbox.sip.media")

    def discard(self, session: RtpSession) -> None:
        self.sessions.discard(session)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while self.sessions:
            for session in list(self.sessions):
                if session.closed:
                    self.sessions.discard(session)
                else:
                    session.tick()
            deadline += FRAME_SECONDS
            now = loop.time()
            if now - deadline > 0.2:
                deadline = now  # after a long stall start afresh rather than sending a burst
            await asyncio.sleep(max(0.0, deadline - now))
            self.lateness_ms.append(max(0.0, (loop.time() - deadline) * 1000.0))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.sessions.clear()
