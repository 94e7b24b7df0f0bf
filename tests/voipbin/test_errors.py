from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tui.voipbin.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    VoipbinError,
    error_from_response,
    parse_retry_after,
)

KEY = "vb_SECRETkey123456789"


def envelope(status: str, reason: str, message: str, request_id: str = "req_ABC", **extra: object) -> bytes:
    body: dict[str, object] = {"status": status, "reason": reason, "message": message, "request_id": request_id}
    body.update(extra)
    return json.dumps({"error": body}).encode()


def test_envelope_parsed() -> None:
    err = error_from_response(
        http_status=404,
        body=envelope("NOT_FOUND", "CALL_NOT_FOUND", "The call was not found."),
        headers={"X-Request-Id": "req_HEADER"},
        method="get",
        url=f"https://api.voipbin.net/v1.0/calls/abc?accesskey={KEY}",
        secrets=[KEY],
    )
    assert isinstance(err, NotFoundError)
    assert isinstance(err, VoipbinError)
    assert err.http_status == 404
    assert err.status == "NOT_FOUND"
    assert err.reason == "CALL_NOT_FOUND"
    assert err.message == "The call was not found."
    assert err.request_id == "req_ABC"  # envelope wins over header
    assert err.method == "GET"
    assert KEY not in err.url
    assert "accesskey=***" in err.url
    text = str(err)
    assert text == "GET /v1.0/calls/abc failed (404 CALL_NOT_FOUND): The call was not found. [request_id req_ABC]"
    assert "\n" not in text
    assert KEY not in repr(err)


def test_request_id_from_header_when_no_envelope() -> None:
    err = error_from_response(
        http_status=502,
        body=b"<html><body><h1>502 Bad Gateway</h1>\n</body></html>",
        headers={"x-request-id": "req_H"},
        method="GET",
        url="https://h/v1.0/calls",
    )
    assert isinstance(err, ServerError)
    assert err.request_id == "req_H"
    assert "502 Bad Gateway" in err.message
    assert "\n" not in str(err)
    assert err.hint() is not None


def test_non_json_body_is_truncated_and_redacted() -> None:
    body = ("oops accesskey=" + KEY + " " + "x" * 5000).encode()
    err = error_from_response(http_status=500, body=body, headers={}, method="GET", url="https://h/v1.0/x")
    assert KEY not in str(err)
    assert len(err.message) < 300


def test_empty_body() -> None:
    err = error_from_response(http_status=503, body=b"", headers={}, method="GET", url="https://h/v1.0/x")
    assert err.message == "service unavailable"
    assert err.reason is None


def test_details_and_retry_after() -> None:
    err = error_from_response(
        http_status=429,
        body=envelope(
            "RESOURCE_EXHAUSTED",
            "RATE_LIMIT_EXCEEDED",
            "Too many requests. Please try again later.",
            details=[{"limited_by": "customer"}, "junk"],
        ),
        headers={"Retry-After": "2"},
        method="POST",
        url="https://h/v1.0/speakings/x/say",
    )
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 2.0
    assert err.details == [{"limited_by": "customer"}]
    assert err.hint() == "rate limited: wait 2 s and try again"


def test_401_message_names_what_to_do() -> None:
    err = error_from_response(
        http_status=401,
        body=envelope("UNAUTHENTICATED", "INVALID_CREDENTIALS", "The provided credentials are invalid."),
        headers={},
        method="GET",
        url=f"https://h/v1.0/customer?accesskey={KEY}",
        credential_kind="accesskey",
        secrets=[KEY],
    )
    assert isinstance(err, AuthError)
    text = str(err)
    assert "accesskey" in text
    assert "check the accesskey" in text
    assert KEY not in text
    assert "accesskey" in (err.hint() or "")
    tok = error_from_response(
        http_status=401, body=b"", headers={}, method="GET", url="https://h/v1.0/x", credential_kind="token"
    )
    assert "log in again" in str(tok)


def test_conflict_hints() -> None:
    err = error_from_response(
        http_status=409,
        body=envelope("ALREADY_EXISTS", "TRANSCRIBE_ALREADY_PROGRESSING", "A live transcribe is already progressing."),
        headers={},
        method="POST",
        url="https://h/v1.0/transcribes",
    )
    assert isinstance(err, ConflictError)
    assert "already running" in (err.hint() or "")


def test_hint_for_post_calls_500_and_say_404() -> None:
    calls = error_from_response(
        http_status=500,
        body=envelope("INTERNAL", "INTERNAL", "An internal error occurred."),
        headers={},
        method="POST",
        url="https://h/v1.0/calls",
    )
    assert "extension" in (calls.hint() or "")
    say = error_from_response(
        http_status=404,
        body=envelope("NOT_FOUND", "RESOURCE_NOT_FOUND", "The requested resource was not found."),
        headers={},
        method="POST",
        url="https://h/v1.0/speakings/abc/say",
    )
    assert "no longer active" in (say.hint() or "")


def test_transport_error() -> None:
    err = TransportError("no response: ConnectError: refused", method="GET", url=f"https://h/x?accesskey={KEY}")
    assert err.http_status is None
    assert KEY not in str(err)
    assert err.hint() is not None


def test_login_auth_error_hint() -> None:
    err = AuthError("the username/password were rejected", http_status=400, credential_kind="login")
    assert "username and password" in (err.hint() or "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("3", 3.0), ("1.5", 1.5), ("-4", 0.0), ("soon", None), ("nan", None)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    seconds = parse_retry_after(format_datetime(when, usegmt=True))
    assert seconds is not None
    assert 25 <= seconds <= 31
