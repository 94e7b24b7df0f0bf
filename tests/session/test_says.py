from __future__ import annotations

from tui.session.says import SayItem, SayLedger, normalise, percentile


def sent(ledger: SayLedger, text: str, at: float) -> SayItem:
    (item,) = ledger.add([text])
    item.state = "sent"
    item.sent_mono = at
    return item


def test_out_transcript_marks_the_line_heard_with_latency() -> None:
    ledger = SayLedger()
    item = sent(ledger, "Hello, how are you today?", 10.0)
    matched = ledger.match_transcript("t1", "hello how are you today", 11.25)
    assert matched is item
    assert item.state == "heard"
    assert item.latency_ms == 1250.0


def test_unrelated_transcript_does_not_match() -> None:
    ledger = SayLedger()
    item = sent(ledger, "Hello, how are you today?", 10.0)
    assert ledger.match_transcript("t1", "This is the VoIPBIN greeting", 11.0) is None
    assert item.state == "sent"


def test_a_short_greeting_word_is_not_taken_for_a_said_line() -> None:
    ledger = SayLedger()
    item = sent(ledger, "Hello, how are you today?", 10.0)
    assert ledger.match_transcript("greeting", "Hello.", 10.5) is None
    assert ledger.match_transcript("said", "Hello, how are you today?", 11.0) is item


def test_short_lines_still_match_themselves() -> None:
    ledger = SayLedger()
    item = sent(ledger, "Yes.", 1.0)
    assert ledger.match_transcript("t", "yes", 2.0) is item


def test_transcript_before_the_send_does_not_match() -> None:
    ledger = SayLedger()
    sent(ledger, "Hello there", 10.0)
    assert ledger.match_transcript("t1", "Hello there", 9.0) is None


def test_split_speech_attributes_each_part_to_the_oldest_line() -> None:
    ledger = SayLedger()
    first = sent(ledger, "One two three. Four five six.", 1.0)
    second = sent(ledger, "Seven eight nine.", 1.1)
    assert ledger.match_transcript("a", "One two three.", 2.0) is first
    assert ledger.match_transcript("b", "Four five six.", 2.5) is first
    assert first.coverage > 0.9
    assert ledger.match_transcript("c", "Seven eight nine.", 3.0) is second


def test_korean_normalises() -> None:
    assert normalise("안녕하세요, 반갑습니다!") == "안녕하세요 반갑습니다"


def test_percentile_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50) == 5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == 10


def test_a_flush_cuts_only_what_may_still_be_playing() -> None:
    ledger = SayLedger()
    old = sent(ledger, "An old line, long finished.", 0.0)
    recent = sent(ledger, "A line sent a moment ago that is still being spoken.", 100.0)
    queued_behind = sent(ledger, "And one queued behind it.", 100.1)
    cut = ledger.maybe_playing(101.0)
    assert old not in cut
    assert cut == [recent, queued_behind]
    # What a cut took is not counted again by the next one.
    assert ledger.maybe_playing(101.5) == []
    later = sent(ledger, "Said after the flush.", 102.0)
    assert ledger.maybe_playing(102.5) == [later]


def test_heard_lines_are_not_cut_once_fully_heard() -> None:
    ledger = SayLedger()
    item = sent(ledger, "Hello, how are you today?", 10.0)
    ledger.match_transcript("t", "Hello, how are you today?", 11.0)
    assert item.coverage > 0.9
    assert ledger.maybe_playing(11.5) == []


def test_a_line_still_sending_is_heard_by_a_transcript_read_before_its_answer() -> None:
    # Under load the transcript of a line's audio can be read before the answer to its POST /say: it
    # used to match nothing, and the line stayed "sent" for good.
    ledger = SayLedger()
    (item,) = ledger.add(["Your order has shipped."])
    item.state = "sending"
    item.posted_mono = 10.0
    assert ledger.match_transcript("t1", "Your order has shipped.", 10.4) is item
    assert item.state == "sending"  # the answer to /say is still to come: SpeakingStream makes it heard
    assert item.heard_mono == 10.4
    assert ledger.tally().heard == 1


def test_a_line_still_queued_is_not_heard() -> None:
    ledger = SayLedger()
    (item,) = ledger.add(["Your order has shipped."])
    assert ledger.match_transcript("t1", "Your order has shipped.", 10.4) is None
    assert item.heard_mono is None
