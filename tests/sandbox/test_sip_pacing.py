"""What keeps the sandbox's RTP on time with many calls: the shared media clock and work kept off its path.

The clock's deadlines are absolute (a slow pass does not push every later packet back), the same greeting
asked for by many calls at once is synthesised once, and the audio work that does run on the event loop
(G.711 decoding when a segment ends, rendering text in slices) is small per step. Timing is checked as
counts against elapsed time and as CPU time of a step, so a loaded machine does not fail them.
"""

from __future__ import annotations

import array
import asyncio
import time

import pytest

from tui.sandbox.sip import g711, voice
from tui.sandbox.sip.rtp import FRAME_SECONDS, MediaClock, RtpSession


class SlowLeg(RtpSession):
    """A leg whose every tick costs ``cost`` seconds of CPU (a leg doing too much work per packet)."""

    def __init__(self, cost: float) -> None:
        super().__init__("127.0.0.1", lambda _payload, _pt, _at: None)
        self.cost = cost
        self.ticks: list[float] = []

    def tick(self) -> None:
        now = asyncio.get_running_loop().time()
        self.ticks.append(now)
        end = time.perf_counter() + self.cost
        while time.perf_counter() < end:
            pass
        super().tick()


async def test_media_clock_deadlines_are_absolute_so_slow_passes_do_not_drift() -> None:
    # Each pass costs 6 ms on top of the 20 ms: a clock that slept 20 ms after each pass would fall back
    # 6 ms a packet (about 39 packets a second instead of 50); absolute deadlines keep 50 a second.
    clock = MediaClock()
    leg = SlowLeg(0.006)
    await leg.open()
    try:
        clock.add(leg)
        await asyncio.sleep(1.5)
        clock.stop()
        gaps = sorted(b - a for a, b in zip(leg.ticks, leg.ticks[1:], strict=False))
        assert len(gaps) >= 40
        # The median gap, so a stall of the machine (and the quick catch-up after it) does not count.
        assert gaps[len(gaps) // 2] < FRAME_SECONDS + 0.0025
        # and it never runs ahead of its schedule: no deadline comes early
        start = leg.ticks[0]
        assert all(at >= start + n * FRAME_SECONDS - 0.002 for n, at in enumerate(leg.ticks))
    finally:
        clock.stop()
        leg.close()


async def test_media_clock_sends_every_leg_each_pass_even_beside_a_slow_one() -> None:
    clock = MediaClock()
    slow = SlowLeg(0.004)
    quick = [SlowLeg(0.0) for _ in range(3)]
    for leg in (slow, *quick):
        await leg.open()
        clock.add(leg)
    try:
        await asyncio.sleep(1.0)
        clock.stop()
        counts = {len(leg.ticks) for leg in (slow, *quick)}
        assert max(counts) - min(counts) <= 1
        assert min(counts) >= 0.5 / FRAME_SECONDS
    finally:
        clock.stop()
        for leg in (slow, *quick):
            leg.close()


async def test_the_same_text_asked_for_at_once_is_synthesised_once(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    tone = voice.tone_for_text

    def counting(text: str, seconds: float) -> array.array[int]:
        made.append(text)
        return tone(text, seconds)

    monkeypatch.setattr(voice, "tone_for_text", counting)
    text = f"Fifty calls, one greeting {time.monotonic_ns()}."
    first = asyncio.ensure_future(voice.render(text, 3.0, use_tts=False, payload_type=0))
    others = [asyncio.ensure_future(voice.render(text, 3.0, use_tts=False, payload_type=0)) for _ in range(20)]
    await asyncio.sleep(0)
    first.cancel()  # the call that asked first hangs up: the others still get their audio
    results = await asyncio.gather(*others)
    assert made == [text]
    assert all(payload == results[0][0] and kind == "tone" for payload, kind in results)
    assert len(results[0][0]) >= 2.5 * 8000
    assert first.cancelled()
    assert await voice.render(text, 3.0, use_tts=False, payload_type=0) == results[0]
    assert made == [text]


async def test_rendering_a_long_text_holds_the_loop_briefly_at_a_time() -> None:
    # Thirty seconds of audio are resampled and encoded on the loop, a slice at a time; between slices
    # the packets of every call go out. CPU time per step, so a busy machine does not fail it.
    text = " ".join(["word"] * 200) + f" {time.monotonic_ns()}"
    steps: list[float] = []
    done = asyncio.Event()

    async def watch() -> None:
        last = time.thread_time()
        while not done.is_set():
            await asyncio.sleep(0)
            now = time.thread_time()
            steps.append(now - last)
            last = now

    watcher = asyncio.ensure_future(watch())
    payload, _ = await voice.render(text, 30.0, use_tts=False, payload_type=0)
    done.set()
    await watcher
    assert len(payload) >= 29 * 8000
    assert len(steps) >= 100
    assert max(steps) < 0.015


@pytest.mark.parametrize("payload_type", [0, 8])
def test_g711_decode_by_table_matches_every_code(payload_type: int) -> None:
    table = g711.CODECS[payload_type][2]
    codes = bytes(range(256)) * 3
    assert g711.decode(codes, payload_type).tolist() == [table[code] for code in codes]
    assert g711.decode(b"", payload_type).tolist() == []
