"""The REST client against a server that abuses the transport: every attack fails that one request
quickly, with bounded memory and a message a person can read."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import tracemalloc

import pytest

from tests.hostile import raw
from tests.hostile.raw import Conn, RawRequest, RawServer
from tui.voipbin.bounded import DEFAULT_MAX_RESPONSE_BYTES
from tui.voipbin.errors import (
    MESSAGE_MAX,
    RETRY_AFTER_MAX,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    TransportError,
)
from tui.voipbin.rest import RequestRecord, VoipbinClient

KEY = "vb_HOSTILEtestKEY0123456789"
pytestmark = pytest.mark.timeout(60)


def client(server: RawServer, **kwargs: object) -> VoipbinClient:
    return VoipbinClient(server.api_url, accesskey=KEY, retry_base_delay=0.0, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compression_bomb_is_refused_fast_with_bounded_memory(encoding: str) -> None:
    body = raw.gzip_bomb() if encoding == "gzip" else raw.deflate_bomb()
    async with RawServer(raw.serve({"/v1.0/customer": raw.compressed(body, encoding)})) as server, client(server) as c:
        tracemalloc.start()
        started = time.monotonic()
        try:
            with pytest.raises(ResponseFormatError) as caught:
                await c.get_customer()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        elapsed = time.monotonic() - started
    assert "larger than 4 MiB" in str(caught.value)
    # 1 GiB (gzip) or 64 MiB (deflate) unpacked; never more than the cap and a chunk is held.
    assert peak < 3 * DEFAULT_MAX_RESPONSE_BYTES, peak
    assert elapsed < 5.0
    assert len(server.requests) == 1  # not retried


async def test_a_list_endpoint_may_be_larger_than_a_single_resource() -> None:
    page = {"result": [{"id": f"n{i}", "number": "+1" + "5" * 40} for i in range(2000)], "next_page_token": ""}
    body = json.dumps(page).encode()
    one = json.dumps({**raw.customer(), "detail": "d" * len(body)}).encode()

    async def numbers(request: RawRequest, conn: Conn) -> None:
        await conn.respond(200, body)

    async def customer(request: RawRequest, conn: Conn) -> None:
        await conn.respond(200, one)

    limit = len(body) // 2
    routes = {"/v1.0/numbers": numbers, "/v1.0/customer": customer}
    async with RawServer(raw.serve(routes)) as server, client(server, max_response_bytes=limit) as c:
        assert len((await c.list_numbers()).result) == 2000
        with pytest.raises(ResponseFormatError):
            await c.get_customer()


@pytest.mark.parametrize("size", [5_000_000])  # 50 MB: see test_raw_watch.py
async def test_a_huge_error_message_is_cut_where_the_error_is_built(size: int) -> None:
    async with (
        RawServer(raw.serve({"/v1.0/calls/abc": raw.huge_error(size, status=400)})) as server,
        client(server) as c,
    ):
        started = time.monotonic()
        with pytest.raises(Exception) as caught:
            await c.get_call("abc")
        elapsed = time.monotonic() - started
    text = str(caught.value)
    assert len(text) < MESSAGE_MAX + 200
    assert "[/x] AAAA" in text
    assert "cut" in text
    assert caught.value.request_id == "req_hostile"  # type: ignore[attr-defined]
    assert elapsed < 5.0  # the 64 KiB read, not the 50 MB


async def test_a_trickled_answer_fails_at_the_request_deadline() -> None:
    records: list[RequestRecord] = []
    # One byte every 0.3 s: every read is well within the 10 s read timeout.
    async with (
        RawServer(raw.serve({"/v1.0/calls/abc": raw.trickle(0.3, body=b'{"id": "abc"}' * 10)})) as server,
        client(server, request_deadline=1.0, on_request=records.append) as c,
    ):
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            await c.get_call("abc")
        elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 2.0
    assert "within 1 s (the request deadline)" in str(caught.value)
    assert len(records) == 1  # a deadline is not retried
    assert len(server.requests) == 1


async def test_a_server_that_never_sends_headers_fails_at_the_deadline_too() -> None:
    async def silent(request: RawRequest, conn: Conn) -> None:
        await asyncio.sleep(30)

    async with (
        RawServer(raw.serve({"/v1.0/speakings/s1/say": silent})) as server,
        client(server, request_deadline=0.5) as c,
    ):
        started = time.monotonic()
        with pytest.raises(TransportError):
            await c.say("s1", "hello")
        assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("header", "expected"),
    [("1e999", RETRY_AFTER_MAX), ("999999999999", RETRY_AFTER_MAX), ("-5", 0.0), ("nan", None), ("inf", 3600.0)],
)
async def test_retry_after_is_always_a_sane_number(header: str, expected: float | None) -> None:
    async with (
        RawServer(raw.serve({"/v1.0/calls/abc": raw.rate_limited(header)})) as server,
        client(server, max_retries=0) as c,
    ):
        with pytest.raises(RateLimitError) as caught:
            await c.get_call("abc")
    err = caught.value
    assert err.retry_after == expected
    hint = err.hint() or ""
    assert "inf" not in hint
    assert "nan" not in hint
    if expected == RETRY_AFTER_MAX:
        assert "an hour or more" in hint


async def test_an_unsupported_encoding_is_refused() -> None:
    async with (
        RawServer(raw.serve({"/v1.0/customer": raw.compressed(b"\x00" * 100, "br")})) as server,
        client(server) as c,
    ):
        with pytest.raises(ResponseFormatError, match="content-encoding"):
            await c.get_customer()


async def test_a_corrupt_gzip_error_body_still_gives_an_error() -> None:
    async with (
        RawServer(raw.serve({"/v1.0/customer": raw.compressed(b"not gzip", "gzip", status=502)})) as server,
        client(server, max_retries=0) as c,
    ):
        with pytest.raises(ServerError):
            await c.get_customer()


def test_credentials_over_plain_http_to_another_host_are_warned_about_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tui.voipbin.rest")
    remote = VoipbinClient("http://10.1.2.3:8080/v1.0", accesskey=KEY)
    assert remote.plaintext_warning is not None
    assert "unencrypted" in remote.plaintext_warning
    assert KEY not in remote.plaintext_warning
    assert [r.getMessage() for r in caplog.records].count(remote.plaintext_warning) == 1
    for url in ("http://127.0.0.1:9/v1.0", "http://localhost:9/v1.0", "http://[::1]:9/v1.0", "https://10.1.2.3/v1.0"):
        assert VoipbinClient(url, accesskey=KEY).plaintext_warning is None, url
