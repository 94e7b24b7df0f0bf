"""Retry policy, with httpx.MockTransport for failures a real server cannot easily produce.

Transport errors, 5xx sequences, 429 with Retry-After and non-JSON gateway
bodies. Everything else is tested against the sandbox (test_rest_sandbox.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.voipbin import samples
from tui.voipbin.errors import RateLimitError, ResponseFormatError, ServerError, TransportError
from tui.voipbin.rest import RequestRecord, VoipbinClient

KEY = "vb_RETRYtestKEY0123456789"
API = "https://api.example.test/v1.0"

Step = httpx.Response | Exception


def envelope(status: str, reason: str, message: str) -> dict[str, object]:
    return {"error": {"status": status, "reason": reason, "message": message, "request_id": "req_T"}}


def err(code: int, *, retry_after: str | None = None, body: object | None = None) -> httpx.Response:
    headers = {"X-Request-Id": f"req_{code}"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    if body is None:
        names = {
            429: ("RESOURCE_EXHAUSTED", "RATE_LIMIT_EXCEEDED", "Too many requests. Please try again later."),
            500: ("INTERNAL", "INTERNAL", "An internal error occurred."),
            503: ("UNAVAILABLE", "REQUEST_TIMEOUT", "The request timed out."),
        }
        body = envelope(*names.get(code, ("INTERNAL", "INTERNAL", "x")))
    if isinstance(body, bytes):
        return httpx.Response(code, headers=headers, content=body)
    return httpx.Response(code, headers=headers, json=body)


def ok(payload: object, code: int = 200) -> httpx.Response:
    return httpx.Response(code, headers={"X-Request-Id": "req_OK"}, json=payload)


class Script:
    """A MockTransport handler that plays a fixed sequence of responses/exceptions."""

    def __init__(self, steps: list[Step]) -> None:
        self._steps: Iterator[Step] = iter(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = next(self._steps)
        if isinstance(step, Exception):
            raise step
        return step


def make_client(script: Script, records: list[RequestRecord] | None = None, **kwargs: object) -> VoipbinClient:
    on_request: Callable[[RequestRecord], None] | None = records.append if records is not None else None
    return VoipbinClient(
        API,
        accesskey=KEY,
        transport=httpx.MockTransport(script),
        on_request=on_request,
        retry_base_delay=0.0,
        **kwargs,  # type: ignore[arg-type]
    )


def connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("connection refused")


async def test_get_retried_on_transport_error_then_succeeds() -> None:
    script = Script([connect_error(), httpx.ReadTimeout("timed out"), ok(samples.call("ringing"))])
    records: list[RequestRecord] = []
    async with make_client(script, records) as client:
        call = await client.get_call(samples.CALL_ID)
    assert call.status == "ringing"
    assert len(script.requests) == 3
    assert [r.attempt for r in records] == [1, 2, 3]
    assert [r.status for r in records] == [None, None, 200]
    assert records[0].will_retry
    assert records[0].error is not None
    assert "ConnectError" in records[0].error
    assert records[2].request_id == "req_OK"


async def test_get_retried_on_503_sequence_then_succeeds() -> None:
    script = Script([err(503), err(502, body=b"<html>Bad Gateway</html>"), ok(samples.call("progressing"))])
    async with make_client(script) as client:
        call = await client.get_call(samples.CALL_ID)
    assert call.status == "progressing"
    assert len(script.requests) == 3


async def test_get_gives_up_after_bounded_retries() -> None:
    script = Script([err(500), err(500), err(503), err(503)])
    records: list[RequestRecord] = []
    async with make_client(script, records, max_retries=2) as client:
        with pytest.raises(ServerError) as info:
            await client.list_calls()
    assert len(script.requests) == 3
    assert info.value.http_status == 503
    assert info.value.reason == "REQUEST_TIMEOUT"
    assert [r.will_retry for r in records] == [True, True, False]


async def test_get_transport_error_exhausted_raises_transport_error() -> None:
    script = Script([connect_error(), connect_error(), connect_error()])
    async with make_client(script) as client:
        with pytest.raises(TransportError) as info:
            await client.get_customer()
    assert len(script.requests) == 3
    assert info.value.http_status is None
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)


SOURCE: dict[str, str] = {"type": "tel", "target": "+15551234567"}
DESTINATIONS: list[dict[str, str]] = [{"type": "extension", "target_name": "2000"}]


@pytest.mark.parametrize("failure", [err(500), err(503), connect_error(), httpx.ReadTimeout("slow")])
async def test_post_calls_never_retried(failure: Step) -> None:
    script = Script([failure, ok({"calls": [], "groupcalls": [samples.groupcall()]})])
    async with make_client(script) as client:
        with pytest.raises((ServerError, TransportError)) as info:
            await client.create_call(SOURCE, DESTINATIONS, actions=[])
    assert len(script.requests) == 1
    if isinstance(info.value, ServerError) and info.value.http_status == 500:
        assert "extension" in (info.value.hint() or "")


@pytest.mark.parametrize("failure", [err(500), err(503), connect_error(), httpx.ReadTimeout("slow")])
async def test_say_never_retried(failure: Step) -> None:
    script = Script([failure, ok(samples.speaking())])
    async with make_client(script) as client:
        with pytest.raises((ServerError, TransportError)):
            await client.say(samples.SPEAKING_ID, "hello")
    assert len(script.requests) == 1
    assert script.requests[0].url.path.endswith("/say")


@pytest.mark.parametrize("failure", [err(500), err(503), connect_error()])
async def test_create_speaking_never_retried(failure: Step) -> None:
    script = Script([failure, ok(samples.speaking(), 201)])
    async with make_client(script) as client:
        with pytest.raises((ServerError, TransportError)):
            await client.create_speaking(samples.CALL_ID, direction="out")
    assert len(script.requests) == 1


async def test_429_with_retry_after_retries_any_method_including_post_calls() -> None:
    script = Script([err(429, retry_after="0"), ok({"calls": [samples.call()], "groupcalls": []})])
    records: list[RequestRecord] = []
    async with make_client(script, records) as client:
        result = await client.create_call(SOURCE, [{"type": "tel", "target": "+15557654321"}])
    assert len(script.requests) == 2
    assert result.calls[0].id == samples.CALL_ID
    assert records[0].status == 429
    assert records[0].reason == "RATE_LIMIT_EXCEEDED"
    assert records[0].will_retry


async def test_429_retry_is_bounded() -> None:
    script = Script([err(429, retry_after="0")] * 5)
    async with make_client(script, max_retries=2) as client:
        with pytest.raises(RateLimitError) as info:
            await client.say(samples.SPEAKING_ID, "hi")
    assert len(script.requests) == 3
    assert info.value.retry_after == 0.0


async def test_429_without_retry_after_is_not_retried() -> None:
    script = Script([err(429), ok(samples.speaking())])
    async with make_client(script) as client:
        with pytest.raises(RateLimitError) as info:
            await client.get_speaking(samples.SPEAKING_ID)
    assert len(script.requests) == 1
    assert info.value.retry_after is None


async def test_429_with_long_retry_after_is_not_waited_for() -> None:
    script = Script([err(429, retry_after="60"), ok(samples.speaking())])
    async with make_client(script, max_retry_after=5.0) as client:
        with pytest.raises(RateLimitError) as info:
            await client.get_speaking(samples.SPEAKING_ID)
    assert len(script.requests) == 1
    assert info.value.retry_after == 60.0
    assert "wait 60 s" in (info.value.hint() or "")


async def test_429_waits_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("tui.voipbin.rest.asyncio.sleep", fake_sleep)
    script = Script([err(429, retry_after="2"), ok(samples.speaking())])
    async with make_client(script) as client:
        await client.say(samples.SPEAKING_ID, "hi")
    assert waits == [2.0]


async def test_backoff_doubles(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("tui.voipbin.rest.asyncio.sleep", fake_sleep)
    script = Script([err(503), err(503), ok(samples.call())])
    client = VoipbinClient(API, accesskey=KEY, transport=httpx.MockTransport(script), retry_base_delay=0.5)
    async with client:
        await client.get_call(samples.CALL_ID)
    assert len(waits) == 2
    assert 0.4 <= waits[0] <= 0.6
    assert 0.8 <= waits[1] <= 1.2


async def test_non_json_502_body() -> None:
    html = b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>\n"
    script = Script([err(502, body=html)])
    async with make_client(script) as client:
        with pytest.raises(ServerError) as info:
            await client.hangup_call(samples.CALL_ID)
    text = str(info.value)
    assert "502" in text
    assert "Bad Gateway" in text
    assert "\n" not in text
    assert info.value.request_id == "req_502"
    assert len(script.requests) == 1  # POST hangup: not retried


async def test_2xx_with_non_json_body() -> None:
    script = Script([httpx.Response(200, content=b"<html>captive portal</html>")])
    async with make_client(script) as client:
        with pytest.raises(ResponseFormatError):
            await client.get_customer()


async def test_2xx_with_wrong_json_shape() -> None:
    script = Script([ok({"calls": "nope"})])
    async with make_client(script) as client:
        with pytest.raises(ResponseFormatError):
            await client.create_call(SOURCE, DESTINATIONS)


async def test_records_never_contain_the_accesskey() -> None:
    script = Script([connect_error(), err(503), ok(samples.call())])
    records: list[RequestRecord] = []
    async with make_client(script, records) as client:
        await client.get_call(samples.CALL_ID)
    assert records
    for record in records:
        assert KEY not in repr(record)
        assert "accesskey=***" in record.url
        assert KEY not in record.summary()
    # the request really carried it
    assert script.requests[0].url.params["accesskey"] == KEY


async def test_on_request_callback_errors_do_not_break_requests() -> None:
    def boom(record: RequestRecord) -> None:
        raise RuntimeError("callback bug")

    script = Script([ok(samples.call())])
    client = VoipbinClient(API, accesskey=KEY, transport=httpx.MockTransport(script), on_request=boom)
    async with client:
        assert (await client.get_call(samples.CALL_ID)).id == samples.CALL_ID


async def test_path_ids_are_quoted() -> None:
    script = Script([ok(samples.call())])
    async with make_client(script) as client:
        await client.get_call("../customer?x=1")
    assert script.requests[0].url.raw_path.startswith(b"/v1.0/calls/..%2Fcustomer%3Fx%3D1")


async def test_closed_client_refuses() -> None:
    client = make_client(Script([]))
    await client.aclose()
    with pytest.raises(RuntimeError):
        await client.get_customer()


def test_body_json_is_stable() -> None:
    # keep the module's helper honest
    assert json.loads(err(429, retry_after="1").content)["error"]["reason"] == "RATE_LIMIT_EXCEEDED"
