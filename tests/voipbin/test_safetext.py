"""The one rule for remote text: controls, bidi and invisible format characters become visible escapes."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hostile.corpus import CORPUS, RAW_MARKERS, big_line
from tui.voipbin.safetext import escape_char, is_safe, safe_json_text, safe_line, safe_text

UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def unsafe_chars(text: str, *, tabs: bool = False, newlines: bool = False) -> list[str]:
    allowed = ("\t" if tabs else "") + ("\n" if newlines else "")
    return [c for c in text if unicodedata.category(c) in UNSAFE_CATEGORIES and c not in allowed]


def test_every_control_and_format_character_of_this_python_is_escaped() -> None:
    missing = [
        hex(code)
        for code in range(0x110000)
        if unicodedata.category(chr(code)) in UNSAFE_CATEGORIES and is_safe(chr(code))
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]52;c;QQ==\x07", "\\x1b]52;c;QQ==\\x07"),
        ("a\x00b", "a\\x00b"),
        ("\x9b2J", "\\x9b2J"),
        ("x\x7f", "x\\x7f"),
        ("r\rn\nt\t", "r\\x0dn\\x0at\\x09"),
        ("\u202eevil", "\\u202eevil"),
        ("z\u200bw", "z\\u200bw"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("plain words, ünïcode, 日本語 and [markup]", "plain words, ünïcode, 日本語 and [markup]"),
    ],
)
def test_escapes_are_visible_and_documented(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_tabs_and_newlines_survive_only_when_the_format_allows_them() -> None:
    text = "a\tb\nc\rd"
    assert safe_text(text, tabs=True, newlines=True) == "a\tb\nc\\x0dd"
    assert safe_text(text, newlines=True) == "a\\x09b\nc\\x0dd"
    assert safe_line(text) == "a\\x09b\\x0ac\\x0dd"


def test_limit_cuts_with_a_visible_count_of_what_was_left_out() -> None:
    assert safe_text("x" * 50, limit=10) == "x" * 10 + "… (40 more chars)"
    assert safe_text("short", limit=10) == "short"
    # Escapes count at their shown width and are never cut in half.
    cut = safe_text("ab\x1bcdef", limit=5)
    assert cut == "ab… (5 more chars)"
    assert safe_text("ab\x1bcdef", limit=6) == "ab\\x1b… (4 more chars)"


def test_the_corpus_comes_out_without_a_raw_marker() -> None:
    for name, text in CORPUS.items():
        shown = safe_line(text)
        assert not [m for m in RAW_MARKERS if m in shown], name
        assert unsafe_chars(shown) == [], name


def test_a_megabyte_line_is_capped_and_clean() -> None:
    line = big_line()
    shown = safe_line(line, limit=10_000)
    assert len(shown) < 10_100
    assert shown.endswith("more chars)")
    assert "\x1b" not in shown


@settings(max_examples=300, deadline=None)
@given(st.text(), st.booleans(), st.booleans())
def test_output_never_contains_a_control_or_format_character(text: str, tabs: bool, newlines: bool) -> None:
    shown = safe_text(text, tabs=tabs, newlines=newlines)
    assert unsafe_chars(shown, tabs=tabs, newlines=newlines) == []
    assert safe_text(shown, tabs=tabs, newlines=newlines) == shown  # idempotent
    if is_safe(text, tabs=tabs, newlines=newlines):
        assert shown == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=200), st.integers(min_value=0, max_value=60))
def test_limit_is_kept_and_counts_the_rest(text: str, limit: int) -> None:
    shown = safe_text(text, limit=limit)
    assert unsafe_chars(shown) == []
    if shown == safe_text(text):
        assert len(shown) <= max(limit, len(shown))
    else:
        head, _, tail = shown.rpartition("… (")
        assert len(head) <= limit
        more = int(tail.removesuffix(" more chars)"))
        assert 0 < more <= len(text)
        # What is shown is the escaped form of exactly the characters not counted as left out.
        assert head == safe_text(text[: len(text) - more])


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.text() | st.integers() | st.none(),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(), c, max_size=4),
        max_leaves=8,
    )
)
def test_json_stays_the_same_document_with_no_raw_control(value: object) -> None:
    text = json.dumps(value, ensure_ascii=False)
    safe = safe_json_text(text)
    assert json.loads(safe) == value
    assert unsafe_chars(safe, tabs=True, newlines=True) == []


def test_escape_char_forms() -> None:
    assert escape_char("\x1b") == "\\x1b"
    assert escape_char("\u2066") == "\\u2066"
    assert escape_char("\U000e007f") == "\\U000e007f"
