"""The folded search index finds exactly what the plain line-by-line search finds, in both directions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from tui.session.transcript import TranscriptLine, find_line
from tui.session.transcript_search import BLOCK, FoldedIndex

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WORDS = ["alpha", "Beta", "gamma", "STRASSE", "straße", "delta\nnewline", "épée", "x"]


def lines(count: int, seed: int) -> list[TranscriptLine]:
    rnd = random.Random(seed)
    return [
        TranscriptLine(f"k{i}", "transcript", "in", " ".join(rnd.choices(WORDS, k=3)), T0 + timedelta(seconds=i), i)
        for i in range(count)
    ]


def test_same_answers_as_the_plain_search_across_blocks_and_a_trimmed_front() -> None:
    rnd = random.Random(7)
    for count, base in ((BLOCK * 3 + 17, 0), (BLOCK * 2 + 5, BLOCK // 2 + 3), (10, 0), (1, 0)):
        window = lines(count, count)
        index = FoldedIndex()
        for query in ("gamma", "strasse", "ÉPÉE", "beta gamma", "zzz", "x"):
            for _ in range(25):
                start = rnd.randrange(-1, count + 1)
                for forward in (True, False):
                    expected = find_line(window, query, start, forward=forward)
                    got = index.find(window, base, query, start, forward=forward)
                    assert got == expected, (count, base, query, start, forward)


def test_changed_lines_are_folded_again_and_nothing_else() -> None:
    window = lines(BLOCK * 3, 1)
    index = FoldedIndex()
    assert index.find(window, 0, "needle", -1) is None
    built = index.blocks_built
    window[-1].text = "a needle here"
    index.invalidate_from(len(window) - 1)
    assert index.find(window, 0, "NEEDLE", -1) == len(window) - 1
    assert index.blocks_built == built + 1, "only the last block is folded again"
