"""The speaking stream's edges: clean-up that must finish, flushes that must not rewrite history."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.session.conftest import Recorder, wait_for
from tui.sandbox import EmbeddedSandbox
from tui.session.account import Account
from tui.session.call_session import CallSession
from tui.session.dial import DialRequest


async def answered(s: CallSession) -> None:
    await s.dial(DialRequest())
    await wait_for(lambda: s.speech.phase == "active", what="speaking stream")


async def test_closing_right_after_hangup_still_deletes_our_stream(
    session: tuple[CallSession, Recorder], account: Account
) -> None:
    s, _ = session
    await answered(s)
    assert s.speech.speaking is not None
    sid = s.speech.speaking.id
    await s.hangup()
    await wait_for(lambda: s.phase == "ended", what="ended")
    await s.close()  # at once: the clean-up the hangup started must not be cut off
    assert (await account.client.get_speaking(sid)).tm_delete is not None


async def test_close_with_hangup_races_the_hangup_event_cleanly(
    session: tuple[CallSession, Recorder], account: Account
) -> None:
    s, _ = session
    await answered(s)
    assert s.speech.speaking is not None
    sid = s.speech.speaking.id
    await s.close(hangup=True)
    assert (await account.client.get_speaking(sid)).tm_delete is not None
    assert s.recorder.active is False


@pytest.mark.sandbox(answer_mode="manual")
async def test_closing_while_the_stream_is_being_created_still_deletes_it(
    session: tuple[CallSession, Recorder], sandbox: EmbeddedSandbox
) -> None:
    """Ctrl+C or a hangup while POST /speakings is out: the server makes the stream anyway, so the
    clean-up waits for the answer and deletes what it made, instead of leaving it active with no owner."""
    s, _ = session
    await s.dial(DialRequest())
    leg = await wait_for(lambda: s.call, what="leg")
    async with httpx.AsyncClient(base_url=sandbox.control_url) as control:
        # Every request from here on is answered 0.4 s late: the create is caught in flight.
        (await control.post("/faults", json={"latency_ms": 400})).raise_for_status()
        (await control.post(f"/calls/{leg.id}/answer")).raise_for_status()
        await wait_for(lambda: s.speech.phase == "opening", what="the stream being opened")
        await asyncio.sleep(0.1)
        # What the hangup event does; here it comes while the create is still out.
        await s.speech.call_ended()
        (await control.post("/faults", json={"reset": True})).raise_for_status()
        await asyncio.sleep(0.5)  # the server finishes a request whose client left
    store = sandbox.core.store  # type: ignore[union-attr]
    made = [sp for sp in store.speakings.values() if sp.reference_id == leg.id]
    assert made, "the server made the stream the client stopped waiting for"
    assert all(sp.tm_delete is not None for sp in made), [(sp.status, sp.tm_delete) for sp in made]


@pytest.mark.sandbox(answer_mode="manual")
async def test_flush_before_the_stream_opens_drops_every_waiting_line(
    session: tuple[CallSession, Recorder], sandbox: EmbeddedSandbox
) -> None:
    s, _ = session
    await s.dial(DialRequest())
    leg = await wait_for(lambda: s.call, what="leg")
    first, second = s.say("First line, said before the answer."), s.say("Second line.")
    await asyncio.sleep(0.05)  # the sender holds the first line, waiting for a stream
    await s.flush()
    assert [first[0].state, second[0].state] == ["flushed", "flushed"]
    async with httpx.AsyncClient(base_url=sandbox.control_url) as control:
        (await control.post(f"/calls/{leg.id}/answer")).raise_for_status()
    await wait_for(lambda: s.speech.phase == "active", what="speaking stream")
    await asyncio.sleep(0.3)
    assert [first[0].state, second[0].state] == ["flushed", "flushed"]
    assert first[0].sent_mono is None


@pytest.mark.sandbox(transcribe_speaking=False)
async def test_without_transcribed_speech_a_flush_leaves_finished_lines_alone(
    session: tuple[CallSession, Recorder],
) -> None:
    """The real service may never transcribe Speaking audio: lines stay "sent", and a flush must only cut
    what may still be playing, not every earlier line of the call."""
    s, _ = session
    await answered(s)
    (old,) = s.say("Short.")
    await wait_for(lambda: old.state == "sent", what="sent")
    assert old.sent_mono is not None
    old.sent_mono -= 60  # as if said a minute ago
    (recent,) = s.say("A line still being spoken while the flush comes in.")
    await wait_for(lambda: recent.state == "sent", what="sent")
    await s.flush()
    assert old.state == "sent"
    assert recent.state == "flushed"
    assert s.ledger.last_recoverable() is recent


@pytest.mark.sandbox(leg_create_delay=4.0)  # 0.2 s at speed 20: the hangup surely comes first
async def test_hangup_before_the_leg_exists_cancels_it_through_the_groupcall(
    session: tuple[CallSession, Recorder], sandbox: EmbeddedSandbox
) -> None:
    s, _ = session
    await s.dial(DialRequest())
    assert s.pending_legs, "the groupcall's leg record is created just after the response"
    leg_id = next(iter(s.pending_legs))
    await s.hangup()  # no leg record yet: POST /groupcalls/{id}/hangup
    await wait_for(lambda: s.phase == "ended", what="the call ends")
    assert s.groupcall is not None
    assert s.groupcall.status == "hangup"
    assert s.call is None
    await asyncio.sleep(0.4)  # past the leg's creation time: it never appears
    assert sandbox.core is not None
    assert leg_id not in sandbox.core.store.calls
    assert sandbox.stats()["live_calls"] == 0


async def test_a_line_heard_before_its_say_answer_comes_back_ends_heard_after_sent() -> None:
    import asyncio
    from types import SimpleNamespace

    from tui.session.says import SayLedger
    from tui.session.speaking import SpeakingOptions, SpeakingStream
    from tui.session.updates import SayUpdated

    answer = asyncio.Event()

    class SlowSay:
        async def say(self, speaking_id: str, text: str, on_sent: Any = None) -> None:
            if on_sent is not None:
                on_sent()
            await answer.wait()

    ledger = SayLedger()
    states: list[str] = []
    stream = SpeakingStream(
        SlowSay(),  # type: ignore[arg-type]
        SpeakingOptions(auto_open=False),
        ledger,
        lambda u: states.append(u.item.state) if isinstance(u, SayUpdated) else None,
        lambda *_a, **_k: None,
    )
    stream.speaking = SimpleNamespace(id="spk")  # type: ignore[assignment]
    (item,) = ledger.add(["Your order has shipped."])
    sending = asyncio.create_task(stream._send(item))
    await asyncio.sleep(0.01)
    assert item.state == "sending"
    assert ledger.match_transcript("t1", "Your order has shipped.", time.monotonic()) is item
    answer.set()
    await sending
    assert str(item.state) == "heard"
    assert states[-2:] == ["sent", "heard"]
    assert item.latency_ms is not None
    assert item.latency_ms >= 0
