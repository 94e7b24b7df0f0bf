from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.session.textsplit import SAY_LIMIT_BYTES, split_for_say, utf8_len


def test_short_text_is_one_piece() -> None:
    assert split_for_say("  Hello there.  ") == ["Hello there."]


def test_blank_text_gives_nothing() -> None:
    assert split_for_say("   \n\t ") == []


def test_limit_is_bytes_not_characters() -> None:
    korean = "안녕하세요 " * 400  # 6 chars per word incl. space, 16 bytes: 2400 chars, 6400 bytes
    pieces = split_for_say(korean)
    assert len(korean) < SAY_LIMIT_BYTES < utf8_len(korean)
    assert len(pieces) == 2
    assert all(utf8_len(p) <= SAY_LIMIT_BYTES for p in pieces)
    assert " ".join(pieces) == korean.strip()


def test_prefers_sentence_boundaries() -> None:
    sentence = "This is sentence number {}. "
    text = "".join(sentence.format(i) for i in range(400))
    pieces = split_for_say(text)
    assert len(pieces) >= 2
    assert all(p.endswith(".") for p in pieces)


def test_one_giant_word_is_cut_without_breaking_characters() -> None:
    word = "가" * 3000  # 9000 bytes, no spaces
    pieces = split_for_say(word, limit=5000)
    assert "".join(pieces) == word
    assert [utf8_len(p) for p in pieces] == [4998, 4002]


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=3000), st.integers(min_value=4, max_value=300))
def test_pieces_fit_and_lose_nothing_but_whitespace(text: str, limit: int) -> None:
    pieces = split_for_say(text, limit=limit)
    assert all(0 < utf8_len(p) <= limit for p in pieces)
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())
