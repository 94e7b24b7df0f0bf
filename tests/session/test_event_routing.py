"""Many calls on one account: each session is handed only the events about its own ids."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.voipbin import samples
from tui.session.account import Account
from tui.session.call_session import CallSession
from tui.session.speaking import SpeakingOptions
from tui.voipbin.events import Event
from tui.voipbin.frames import classify_payload
from tui.voipbin.rest import VoipbinClient

NOWHERE = "http://127.0.0.1:9/v1.0"


def _event(payload: dict[str, Any]) -> Event:
    return classify_payload(payload)


class CountingSession(CallSession):
    """Counts what the account offers it (the work a broadcast made N times per event)."""

    offered = 0

    def _on_event(self, event: Event) -> None:
        self.offered += 1
        super()._on_event(event)


@pytest.fixture
async def account() -> Any:
    acc = Account(VoipbinClient(NOWHERE, accesskey="vb_routing", timeout=0.5), label="routing")
    yield acc
    await acc.client.aclose()


async def test_each_session_is_offered_only_the_events_about_its_own_call(account: Account) -> None:
    sessions = [CountingSession(account, speaking=SpeakingOptions(auto_open=False)) for _ in range(20)]
    ids = [str(uuid.uuid4()) for _ in sessions]
    for session, cid in zip(sessions, ids, strict=True):
        session.pending_legs.add(cid)
        session.claim(cid)
    seen_by_all: list[Event] = []
    account.listen(seen_by_all.append)  # a plain listener (the event log) still hears everything
    for cid in ids:
        for status in ("ringing", "progressing"):
            account._on_event(_event(samples.call(status, id=cid)))
    assert len(seen_by_all) == 40
    assert [s.offered for s in sessions] == [2] * 20
    assert [s.call.status if s.call else None for s in sessions] == ["progressing"] * 20


async def test_a_transcribe_and_its_transcripts_reach_the_session_that_owns_the_call(account: Account) -> None:
    mine = CountingSession(account, speaking=SpeakingOptions(auto_open=False))
    other = CountingSession(account, speaking=SpeakingOptions(auto_open=False))
    mine.pending_legs.add(samples.CALL_ID)
    mine.claim(samples.CALL_ID)
    other_call = str(uuid.uuid4())
    other.pending_legs.add(other_call)
    other.claim(other_call)
    # The transcript comes before its transcribe (unordered delivery): kept, and caught up by id later.
    account._on_event(_event(samples.transcript(message="Hello from the routing test.")))
    assert mine.offered == other.offered == 0
    account._on_event(_event(samples.transcribe(reference_id=samples.CALL_ID)))
    assert samples.TRANSCRIBE_ID in mine.transcribes
    assert [ln.text for ln in mine.book.lines if ln.kind == "transcript"] == ["Hello from the routing test."]
    assert other.offered == 0
    assert not other.transcribes
    # A later transcript of that transcribe is routed by its transcribe id.
    account._on_event(_event(samples.transcript(id=str(uuid.uuid4()), message="And a second line.")))
    assert len([ln for ln in mine.book.lines if ln.kind == "transcript"]) == 2
    assert other.offered == 0


async def test_unrecognised_frames_still_reach_every_session_and_a_closed_one_hears_nothing(
    account: Account,
) -> None:
    a = CountingSession(account, speaking=SpeakingOptions(auto_open=False))
    b = CountingSession(account, speaking=SpeakingOptions(auto_open=False))
    account._on_event(_event({"what": "is this"}))
    assert (a.offered, b.offered) == (1, 1)
    cid = str(uuid.uuid4())
    a.pending_legs.add(cid)
    a.claim(cid)
    await a.close()
    account._on_event(_event(samples.call("ringing", id=cid)))
    assert a.offered == 1
    await b.close()
