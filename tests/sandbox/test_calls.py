"""The call engine: answer modes, hangup paths, dial timeout, flows, soft delete."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.sandbox.conftest import (
    EventLog,
    SandboxFactory,
    is_call,
    is_groupcall,
    is_transcribe,
    login,
    place_seed_call,
    seed_call_body,
    wait_call_status,
)
from tui.sandbox import EmbeddedSandbox

# ~150 characters: about 0.22 s of audio at speed 40, so a hangup 50 ms in lands mid-sentence.
CUT = (
    "This sentence is going to be cut off halfway because the phone hangs up while it is still talking "
    "about nothing in particular for quite a while"
)


async def clients(sandbox: EmbeddedSandbox) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    token = await login(sandbox)
    api = httpx.AsyncClient(base_url=sandbox.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    control = httpx.AsyncClient(base_url=sandbox.control_url, timeout=10)
    return api, control


async def test_manual_answer(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(answer_mode="manual")
    api, control = await clients(sandbox)
    async with api, control:
        _, call_id = await place_seed_call(api)
        await wait_call_status(api, call_id, "ringing")
        await asyncio.sleep(0.3)  # far beyond answer_delay: a manual phone keeps ringing
        assert (await api.get(f"/calls/{call_id}")).json()["status"] == "ringing"
        answered = await control.post(f"/calls/{call_id}/answer")
        assert answered.status_code == 200
        assert answered.json()["status"] == "progressing"
        again = await control.post(f"/calls/{call_id}/answer")
        assert again.status_code == 409
        # The flow starts after the answer.
        transcribes = await _wait_transcribes(api, call_id)
        assert transcribes[0]["status"] == "progressing"


async def _wait_transcribes(api: httpx.AsyncClient, call_id: str) -> list[dict[str, Any]]:
    for _ in range(200):
        result = (await api.get("/transcribes", params={"reference_type": "call", "reference_id": call_id})).json()
        if result["result"]:
            return list(result["result"])
        await asyncio.sleep(0.01)
    raise AssertionError("no transcribe")


async def test_reject_mode_and_control_reject(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(answer_mode="reject")
    api, control = await clients(sandbox)
    async with api, control:
        groupcall, call_id = await place_seed_call(api)
        final = await wait_call_status(api, call_id, "hangup")
        assert (final["hangup_by"], final["hangup_reason"]) == ("remote", "busy")
        assert "tm_progressing" not in final
        assert "tm_ringing" in final
        gc = (await api.get(f"/groupcalls/{groupcall['id']}")).json()
        assert gc["status"] == "hangup"
        assert "call_count" not in gc
        transcribes = await api.get("/transcribes", params={"reference_type": "call", "reference_id": call_id})
        assert transcribes.json()["result"] == []


async def test_control_reject_and_hangup_before_answer(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(answer_mode="manual")
    api, control = await clients(sandbox)
    async with api, control:
        _, first = await place_seed_call(api)
        await wait_call_status(api, first, "ringing")
        assert (await control.post(f"/calls/{first}/reject")).json()["status"] == "hangup"
        _, second = await place_seed_call(api)
        await wait_call_status(api, second, "ringing")
        # The phone "hanging up" an unanswered call is a decline.
        hung = (await control.post(f"/calls/{second}/hangup")).json()
        assert (hung["status"], hung["hangup_by"], hung["hangup_reason"]) == ("hangup", "remote", "busy")
        assert (await control.post(f"/calls/{second}/reject")).status_code == 409
        assert (await control.post("/calls/3f1e0a6e-0000-4000-8000-000000000001/answer")).status_code == 404


async def test_dial_timeout(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(answer_mode="manual", dial_timeout=4.0)
    api, control = await clients(sandbox)
    async with api, control:
        _, call_id = await place_seed_call(api)
        final = await wait_call_status(api, call_id, "hangup", timeout=5)
        assert (final["hangup_by"], final["hangup_reason"]) == ("remote", "dialout")


async def test_local_hangup_while_ringing_cancels(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(answer_mode="manual")
    api, control = await clients(sandbox)
    async with api, control:
        _, call_id = await place_seed_call(api)
        await wait_call_status(api, call_id, "ringing")
        first = await api.post(f"/calls/{call_id}/hangup")
        assert first.json()["status"] == "canceling"
        second = await api.post(f"/calls/{call_id}/hangup")
        assert second.status_code == 200
        assert second.json()["status"] in ("canceling", "hangup")
        final = await wait_call_status(api, call_id, "hangup")
        assert (final["hangup_by"], final["hangup_reason"]) == ("local", "cancel")
        # Idempotent once hung up, too.
        assert (await api.post(f"/calls/{call_id}/hangup")).json()["status"] == "hangup"
        assert (await control.post(f"/calls/{call_id}/answer")).status_code == 409


async def test_flow_end_hangs_up_locally(api: httpx.AsyncClient, sandbox: EmbeddedSandbox, open_events: Any) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:call:call_")
    body = {
        "source": {"type": "tel", "target": "+15551234567"},
        "destinations": [{"type": "extension", "target_name": "2000"}],
        "actions": [{"type": "sleep", "option": {"duration": 400}}],
    }
    created = (await api.post("/calls", json=body)).json()
    call_id = created["groupcalls"][0]["call_ids"][0]
    final = await wait_call_status(api, call_id, "hangup")
    assert (final["hangup_by"], final["hangup_reason"]) == ("local", "normal")
    assert final["action"]["id"] == "00000000-0000-0000-0000-000000000002"
    assert "type" not in final["action"]
    await log.wait_for(lambda f: f["status"] == "hangup")
    order = [(f["status"], f["action"].get("type"), f["action"]["id"][-1]) for f in log.payloads]
    assert order == [
        ("dialing", None, "1"),
        ("ringing", None, "1"),
        ("progressing", None, "1"),
        ("progressing", "sleep", order[3][2]),
        ("progressing", None, "2"),
        ("terminating", None, "2"),
        ("hangup", None, "2"),
    ]


async def test_hangup_action_and_async_talk(api: httpx.AsyncClient, sandbox: EmbeddedSandbox) -> None:
    body = {
        "source": {"type": "sip", "target": "me@example.com"},
        "destinations": [{"type": "sip", "target": "you@example.com"}],
        "actions": [
            {"type": "talk", "option": {"text": "A rather long greeting that keeps going on.", "async": True}},
            {"type": "variable_set", "option": {"key": "a", "value": "b"}},
            {"type": "hangup", "option": {"reason": "busy"}},
            {"type": "sleep", "option": {"duration": 600000}},
        ],
    }
    created = (await api.post("/calls", json=body)).json()
    call = created["calls"][0]
    assert call["destination"] == {"type": "sip", "target": "you@example.com"}
    final = await wait_call_status(api, call["id"], "hangup")
    # A terminating call always ends "normal"; the action's reason does not surface.
    assert (final["hangup_by"], final["hangup_reason"]) == ("local", "normal")
    assert final["action"]["type"] == "hangup"
    assert final["action"]["option"] == {"reason": "busy"}


async def test_remote_hangup_keeps_speaking_active(
    api: httpx.AsyncClient, control: httpx.AsyncClient, sandbox: EmbeddedSandbox
) -> None:
    groupcall, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    speaking = (await api.post("/speakings", json={"reference_type": "call", "reference_id": call_id})).json()
    hung = await control.post(f"/calls/{call_id}/hangup")
    assert hung.json()["status"] == "hangup"
    assert (hung.json()["hangup_by"], hung.json()["hangup_reason"]) == ("remote", "normal")
    assert (await api.get(f"/speakings/{speaking['id']}")).json()["status"] == "active"
    said = await api.post(f"/speakings/{speaking['id']}/say", json={"text": "anyone?"})
    assert said.status_code == 404
    assert said.json()["error"]["reason"] == "RESOURCE_NOT_FOUND"
    assert (await api.post(f"/speakings/{speaking['id']}/flush")).status_code == 404
    assert (await api.post(f"/speakings/{speaking['id']}/stop")).json()["status"] == "stopped"
    assert (await api.get(f"/groupcalls/{groupcall['id']}")).json()["status"] == "hangup"
    again = await api.post("/speakings", json={"reference_type": "call", "reference_id": call_id})
    assert again.status_code == 500


async def test_delete_is_a_soft_delete(api: httpx.AsyncClient, sandbox: EmbeddedSandbox, open_events: Any) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:call:call_deleted")
    _, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    deleted = await api.delete(f"/calls/{call_id}")
    assert deleted.status_code == 200
    body = deleted.json()
    assert body["status"] == "terminating"
    assert "tm_delete" in body
    await log.wait_for(is_call)
    for method, path in (("GET", ""), ("DELETE", ""), ("POST", "/hangup")):
        response = await api.request(method, f"/calls/{call_id}{path}")
        assert response.status_code == 409, (method, path)
        assert response.json()["error"]["reason"] == "STATE_INVALID"
        assert response.json()["error"]["message"] == "The operation is invalid for the current resource state."
    assert call_id not in [c["id"] for c in (await api.get("/calls")).json()["result"]]
    transcribe = await api.post(
        "/transcribes", json={"reference_type": "call", "reference_id": call_id, "language": "de-DE"}
    )
    assert transcribe.status_code == 409


async def test_extension_dialing_rules(start_sandbox: SandboxFactory) -> None:
    from tui.sandbox.settings import ExtensionSeed

    sandbox = await start_sandbox(
        extensions=[
            ExtensionSeed(name="Desk", extension="3000"),
            ExtensionSeed(name="Offline", extension="4000", registered=False),
        ]
    )
    api, control = await clients(sandbox)
    async with api, control:
        by_extension = await api.post("/calls", json=seed_call_body(target_name="3000"))
        by_name = await api.post("/calls", json=seed_call_body(target_name="Desk"))
        offline = await api.post("/calls", json=seed_call_body(target_name="4000"))
        mixed = await api.post(
            "/calls",
            json={
                "source": {"type": "tel", "target": "+15551234567"},
                "destinations": [
                    {"type": "extension", "target_name": "4000"},
                    {"type": "extension", "target_name": "3000"},
                    {"type": "agent", "target": "3f1e0a6e-0000-4000-8000-000000000001"},
                ],
            },
        )
    assert by_extension.status_code == 200
    assert by_name.status_code == 500
    assert offline.status_code == 500
    # Failed destinations are left out; the request succeeds when any destination works.
    assert mixed.status_code == 200
    assert [g["destinations"][0]["target_name"] for g in mixed.json()["groupcalls"]] == ["3000"]


async def test_max_duration_and_scripted_hangup(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(max_call_duration=3.0, caller_script=[])
    api, control = await clients(sandbox)
    async with api, control:
        _, call_id = await place_seed_call(api)
        final = await wait_call_status(api, call_id, "hangup")
        assert (final["hangup_by"], final["hangup_reason"]) == ("remote", "timeout")

    sandbox = await start_sandbox(caller_script=["Bye now."], caller_delay=0.5, hangup_after_script=1.0)
    api, control = await clients(sandbox)
    async with api, control:
        _, call_id = await place_seed_call(api)
        final = await wait_call_status(api, call_id, "hangup")
        assert (final["hangup_by"], final["hangup_reason"]) == ("remote", "normal")


async def test_groupcall_events(
    api: httpx.AsyncClient, control: httpx.AsyncClient, open_events: Any, sandbox: EmbeddedSandbox
) -> None:
    log: EventLog = await open_events(f"customer_id:{sandbox.customer_id}:groupcall:groupcall_")
    groupcall, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    await control.post(f"/calls/{call_id}/hangup")
    await log.wait_for(lambda f: f["status"] == "hangup")
    frames = log.payloads
    assert [f["status"] for f in frames] == ["progressing", "progressing", "hangup"]
    assert frames[0]["answer_call_id"] == "00000000-0000-0000-0000-000000000000"
    assert frames[0]["call_count"] == 1
    assert frames[1]["answer_call_id"] == call_id
    assert "tm_update" in frames[1]
    assert "call_count" not in frames[2]
    assert all(is_groupcall(f) for f in frames)
    assert all(f["id"] == groupcall["id"] for f in frames)


async def test_transcribe_done_follows_hangup(
    api: httpx.AsyncClient, control: httpx.AsyncClient, open_events: Any, sandbox: EmbeddedSandbox
) -> None:
    log: EventLog = await open_events(
        f"customer_id:{sandbox.customer_id}:call:call_hangup",
        f"customer_id:{sandbox.customer_id}:transcribe:transcribe_done",
        f"customer_id:{sandbox.customer_id}:transcript:transcript_",
    )
    _, call_id = await place_seed_call(api)
    await wait_call_status(api, call_id, "progressing")
    await log.wait_for(lambda f: f.get("direction") == "in")
    # Cut the phone off mid-sentence: what it already said is still finalised before transcribe_done.
    await control.post(f"/calls/{call_id}/speak", json={"text": CUT})
    await asyncio.sleep(0.05)
    await control.post(f"/calls/{call_id}/hangup")
    await log.wait_for(is_transcribe)
    kinds = ["hangup" if is_call(f) else "done" if is_transcribe(f) else f["message"] for f in log.payloads]
    hangup_at, done_at = kinds.index("hangup"), kinds.index("done")
    assert hangup_at < done_at
    late = kinds[hangup_at + 1 : done_at]
    assert late, "the partial utterance is finalised between call_hangup and transcribe_done"
    assert CUT.startswith(late[0])
    assert late[0] != CUT
