"""The transcript view follows a TranscriptBook exactly through its change ops, bounded and in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from tui.session.says import SayItem
from tui.session.transcript import TranscriptBook, TranscriptChange
from tui.ui.clock import UiClock
from tui.ui.widgets.transcript_view import TranscriptView

T0 = datetime(2026, 2, 21, 10, 5, 0, tzinfo=UTC)

op = st.one_of(
    st.tuples(st.just("final"), st.integers(0, 40), st.sampled_from(["in", "out"]), st.integers(0, 120)),
    st.tuples(st.just("interim"), st.integers(0, 40), st.sampled_from(["in", "out"]), st.integers(0, 120)),
    st.tuples(st.just("clear"), st.integers(0, 40), st.sampled_from(["in", "out"]), st.integers(0, 120)),
    st.tuples(st.just("say"), st.integers(0, 40), st.just("out"), st.integers(0, 120)),
    st.tuples(st.just("update"), st.integers(0, 40), st.just("out"), st.integers(0, 120)),
)


def run_op(book: TranscriptBook, kind: str, n: int, direction: str, seconds: int) -> list[TranscriptChange]:
    at = T0 + timedelta(seconds=seconds)
    if kind == "final":
        return book.add_transcript(
            transcript_id=f"t{n}", transcribe_id="tr", direction=direction, text=f"final {n}", at=at
        )
    if kind == "interim":
        return book.set_interim(transcribe_id="tr", direction=direction, text=f"partial {n}", at=at)
    if kind == "clear":
        return book.clear_interim(transcribe_id="tr", direction=direction)
    if kind == "say":
        return book.add_line(key=f"s:{n}", kind="say", text=f"say {n}", at=at, direction="out")
    return book.update_line(f"s:{n}", text=f"say {n} again")


def check(view: TranscriptView, book: TranscriptBook, view_max: int, never_trimmed: bool) -> None:
    shown, all_lines = view.lines, book.lines
    assert len(shown) <= view_max
    assert shown == all_lines[len(all_lines) - len(shown) :], "the view shows a tail of the book, in order"
    if never_trimmed:
        assert shown == all_lines
    # A line removed after older ones were trimmed away is not replaced (they are gone from the view),
    # so the tail can be one line short per such removal, never more.
    assert len(shown) >= min(len(all_lines), view_max) - view.removed_after_trim


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(op, max_size=120), book_max=st.integers(5, 60), view_max=st.integers(3, 80), batch=st.integers(1, 7)
)
def test_view_follows_the_book_through_its_ops(
    ops: list[tuple[str, int, str, int]], book_max: int, view_max: int, batch: int
) -> None:
    book = TranscriptBook(max_lines=book_max)
    view = TranscriptView(max_lines=view_max)
    pending: list[TranscriptChange] = []
    longest = 0
    for i, (kind, n, direction, seconds) in enumerate(ops):
        pending.extend(run_op(book, kind, n, direction, seconds))
        longest = max(longest, len(book) + book.evicted)
        if i % batch == 0:
            view.apply(pending)
            pending = []
            check(view, book, view_max, longest <= view_max)
    view.apply(pending)
    check(view, book, view_max, longest <= view_max)
    assert view.resyncs == 0, "the ops alone were enough"


def test_an_inconsistent_op_falls_back_to_the_book() -> None:
    book = TranscriptBook()
    view = TranscriptView(max_lines=100)
    view.source = lambda: book.lines
    view.apply(book.add_transcript(transcript_id="a", transcribe_id="tr", direction="in", text="a", at=T0))
    # A change the view never saw the insert of.
    missed = book.add_transcript(
        transcript_id="b", transcribe_id="tr", direction="in", text="b", at=T0 + timedelta(seconds=1)
    )
    assert missed
    view.apply(book.update_line("t:b", text="b2"))
    assert view.resyncs == 1
    assert view.lines == book.lines


class ViewApp(App[None]):
    def __init__(self, view: TranscriptView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield self.view


def say_item(state: str, **fields: Any) -> SayItem:
    item = SayItem(id="say-1", text="Hello there", state=state)  # type: ignore[arg-type]
    for key, value in fields.items():
        setattr(item, key, value)
    return item


def following(view: TranscriptView) -> bool:
    """Read afresh: after ``assert view.following`` mypy would hold the attribute narrowed to True."""
    return view.following


async def test_rendering_wraps_marks_and_follows() -> None:
    book = TranscriptBook()
    view = TranscriptView(max_lines=50, clock=UiClock.frozen())
    app = ViewApp(view)
    async with app.run_test(size=(80, 10)) as pilot:
        view.apply(
            book.add_transcript(
                transcript_id="g",
                transcribe_id="tr",
                direction="out",
                text="Hello. This is the VoIPBIN real-time voice interaction test. " * 2,
                at=T0,
            )
        )
        view.apply(book.set_interim(transcribe_id="tr", direction="in", text="hi this", at=T0 + timedelta(seconds=2)))
        item = say_item(
            "failed", error="the speaking stream is stopped", hint="/speak, then /resend", request_id="req_1"
        )
        view.apply(
            book.add_line(
                key="s:say-1",
                kind="say",
                text=item.text,
                direction="out",
                at=T0 + timedelta(seconds=3),
                meta={"say": item},
            )
        )
        view.apply(book.add_line(key="g:1", kind="gap", text="connection lost for 2.0s", at=T0 + timedelta(seconds=4)))
        await pilot.pause()
        rows = [r.rstrip() for r in view.plain_rows()]
        assert rows[0].startswith("10:05:00 out Hello. This is the VoIPBIN")
        assert all(len(r) <= view.scrollable_content_region.width for r in rows)
        assert rows[1].startswith(" " * 13), "wrapped rows align under the text"
        assert any(r.startswith("10:05:02 in  hi this …") for r in rows), "interim text is marked"
        assert any("SAY Hello there  [failed]" in r for r in rows)
        assert any("✗ the speaking stream is stopped (request req_1)" in r for r in rows)
        assert any("hint: /speak, then /resend" in r for r in rows)
        assert any("━━ connection lost for 2.0s" in r for r in rows)

        # The say line changes state without a book change: touch() redraws it.
        item.state = "heard"
        item.sent_mono, item.heard_mono = 1.0, 1.25
        view.touch("s:say-1")
        await pilot.pause()
        assert any("[heard 250 ms]" in r for r in view.plain_rows())

        # Following: the newest line is on screen; scrolled up, new lines are counted instead.
        for i in range(30):
            view.apply(
                book.add_transcript(
                    transcript_id=f"x{i}",
                    transcribe_id="tr",
                    direction="in",
                    text=f"line {i}",
                    at=T0 + timedelta(seconds=10 + i),
                )
            )
        await pilot.pause()
        assert view.following
        assert view.scroll_y == view.max_scroll_y
        view.scroll_to(y=0, animate=False)
        await pilot.pause()
        assert not following(view)
        for i in range(3):
            view.apply(
                book.add_transcript(
                    transcript_id=f"y{i}",
                    transcribe_id="tr",
                    direction="in",
                    text=f"late {i}",
                    at=T0 + timedelta(seconds=100 + i),
                )
            )
        await pilot.pause()
        assert view.unseen == 3
        assert view.scroll_y == 0, "reading position is kept"
        last_row = view.render_line(view.scrollable_content_region.height - 1).text
        assert "3 new ↓" in last_row
        view.follow()
        await pilot.pause()
        assert view.unseen == 0
        assert view.scroll_y == view.max_scroll_y


async def test_the_view_is_bounded() -> None:
    book = TranscriptBook(max_lines=100_000)
    view = TranscriptView(max_lines=200, clock=UiClock.frozen())
    app = ViewApp(view)
    async with app.run_test(size=(80, 20)) as pilot:
        for i in range(3000):
            view.apply(
                book.add_transcript(
                    transcript_id=f"t{i}",
                    transcribe_id="tr",
                    direction="in",
                    text=f"line {i}",
                    at=T0 + timedelta(milliseconds=i),
                )
            )
        await pilot.pause()
        assert len(view) == 200
        assert view.lines[-1].text == "line 2999"
        assert view.lines[0].text == "line 2800"
        assert view.total_rows == 200
        assert view.resyncs == 0


async def test_incremental_layout_matches_a_full_layout() -> None:
    """Random ops with a layout after each batch: the kept offsets always equal a from-scratch count."""
    import random

    rng = random.Random(5)
    book = TranscriptBook(max_lines=400)
    view = TranscriptView(max_lines=60, clock=UiClock.frozen())
    app = ViewApp(view)
    async with app.run_test(size=(50, 12)) as pilot:
        for step in range(400):
            kind = rng.choice(["final", "final", "interim", "clear", "say", "update"])
            n = rng.randrange(300)
            text_len = rng.randrange(1, 4)
            changes = run_op(book, kind, n, rng.choice(["in", "out"]), rng.randrange(200))
            if kind == "final" and changes and text_len > 1:
                # Long lines wrap onto several rows, so entry heights differ.
                line = changes[-1].line
                line.text = " ".join(["words"] * 12 * text_len)
            view.apply(changes)
            if step % rng.randrange(1, 6) == 0:
                view._flush()  # the layout a frame would do
                # A full recount: draw every entry afresh (most are not kept drawn) and count its rows.
                heights = [len(view._render_entry(e.line, e.width)) for e in view._entries]
                assert [e.rows for e in view._entries] == heights
                assert view.total_rows == sum(heights)
                assert view._offsets[-1] - view._offsets[0] == sum(heights)
                assert view.lines == book.lines[len(book.lines) - len(view) :]
        await pilot.pause()
        assert view.resyncs == 0


async def test_rows_reused_while_following_match_a_fresh_draw() -> None:
    """The rows kept between frames (row_cache) are exactly what drawing the screen afresh gives: while
    lines arrive and scroll, an interim line is rewritten, and old lines are trimmed off the top."""
    from textual.geometry import Region

    book = TranscriptBook(max_lines=1000)
    view = TranscriptView(max_lines=40, clock=UiClock.frozen())
    app = ViewApp(view)
    async with app.run_test(size=(60, 12)) as pilot:
        for i in range(90):
            changes = book.add_transcript(
                transcript_id=f"t{i}", transcribe_id="tr", direction="in", text=f"line {i} " * (1 + i % 9), at=T0
            )
            if i % 4 == 0:
                changes += book.set_interim(transcribe_id="tr", direction="out", text=f"partial {i}", at=T0)
            view.apply(changes)
            await pilot.pause()
            crop = Region(0, 0, view.size.width, view.size.height)
            kept = [strip.text for strip in view.render_lines(crop)]
            view._shown.clear()
            view._styles_cache.clear()
            fresh = [strip.text for strip in view.render_lines(crop)]
            assert kept == fresh, f"after line {i}"
        assert len(view._shown) <= view.size.height, "only the rows on screen are kept"


async def test_rows_read_in_the_turn_of_a_write_include_it() -> None:
    """A copy or check made right after a line arrives sees that line, not the screen of one turn ago."""
    book = TranscriptBook()
    view = TranscriptView(max_lines=50, clock=UiClock.frozen())
    app = ViewApp(view)
    async with app.run_test(size=(80, 10)) as pilot:
        view.apply(book.add_line(key="s:1", kind="say", text="first line", direction="out", at=T0))
        await pilot.pause()
        view.apply(book.add_line(key="g:1", kind="gap", text="connection lost for 2.0s", at=T0))
        # No pause: the flush scheduled by this write has not run yet.
        rows = view.plain_rows()
        assert any("connection lost for 2.0s" in r for r in rows), rows
        assert any("first line" in r for r in rows)
        assert view.total_rows == len(rows), "the layout agrees with the rows read"
