from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui.session.transcript import TranscriptBook, TranscriptChange

T0 = datetime(2026, 2, 21, 10, 5, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def add(
    book: TranscriptBook, tid: str, seconds: float, direction: str = "in", text: str = "x"
) -> list[TranscriptChange]:
    return book.add_transcript(transcript_id=tid, transcribe_id="tr1", direction=direction, text=text, at=at(seconds))


def test_orders_by_time_not_arrival() -> None:
    book = TranscriptBook()
    add(book, "b", 2.0, text="second")
    changes = add(book, "a", 1.0, text="first")
    assert [c.op for c in changes] == ["insert"]
    assert changes[0].index == 0
    assert [ln.text for ln in book] == ["first", "second"]


def test_duplicate_ids_are_ignored() -> None:
    book = TranscriptBook()
    assert add(book, "a", 1.0)
    assert add(book, "a", 1.0) == []
    assert len(book) == 1
    assert book.final_count["in"] == 1


def test_interim_is_replaced_by_final() -> None:
    book = TranscriptBook()
    book.set_interim(transcribe_id="tr1", direction="in", text="Hi, this", at=at(1.0))
    upd = book.set_interim(transcribe_id="tr1", direction="in", text="Hi, this is", at=at(1.2))
    assert [c.op for c in upd] == ["update"]
    assert [ln.kind for ln in book] == ["interim"]
    changes = add(book, "f1", 1.5, text="Hi, this is a test.")
    assert [c.op for c in changes] == ["remove", "insert"]
    assert [(ln.kind, ln.text) for ln in book] == [("transcript", "Hi, this is a test.")]


def test_interims_per_direction_are_independent() -> None:
    book = TranscriptBook()
    book.set_interim(transcribe_id="tr1", direction="in", text="caller", at=at(1.0))
    book.set_interim(transcribe_id="tr1", direction="out", text="greeting", at=at(0.5))
    add(book, "o1", 2.0, direction="out", text="Hello.")
    assert [(ln.kind, ln.direction) for ln in book] == [("interim", "in"), ("transcript", "out")]


def test_bounded_with_eviction_reported() -> None:
    book = TranscriptBook(max_lines=3)
    for i in range(5):
        changes = add(book, f"t{i}", float(i))
    assert len(book) == 3
    assert book.evicted == 2
    assert [c.op for c in changes] == ["insert", "remove"]
    # An evicted id is still remembered: a late duplicate does not come back.
    assert add(book, "t0", 0.0) == []


def test_say_lines_and_updates() -> None:
    book = TranscriptBook()
    book.add_line(key="s:say-1", kind="say", text="hello", at=at(1.0), meta={"state": "queued"})
    changes = book.update_line("s:say-1", meta={"state": "sent"})
    assert changes[0].op == "update"
    assert book.get("s:say-1").meta["state"] == "sent"  # type: ignore[union-attr]
    assert book.update_line("nope") == []
