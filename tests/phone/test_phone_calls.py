"""Whole calls: the installed `voipbin-tui phone` registers with a loopback SIP peer, is called, answers,
hears the greeting (energy in the right window), speaks its line after it (audible at the peer),
records both directions, and hangs up either way. Each engine, over UDP and TCP."""

from __future__ import annotations

import asyncio
import json
import sys
import wave
from pathlib import Path

import pytest

from tests.phone.conftest import PASSWORD, phone_args, silence, start_phone, tone
from tests.phone.sippeer import SipPeer
from tui.phone.levels import SpeechSegmenter

pytestmark = pytest.mark.timeout(60)

GREETING_START, GREETING_LEN = 0.5, 1.0


def loud_windows(pcm: bytes) -> list[tuple[float, float]]:
    segmenter = SpeechSegmenter(8000)
    segments = []
    for i in range(0, len(pcm) - 319, 320):
        segments += segmenter.feed(pcm[i : i + 320])
    segments += segmenter.flush()
    return [(s.start, s.end) for s in segments]


@pytest.mark.parametrize(("engine", "transport"), [("baresip", "udp"), ("baresip", "tcp"), ("pjsua2", "udp")])
async def test_answer_hear_greeting_say_line_remote_hangup(
    peer: SipPeer, tmp_path: Path, engine: str, transport: str
) -> None:
    line_wav = tmp_path / "line.wav"
    with wave.open(str(line_wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(tone(0.8, 660.0))
    args = [*phone_args(peer, transport, engine=engine), "--say", f"@{line_wav}", "--once", "--rtp-interval", "1"]
    phone = await start_phone(args, tmp_path)
    try:
        registered = await phone.next("registered")
        assert registered["transport"] == transport
        assert registered["engine"] == engine
        assert peer.bindings["2000"].transport == transport
        call = await peer.invite("2000")
        incoming = await phone.next("incoming")
        assert "voipbin" in incoming["from"]
        await asyncio.wait_for(call.answered.wait(), 10)
        assert 180 in call.statuses
        assert call.final_status == 200
        answered = await phone.next("answered")
        assert answered["engine"] == engine
        await peer.play(call, silence(GREETING_START) + tone(GREETING_LEN) + silence(2.0))
        heard = await phone.next("heard")
        # The greeting's energy is where it was played (give or take jitter buffers and packet timing).
        assert 0.2 <= heard["start"] <= GREETING_START + 0.6, heard
        assert GREETING_LEN - 0.3 <= heard["duration"] <= GREETING_LEN + 0.3, heard
        said = await phone.next("said")
        assert said["file"] == "line.wav"
        assert said["duration"] == pytest.approx(0.8, abs=0.03)
        assert said["start"] >= heard["end"], (said, heard)
        await asyncio.sleep(0.3)
        peer.hangup(call)
        hangup = await phone.next("hangup")
        assert hangup["by"] == "remote"
        assert hangup["heard_segments"] == 1
        code, err = await phone.finish()
        assert code == 0, err
    finally:
        phone.kill()
    # The line was audible at the far end, after the greeting, about as long as it was.
    windows = loud_windows(bytes(call.received_pcm))
    assert len(windows) == 1, windows
    start, end = windows[0]
    assert 0.5 <= end - start <= 1.1, windows
    rtp = phone.of("rtp")
    assert rtp
    assert rtp[-1]["rx_packets"] > 50, rtp
    assert rtp[-1]["tx_packets"] > 50, rtp
    assert call.rx_stats.snapshot().packets > 60  # about 3 s of the call, 50 a second
    assert call.rx_stats.snapshot().lost == 0
    heard_wav, said_wav = (Path(p) for p in hangup["recordings"])
    with wave.open(str(heard_wav)) as w:
        assert w.getframerate() == 8000
        assert w.getnframes() > 8000 * 2
        heard_windows = loud_windows(w.readframes(w.getnframes()))
    assert len(heard_windows) == 1
    with wave.open(str(said_wav)) as w:
        said_windows = loud_windows(w.readframes(w.getnframes()))
    assert len(said_windows) == 1
    assert said_windows[0][0] >= heard_windows[0][1]
    assert phone.kinds()[-1] == "unregistered"
    assert peer.unregistered.is_set()
    assert all(PASSWORD not in raw for raw in phone.raw)
    assert PASSWORD not in err


async def test_phone_hangs_up_and_peer_sees_bye(peer: SipPeer, tmp_path: Path) -> None:
    phone = await start_phone([*phone_args(peer, "tcp"), "--hangup-after", "1", "--once", "--no-record"], tmp_path)
    try:
        await phone.next("registered")
        call = await peer.invite("2000")
        await asyncio.wait_for(call.answered.wait(), 10)
        await asyncio.wait_for(call.ended.wait(), 10)
        assert call.ended_by == "phone"
        hangup = await phone.next("hangup")
        assert hangup["by"] == "local"
        assert 0.9 <= hangup["duration"] <= 3.0
        assert "recordings" in hangup
        assert hangup["recordings"] == []
        code, _ = await phone.finish()
        assert code == 0
    finally:
        phone.kill()


async def test_ctrl_c_mid_call_hangs_up_and_unregisters(peer: SipPeer, tmp_path: Path) -> None:
    phone = await start_phone(phone_args(peer, "udp"), tmp_path)
    try:
        await phone.next("registered")
        call = await peer.invite("2000")
        await phone.next("answered")
        code, err = await phone.finish(interrupt=True)
        assert code == 0, err
        assert call.ended.is_set()
        assert call.ended_by == "phone"
        assert phone.kinds()[-2:] == ["hangup", "unregistered"]
        assert phone.of("hangup")[0]["by"] == "local"
        assert peer.unregistered.is_set()
        assert "2000" not in peer.bindings
    finally:
        phone.kill()


async def test_reject_mode_declines_with_486(peer: SipPeer, tmp_path: Path) -> None:
    phone = await start_phone([*phone_args(peer, "udp"), "--answer", "reject", "--once"], tmp_path)
    try:
        await phone.next("registered")
        call = await peer.invite("2000")
        await asyncio.wait_for(call.ended.wait(), 10)
        assert call.final_status == 486
        assert call.ended_by == "rejected"
        hangup = await phone.next("hangup")
        assert hangup["answered"] is False
        assert hangup["by"] == "local"
        code, _ = await phone.finish()
        assert code == 0
        assert "answered" not in phone.kinds()
    finally:
        phone.kill()


async def test_manual_mode_rings_until_told_to_answer(peer: SipPeer, tmp_path: Path) -> None:
    phone = await start_phone([*phone_args(peer, "tcp"), "--answer", "manual", "--once"], tmp_path)
    try:
        await phone.next("registered")
        call = await peer.invite("2000")
        incoming = await phone.next("incoming")
        assert incoming["answer"] == "manual"
        await asyncio.sleep(1.5)
        # A phone nobody answers keeps ringing: provisional responses only.
        assert call.final_status == 0
        assert 180 in call.statuses
        assert not call.answered.is_set()
        await phone.send("answer")
        await asyncio.wait_for(call.answered.wait(), 10)
        await phone.next("answered")
        await phone.send("hangup")
        await asyncio.wait_for(call.ended.wait(), 10)
        assert call.ended_by == "phone"
        code, _ = await phone.finish()
        assert code == 0
    finally:
        phone.kill()


async def test_srtp_call_from_an_independent_user_agent(peer: SipPeer, tmp_path: Path) -> None:
    """PJSIP dials the registered phone directly with SRTP required; the phone (baresip, --srtp) answers,
    and hears the caller's tone bursts at their length, so the media was decrypted."""
    wav_path = tmp_path / "caller.wav"
    with wave.open(str(wav_path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(silence(0.3) + tone(0.6) + silence(0.8))  # played in a loop
    phone = await start_phone([*phone_args(peer, "udp"), "--srtp", "--once"], tmp_path)
    try:
        await phone.next("registered")
        contact = peer.bindings["2000"].contact
        caller = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.phone.pjcaller", contact, str(wav_path), "3",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(caller.communicate(), 30)
        summary = json.loads(out.decode().strip().splitlines()[-1])
        assert summary["confirmed"], err.decode()[-2000:]
        assert summary["srtp"]
        assert summary["rx_packets"] > 50
        assert (await phone.next("answered"))["engine"] == "baresip"
        await phone.next("hangup")
        heard = phone.of("heard")
        assert heard, phone.lines
        assert all(0.4 <= h["duration"] <= 0.9 for h in heard), heard
        code, _ = await phone.finish()
        assert code == 0
    finally:
        phone.kill()
