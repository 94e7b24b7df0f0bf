"""Groupcall endpoints and ``GET /aggregated-events`` (NOTES §F3, §F4)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import EventLog, SandboxFactory, instant, place_seed_call, wait_call_status
from tui.sandbox import EmbeddedSandbox

ZERO = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
async def sandbox(start_sandbox: SandboxFactory, request: pytest.FixtureRequest) -> EmbeddedSandbox:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return await start_sandbox(**overrides)


@pytest.mark.parametrize("sandbox", [{"leg_create_delay": 40.0}], indirect=True)
async def test_hangup_before_the_leg_exists_cancels_it_for_good(
    api: httpx.AsyncClient, open_events: Any, sandbox: EmbeddedSandbox
) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:groupcall:groupcall_")
    groupcall, leg_id = await place_seed_call(api)
    assert (await api.get(f"/calls/{leg_id}")).status_code == 404  # the leg record does not exist yet
    response = await api.post(f"/groupcalls/{groupcall['id']}/hangup")
    assert response.status_code == 200
    assert response.json()["status"] == "hangup"
    await log.wait_for(lambda f: f["status"] == "hangup")
    await asyncio.sleep(1.2)  # past the leg's creation time (40 s at speed 40)
    assert (await api.get(f"/calls/{leg_id}")).status_code == 404
    assert sandbox.stats()["live_calls"] == 0
    again = await api.post(f"/groupcalls/{groupcall['id']}/hangup")
    assert again.json()["status"] == "hangup"  # idempotent


async def test_hangup_while_ringing_cancels_every_leg(api: httpx.AsyncClient, sandbox: EmbeddedSandbox) -> None:
    groupcall, leg_id = await place_seed_call(api)
    await wait_call_status(api, leg_id, ("dialing", "ringing"))
    response = await api.post(f"/groupcalls/{groupcall['id']}/hangup")
    assert response.status_code == 200
    assert response.json()["status"] == "hangingup"
    final = await wait_call_status(api, leg_id, "hangup")
    assert (final["hangup_by"], final["hangup_reason"]) == ("local", "cancel")
    assert (await api.get(f"/groupcalls/{groupcall['id']}")).json()["status"] == "hangup"


async def test_list_get_delete_and_errors(api: httpx.AsyncClient, open_events: Any, sandbox: EmbeddedSandbox) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:groupcall:groupcall_deleted")
    created = [(await place_seed_call(api))[0]["id"] for _ in range(3)]
    first = (await api.get("/groupcalls", params={"page_size": 2})).json()
    second = (await api.get("/groupcalls", params={"page_size": 2, "page_token": first["next_page_token"]})).json()
    listed = [g["id"] for g in first["result"] + second["result"]]
    assert listed == list(reversed(created))
    deleted = await api.delete(f"/groupcalls/{created[0]}")
    assert deleted.status_code == 200
    assert deleted.json()["tm_delete"] == deleted.json()["tm_update"]
    await log.wait_for(lambda f: f["id"] == created[0])
    gone = await api.get(f"/groupcalls/{created[0]}")
    assert (gone.status_code, gone.json()["error"]["reason"]) == (409, "STATE_INVALID")
    assert created[0] not in [g["id"] for g in (await api.get("/groupcalls")).json()["result"]]
    missing = await api.get("/groupcalls/3f1e0a6e-0000-4000-8000-000000000001")
    assert (missing.status_code, missing.json()["error"]["reason"]) == (404, "GROUPCALL_NOT_FOUND")
    bad = await api.post("/groupcalls/not-a-uuid/hangup")
    assert (bad.status_code, bad.json()["error"]["reason"]) == (400, "INVALID_ID")


async def test_aggregated_events_newest_first_paged_with_types(
    api: httpx.AsyncClient, control: httpx.AsyncClient, sandbox: EmbeddedSandbox
) -> None:
    _, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:  # the greeting's first transcript
        found = (await api.get("/aggregated-events", params={"call_id": call_id})).json()["result"]
        if any(r["event_type"] == "transcript_created" for r in found):
            break
        await asyncio.sleep(0.02)
    await control.post(f"/calls/{call_id}/hangup")
    await wait_call_status(api, call_id, "hangup")
    await asyncio.sleep(0.1)  # transcribe_done follows call_hangup
    whole = (await api.get("/aggregated-events", params={"call_id": call_id, "page_size": 1000})).json()
    records = whole["result"]
    types = [r["event_type"] for r in records]
    assert types[-1] == "groupcall_created"  # oldest last; published before the leg existed
    assert types.index("call_hangup") < types.index("call_progressing") < types.index("call_created")
    for expected in ("transcribe_created", "transcript_created", "transcribe_speech_started", "groupcall_hangup"):
        assert expected in types
    stamps = [instant(r["timestamp"]) for r in records]
    assert stamps == sorted(stamps, reverse=True)
    assert all(set(r) == {"timestamp", "event_type", "data"} for r in records)
    paged: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"call_id": call_id, "page_size": 3}
        if token:
            params["page_token"] = token
        page = (await api.get("/aggregated-events", params=params)).json()
        paged.extend(page["result"])
        if len(page["result"]) < 3:
            break
        token = page["next_page_token"]
    assert paged == records
    activeflow = (await api.get(f"/calls/{call_id}")).json()["activeflow_id"]
    by_flow = (await api.get("/aggregated-events", params={"activeflow_id": activeflow, "page_size": 1000})).json()
    assert by_flow["result"] == records
    for params, status in (
        ({}, 400),
        ({"call_id": call_id, "activeflow_id": activeflow}, 400),
        ({"call_id": "nope"}, 400),
        ({"call_id": "3f1e0a6e-0000-4000-8000-000000000001"}, 404),
    ):
        assert (await api.get("/aggregated-events", params=params)).status_code == status
