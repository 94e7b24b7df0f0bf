"""``search_100k_lines_ms``: find the next match in a 100 000-line transcript, as the console does it.

A headless app holds one ``TranscriptView`` (the console's own widget) with every line kept. The query
occurs in three lines only, so each "next" scans about a third of the transcript, and a line arrives
between two searches (as in a live call), so each search first re-folds what changed. The figure is the
p95 of the time from the key's action to the screen drawing the view again with the cursor on the match
(a probe on ``render_line``, as for the other latency keys).
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from textual.app import App, ComposeResult
from textual.strip import Strip

from tui.session.transcript import TranscriptBook
from tui.ui.widgets.transcript_view import TranscriptView

_SENTENCE = (
    "hello this is the voipbin real time voice interaction test you can speak now and your speech will be "
    "transcribed the call will stay open for you to test the speaking api thanks"
)
WORDS = tuple(_SENTENCE.split())


class _SearchApp(App[None]):
    def __init__(self, lines: int) -> None:
        super().__init__()
        self.view = TranscriptView(max_lines=lines, id="transcript")

    def compose(self) -> ComposeResult:
        yield self.view


async def measure_search(lines: int = 100_000, finds: int = 30) -> dict[str, Any]:
    rnd = random.Random(5)
    book = TranscriptBook(max_lines=lines + finds + 10)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    marked = {lines // 6, lines // 2, (5 * lines) // 6}
    for i in range(lines):
        text = " ".join(rnd.choices(WORDS, k=12)) + (" ZEBRA crossing" if i in marked else "")
        book.add_transcript(
            transcript_id=f"t{i}",
            transcribe_id="tr",
            direction="in" if i % 2 else "out",
            text=text,
            at=t0 + timedelta(seconds=i),
        )
    app = _SearchApp(lines + finds + 10)
    timings: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.view
        drawn: list[float] = []
        painted = asyncio.Event()
        render_line = view.render_line

        def probe(y: int) -> Strip:
            drawn.append(time.perf_counter())
            painted.set()
            return render_line(y)

        view.render_line = probe  # type: ignore[method-assign]
        started = time.perf_counter()
        view.reset(book.lines)
        await pilot.pause()
        laid_out_s = time.perf_counter() - started
        first = time.perf_counter()
        assert view.find("zebra", forward=True) is not None
        await pilot.pause()
        first_ms = (time.perf_counter() - first) * 1000
        for n in range(finds):
            view.apply(
                book.add_transcript(
                    transcript_id=f"live{n}",
                    transcribe_id="tr",
                    direction="in",
                    text=" ".join(rnd.choices(WORDS, k=12)),
                    at=t0 + timedelta(seconds=lines + n),
                )
            )
            await pilot.pause()
            painted.clear()
            begin = time.perf_counter()
            found = view.find(forward=True)
            # Until the screen draws the view again: the match is then on screen.
            await asyncio.wait_for(painted.wait(), 10)
            timings.append((next(t for t in drawn if t >= begin) - begin) * 1000)
            await pilot.pause()
            assert found is not None
            assert "ZEBRA" in found.text
    ordered = sorted(timings)
    return {
        "lines": lines,
        "finds": finds,
        "p50_ms": ordered[len(ordered) // 2],
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * len(ordered)))],
        "max_ms": ordered[-1],
        "first_find_ms": first_ms,
        "layout_s": laid_out_s,
    }
