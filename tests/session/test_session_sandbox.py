"""CallSession driven through the seed scenario against the real sandbox (HTTP + WebSocket on loopback)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.session.conftest import CALLER_LINES, Recorder, server_transcripts, wait_for
from tui.sandbox import EmbeddedSandbox
from tui.session.account import Account
from tui.session.call_session import CallSession
from tui.session.dial import DialRequest
from tui.session.textsplit import utf8_len
from tui.session.updates import CallEnded, Notice

LONG = " ".join(f"This is sentence number {i} of a very long line." for i in range(140))  # > 5000 bytes
KOREAN = "안녕하세요. 실시간 음성 테스트입니다."


def transcripts(s: CallSession, direction: str | None = None) -> list[str]:
    return [ln.text for ln in s.book if ln.kind == "transcript" and (direction is None or ln.direction == direction)]


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param({}, id="bare"),
        pytest.param({"frame_shape": "wrapped"}, id="wrapped"),
        pytest.param({"frame_shape": "documented"}, id="documented"),
        pytest.param({"reorder": True}, id="reordered"),
    ],
)
async def test_seed_scenario_end_to_end(
    session: tuple[CallSession, Recorder], sandbox: EmbeddedSandbox, account: Account, shape: dict[str, object]
) -> None:
    s, rec = session
    if shape:
        async with httpx.AsyncClient(base_url=sandbox.control_url) as control:
            (await control.post("/faults", json=shape)).raise_for_status()
    await s.dial(DialRequest())
    # Extension destination → a groupcall whose leg appears just after the response.
    assert s.groupcall is not None
    await wait_for(lambda: s.call is not None and s.call.status == "progressing", what="answer")
    await wait_for(lambda: s.speech.phase == "active", what="speaking stream")
    await wait_for(lambda: any("VoIPBIN real-time voice" in t for t in transcripts(s, "out")), what="greeting")
    await wait_for(lambda: CALLER_LINES[0] in transcripts(s, "in"), what="caller line")
    assert s.transcribes, "the transcribe_start action's transcribe was found"

    first = s.say("Hello, how are you today? This is VoIPBIN speaking to you in real time.")
    korean = s.say(KOREAN)
    long_parts = s.say(LONG)
    assert utf8_len(LONG) > 5000
    assert len(first) == 1
    assert len(korean) == 1
    assert len(long_parts) == 2
    assert all(utf8_len(p.text) <= 5000 for p in long_parts)
    await wait_for(lambda: first[0].state == "heard", what="first line heard")
    assert first[0].latency_ms is not None
    assert first[0].latency_ms > 0
    await wait_for(lambda: korean[0].state == "heard", what="korean line heard")
    await wait_for(lambda: long_parts[0].state in ("sent", "heard"), what="long line sent")

    await s.flush()
    await wait_for(lambda: all(p.state == "flushed" for p in long_parts), what="long line flushed")
    assert s.speech.phase == "active"

    await s.stop_speaking()
    assert str(s.speech.phase) == "stopped"  # str(): mypy would keep the phase narrowed to "active"
    (refused,) = s.say("This line cannot be spoken.")
    await wait_for(lambda: refused.state == "failed", what="say on stopped stream fails")
    assert refused.text == "This line cannot be spoken."
    assert refused.hint
    assert "/speak" in refused.hint

    old_speaking = s.speech.speaking
    await s.open_speaking()
    assert s.speech.phase == "active"
    assert s.speech.speaking is not None
    assert old_speaking is not None
    assert s.speech.speaking.id != old_speaking.id
    (again,) = s.resend(refused.id)
    await wait_for(lambda: again.state == "heard", what="resent line heard")

    await s.hangup()
    await wait_for(lambda: s.phase == "ended", what="call ended")
    await wait_for(lambda: s.speech.phase == "closed", what="speaking cleaned up")
    assert s.summary is not None
    assert s.summary.hangup_by == "local"
    assert s.summary.lines_in >= 1
    assert s.summary.says_heard >= 3
    assert s.summary.say_heard_p50_ms is not None
    assert s.summary.headline().startswith("Call ended after ")
    assert rec.of(CallEnded)

    # Our speaking streams were stopped and deleted (VoIPBIN would leave them running).
    for sp in (old_speaking, s.speech.speaking):
        assert sp is not None
        fetched = await account.client.get_speaking(sp.id)
        assert fetched.status == "stopped"
        assert fetched.tm_delete is not None

    # What the session shows is exactly what the server has.
    await wait_for(lambda: all(t.status == "done" for t in s.transcribes.values()), what="transcribe done")
    (tid,) = s.transcribes
    server = await server_transcripts(account, tid)
    shown = {ln.transcript_id: ln.text for ln in s.book if ln.kind == "transcript"}
    assert shown == server


async def test_session_record_is_jsonl_and_has_no_secret(
    session: tuple[CallSession, Recorder], sandbox: EmbeddedSandbox
) -> None:
    s, _ = session
    await s.dial(DialRequest())
    await wait_for(lambda: s.speech.phase == "active", what="speaking stream")
    s.say("A line for the record.")
    await s.hangup()
    await wait_for(lambda: s.phase == "ended")
    await s.close()
    assert s.recorder.path is not None
    text = s.recorder.path.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in text.splitlines()]
    types = {e["type"] for e in entries}
    assert {"dial", "request", "frame", "call", "say", "phase", "summary"} <= types
    assert sandbox.accesskey not in text


async def test_dialing_an_extension_by_name_explains_the_500(session: tuple[CallSession, Recorder]) -> None:
    s, rec = session
    from tui.voipbin.errors import VoipbinError

    with pytest.raises(VoipbinError) as info:
        await s.dial(DialRequest(destination="Extension 2000"))
    assert info.value.http_status == 500
    notice = rec.of(Notice)[-1]
    assert notice.level == "error"
    assert notice.request_id
    assert notice.hint is not None
    assert "'2000'" in notice.hint
    assert s.phase == "failed"
    assert s.failure is notice, "the failure carries the very notice that was reported"


@pytest.mark.sandbox(answer_mode="reject")
async def test_rejected_call_ends_with_a_summary(session: tuple[CallSession, Recorder]) -> None:
    s, _ = session
    await s.dial(DialRequest())
    await wait_for(lambda: s.phase == "ended", what="rejected call ends")
    assert s.summary is not None
    assert s.summary.hangup_reason == "busy"
    assert s.speech.phase in ("closed", "none")


@pytest.mark.sandbox(answer_mode="manual")
async def test_attach_to_a_live_call(
    sandbox: EmbeddedSandbox, account: Account, control: httpx.AsyncClient, tmp_path: object
) -> None:
    dialer = CallSession(account)
    await dialer.dial(DialRequest(destination="2000"))
    leg = await wait_for(lambda: dialer.call, what="leg")
    (await control.post(f"/calls/{leg.id}/answer")).raise_for_status()
    await wait_for(lambda: dialer.speech.phase == "active", what="dialer speaking")
    await wait_for(lambda: len(transcripts(dialer, "in")) >= 1, timeout=15, what="caller line")

    watcher = CallSession(account)
    await watcher.attach(leg.id)
    assert watcher.call is not None
    assert watcher.call.id == leg.id
    assert watcher.call.status == "progressing"
    assert watcher.transcribes
    assert transcripts(watcher, "in") == transcripts(dialer, "in")
    assert watcher.speech.phase == "active"
    assert watcher.speech.ours is False
    # The attaching session sees new lines live too.
    (await control.post(f"/calls/{leg.id}/speak", json={"text": "A line after attaching."})).raise_for_status()
    await wait_for(lambda: "A line after attaching." in transcripts(watcher, "in"), what="live line")
    await watcher.close()
    # Leaving an attached call does not stop someone else's speaking stream.
    assert dialer.speech.speaking is not None
    assert (await account.client.get_speaking(dialer.speech.speaking.id)).status == "active"
    await dialer.close(hangup=True)
