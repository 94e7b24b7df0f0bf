"""Receive-side RTP statistics as RFC 3550 defines them: packets, loss, interarrival jitter."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RtpSnapshot:
    """What one direction of a call's RTP looked like so far."""

    packets: int
    lost: int
    jitter_ms: float

    @property
    def loss_pct(self) -> float:
        expected = self.packets + self.lost
        return round(100.0 * self.lost / expected, 2) if expected else 0.0


class RtpReceiveStats:
    """Feed it (sequence number, RTP timestamp, arrival time) of each received packet."""

    def __init__(self, clock_rate: int = 8000) -> None:
        self.clock_rate = clock_rate
        self.packets = 0
        self._base_seq: int | None = None
        self._max_ext_seq = 0
        self._cycles = 0
        self._last_transit: float | None = None
        self._jitter = 0.0  # in timestamp units, as RFC 3550 keeps it

    def add(self, seq: int, timestamp: int, arrival: float) -> None:
        self.packets += 1
        if self._base_seq is None:
            self._base_seq = seq
            self._max_ext_seq = seq
        else:
            ext = self._cycles + seq
            # A sequence far below the highest seen is a wrap of the 16-bit counter.
            if ext < self._max_ext_seq - 0x8000:
                self._cycles += 0x10000
                ext += 0x10000
            self._max_ext_seq = max(self._max_ext_seq, ext)
        transit = arrival * self.clock_rate - timestamp
        if self._last_transit is not None:
            delta = abs(transit - self._last_transit)
            self._jitter += (delta - self._jitter) / 16.0
        self._last_transit = transit

    def snapshot(self) -> RtpSnapshot:
        if self._base_seq is None:
            return RtpSnapshot(0, 0, 0.0)
        expected = self._max_ext_seq - self._base_seq + 1
        return RtpSnapshot(
            packets=self.packets,
            lost=max(0, expected - self.packets),
            jitter_ms=round(1000.0 * self._jitter / self.clock_rate, 2),
        )
