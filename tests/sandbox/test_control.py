"""The sandbox's own control API (/_sandbox) and every fault it can inject."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
import websockets

from tests.sandbox.conftest import (
    EventLog,
    SandboxFactory,
    is_speech,
    login,
    place_seed_call,
    wait_call_status,
)
from tui.sandbox import EmbeddedSandbox
from tui.sandbox.app import build_app


async def test_control_is_loopback_only(sandbox: EmbeddedSandbox) -> None:
    assert sandbox.core is not None
    app = build_app(sandbox.core)
    remote = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 4000)))
    local = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 4000)))
    async with remote, local:
        refused = await remote.post("http://sandbox/_sandbox/faults", json={})
        allowed = await local.post("http://sandbox/_sandbox/faults", json={})
        # The VoIPBIN API itself is not restricted.
        api = await remote.get("http://sandbox/v1.0/customer", params={"accesskey": sandbox.accesskey})
    assert refused.status_code == 403
    assert "x-request-id" in refused.headers
    assert allowed.status_code == 200
    assert api.status_code == 200


async def test_speak_and_errors(
    api: httpx.AsyncClient, control: httpx.AsyncClient, sandbox: EmbeddedSandbox, open_events: Any
) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:transcript:transcript_")
    _, call_id = await place_seed_call(api)
    assert (await control.post(f"/calls/{call_id}/speak", json={"text": "too early"})).status_code in (404, 409)
    await wait_call_status(api, call_id, "progressing")
    spoken = await control.post(f"/calls/{call_id}/speak", json={"text": "Testing one two three."})
    assert spoken.status_code == 200
    found = await log.wait_for(lambda f: f["message"] == "Testing one two three.")
    assert found[0]["direction"] == "in"
    assert (await control.post(f"/calls/{call_id}/speak", json={})).status_code == 400
    assert (await control.post(f"/calls/{call_id}/speak", content=b"{")).status_code == 400
    assert (await control.post("/calls/nope/speak", json={"text": "x"})).status_code == 404
    assert (await control.get(f"/calls/{call_id}/answer")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"nope": True},
        {"http_error_rate": 2},
        {"http_error_rate": "x"},
        {"latency_ms": -1},
        {"frame_shape": "round"},
        {"expire_tokens": "yes"},
        [1],
    ],
)
async def test_bad_fault_requests(control: httpx.AsyncClient, body: Any) -> None:
    response = await control.post("/faults", json=body)
    assert response.status_code == 400
    assert "error" in response.json()


async def test_http_error_rate(api: httpx.AsyncClient, control: httpx.AsyncClient) -> None:
    state = (await control.post("/faults", json={"http_error_rate": 1.0})).json()
    assert state["faults"]["http_error_rate"] == 1.0
    failed = await api.get("/customer")
    assert failed.status_code == 503
    error = failed.json()["error"]
    assert (error["status"], error["reason"], error["message"]) == (
        "UNAVAILABLE",
        "REQUEST_TIMEOUT",
        "The request timed out.",
    )
    await control.post("/faults", json={"http_error_rate": 0.5})
    codes = [(await api.get("/numbers")).status_code for _ in range(40)]
    assert set(codes) == {200, 503}
    await control.post("/faults", json={})
    assert (await api.get("/customer")).status_code == 200


async def test_latency(api: httpx.AsyncClient, control: httpx.AsyncClient) -> None:
    await control.post("/faults", json={"latency_ms": 150})
    started = time.monotonic()
    assert (await api.get("/customer")).status_code == 200
    assert time.monotonic() - started >= 0.15
    # The control API is never slowed down.
    started = time.monotonic()
    await control.post("/faults", json={"reset": True})
    assert time.monotonic() - started < 0.15
    started = time.monotonic()
    await api.get("/customer")
    assert time.monotonic() - started < 0.15


async def test_expire_tokens(sandbox: EmbeddedSandbox, control: httpx.AsyncClient, token: str) -> None:
    async with (
        httpx.AsyncClient(base_url=sandbox.api_url) as client,
        websockets.connect(f"{sandbox.ws_url}?token={token}") as open_ws,
    ):
        await control.post("/faults", json={"expire_tokens": True})
        for params in ({"token": token}, {"accesskey": sandbox.accesskey}):
            refused = await client.get("/customer", params=params)
            assert refused.status_code == 401
            assert refused.json()["error"]["reason"] == "INVALID_CREDENTIALS"
        with pytest.raises(websockets.InvalidStatus):
            await websockets.connect(f"{sandbox.ws_url}?token={token}")
        # A socket opened before keeps working: expiry is only checked at the handshake.
        await open_ws.send(json.dumps({"type": "subscribe", "topics": [f"customer_id:{sandbox.customer_id}"]}))
        fresh = await login(sandbox)
        assert (await client.get("/customer", params={"token": fresh})).status_code == 200
        await control.post("/faults", json={"reset": True})
        assert (await client.get("/customer", params={"token": token})).status_code == 200
        assert (await client.get("/customer", params={"accesskey": sandbox.accesskey})).status_code == 200
        assert open_ws.state is websockets.State.OPEN


async def test_drop_websockets(sandbox: EmbeddedSandbox, control: httpx.AsyncClient, token: str) -> None:
    first = await websockets.connect(f"{sandbox.ws_url}?token={token}")
    second = await websockets.connect(f"{sandbox.ws_url}?accesskey={sandbox.accesskey}")
    answer = (await control.post("/faults", json={"drop_websockets": True})).json()
    assert answer["dropped_websockets"] == 2
    for ws in (first, second):
        with pytest.raises(websockets.ConnectionClosedError):
            await asyncio.wait_for(ws.recv(), timeout=5)
        assert ws.close_code == 1006
    # Not sticky: new connections are fine.
    async with websockets.connect(f"{sandbox.ws_url}?token={token}") as third:
        await asyncio.sleep(0.05)
        assert third.state is websockets.State.OPEN
    assert answer["faults"]["http_error_rate"] == 0.0


async def test_frame_shape_fault(
    api: httpx.AsyncClient, control: httpx.AsyncClient, sandbox: EmbeddedSandbox, open_events: Any
) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:groupcall:groupcall_created")
    await control.post("/faults", json={"frame_shape": "wrapped"})
    await place_seed_call(api)
    await control.post("/faults", json={"frame_shape": "documented"})
    await place_seed_call(api)
    await control.post("/faults", json={})
    await place_seed_call(api)
    frames = await log.wait_for(lambda f: True, count=3)
    assert frames[0]["type"] == "groupcall_created"
    assert frames[1]["event_type"] == "groupcall_created"
    assert "ring_method" in frames[2]


async def test_reorder_fault(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(reorder_jitter_ms=40, interim_interval=0.1, caller_script=[])
    token = await login(sandbox)
    cid = sandbox.customer_id
    async with (
        httpx.AsyncClient(base_url=sandbox.api_url, params={"token": token}) as api,
        httpx.AsyncClient(base_url=sandbox.control_url) as control,
        websockets.connect(f"{sandbox.ws_url}?token={token}") as ws,
    ):
        log = EventLog(ws)
        await ws.send(json.dumps({"type": "subscribe", "topics": [f"customer_id:{cid}"]}))
        await asyncio.sleep(0.05)
        assert (await control.post("/faults", json={"reorder": True})).json()["faults"]["reorder"] is True
        _, call_id = await place_seed_call(api)
        await wait_call_status(api, call_id, "progressing")
        await asyncio.sleep(0.5)
        await control.post(f"/calls/{call_id}/hangup")
        await asyncio.sleep(0.3)
    frames = log.payloads
    # Both copies of one event stay together; whole events overtake each other.
    for first, second in zip(frames[::2], frames[1::2], strict=False):
        assert first == second
    events = frames[::2]
    interims = [f for f in events if is_speech(f) and "message" in f and f["direction"] == "out"]
    times = [f["tm_event"] for f in interims]
    assert times != sorted(times), "with reordering, some events arrive out of order"
