from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.voipbin.samples import voipbin_jwt
from tui.voipbin.redact import REDACTED, RedactingFilter, TextRedactor, redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.voipbin.net/v1.0/calls?accesskey=vb_abcdef123456",
            "https://api.voipbin.net/v1.0/calls?accesskey=***",
        ),
        (
            "wss://api.voipbin.net/v1.0/ws?token=eyJhbGciOi.eyJ4IjoxfQ.sig&x=1",
            "wss://api.voipbin.net/v1.0/ws?token=***&x=1",
        ),
        ("/v1.0/numbers?page_size=10&accesskey=k3y", "/v1.0/numbers?page_size=10&accesskey=***"),
        ("http://h/x?password=hunter22#frag", "http://h/x?password=***#frag"),
        ("http://h/x?ACCESSKEY=abc", "http://h/x?ACCESSKEY=***"),
        ("https://user:pw@host/path", "https://user:***@host/path"),
        # page_token is not a credential
        (
            "https://h/v1.0/calls?page_token=2026-02-21T10:05:00.123456Z",
            "https://h/v1.0/calls?page_token=2026-02-21T10:05:00.123456Z",
        ),
        ("https://h/v1.0/calls", "https://h/v1.0/calls"),
        ("", ""),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redacted_constant() -> None:
    assert REDACTED == "***"


def test_redact_text_known_secrets_and_patterns() -> None:
    jwt = voipbin_jwt()
    text = (
        f"key=mysecretkey and Authorization: Bearer {jwt} and url ws://h/ws?accesskey=vb_zzzzzzzzzz "
        f'and a key vb_AbCdEf123456 and {{"password":"p@ss\\"word"}} done'
    )
    out = redact_text(text, ["mysecretkey", None, ""])
    assert "mysecretkey" not in out
    assert jwt not in out
    assert "vb_zzzzzzzzzz" not in out
    assert "vb_AbCdEf123456" not in out
    assert "p@ss" not in out
    assert out.endswith("done")


def test_redact_text_short_secret_whole_word_only() -> None:
    assert redact_text("a cat and abc", ["abc"]) == "a cat and ***"
    assert redact_text("the xy in xyz", ["xy"]) == "the *** in xyz"


def test_redact_text_longest_first() -> None:
    assert redact_text("secret-long", ["secret", "secret-long"]) == "***"


def test_redacting_filter_rewrites_records(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tests.voipbin.redact-filter")
    log.addFilter(RedactingFilter(lambda: ["topsecretvalue"]))
    with caplog.at_level(logging.INFO, logger="tests.voipbin.redact-filter"):
        log.info("GET %s with %s", "https://h/v1.0/x?accesskey=vb_1234567890", "topsecretvalue")
    assert caplog.records
    message = caplog.records[-1].getMessage()
    assert "vb_1234567890" not in message
    assert "topsecretvalue" not in message
    assert "accesskey=***" in message


PIECES = [*'ab=@"_vbeyJBearer .:/xyz12', "vb_", "eyJ", "Bearer ", "vb_abcdef1", "token="]


@settings(max_examples=400, deadline=None)
@given(
    text=st.lists(st.sampled_from(PIECES), max_size=30).map("".join),
    secrets=st.lists(st.text(alphabet="abxyz12=@_", min_size=1, max_size=8), max_size=3),
)
def test_text_redactor_matches_redact_text(text: str, secrets: list[str]) -> None:
    # The record's fast redactor must give exactly what redact_text gives, fast path or not.
    redactor = TextRedactor(secrets)
    assert redactor(text) == redact_text(text, secrets)
    assert redactor.key(text) == redact_text(text, secrets)


def test_text_redactor_key_memo_is_bounded() -> None:
    redactor = TextRedactor(["s3cretpass"])
    for n in range(TextRedactor.KEY_MEMO * 3):
        assert redactor.key(f"field{n}") == f"field{n}"
    assert redactor.key("x s3cretpass y") == "x *** y"
    assert len(redactor._keys) <= TextRedactor.KEY_MEMO
