"""An independent user agent (pjsua2, PJSIP's own SIP and RTP stack) registers and answers a sandbox call."""

from __future__ import annotations

import array
import asyncio
import json
import math
import re
import sys
import wave
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.sandbox.conftest import EventLog, SandboxFactory, login
from tui.sandbox.settings import SEED_PASSWORDS

pytestmark = pytest.mark.timeout(60)

PHONE = Path(__file__).with_name("pjsua_phone.py")


def write_tone_wav(path: Path, silence: float, tone: float) -> None:
    samples = array.array("h", [0] * int(silence * 8000))
    samples.extend(int(9000 * math.sin(2 * math.pi * 350 * n / 8000)) for n in range(int(tone * 8000)))
    samples.extend([0] * 4000)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(samples.tobytes())


def wav_rms_frames(path: Path, threshold: float) -> int:
    """How many 20 ms frames of a recording are louder than ``threshold`` (RMS)."""
    with wave.open(str(path), "rb") as recording:
        rate = recording.getframerate()
        samples = array.array("h")
        samples.frombytes(recording.readframes(recording.getnframes()))
    step = rate // 50
    loud = 0
    for start in range(0, len(samples) - step, step):
        frame = samples[start : start + step]
        if math.sqrt(sum(s * s for s in frame) / step) > threshold:
            loud += 1
    return loud


class PhoneProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.events: list[dict[str, Any]] = []

    async def expect(self, event: str, timeout: float = 10.0) -> dict[str, Any]:
        assert self.process.stdout is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout=max(0.01, deadline - loop.time()))
            assert line, f"the pjsua2 phone ended before {event!r}; events so far {self.events}"
            if not line.startswith(b"{"):
                continue
            record: dict[str, Any] = json.loads(line)
            self.events.append(record)
            if record["event"] == event:
                return record


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_pjsua2_registers_answers_and_hears(
    transport: str, start_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = await start_sandbox(sip=True, dial_timeout=20.0)
    play, record = tmp_path / "say.wav", tmp_path / "heard.wav"
    write_tone_wav(play, silence=0.6, tone=1.2)
    config = {
        "transport": transport,
        "host": "127.0.0.1",
        "port": sandbox.sip_port,
        "username": "quickstart-phone",
        "domain": sandbox.customer_id,
        "password": SEED_PASSWORDS["quickstart-phone"],
        "play_wav": str(play),
        "record_wav": str(record),
        "lifetime": 40,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PHONE),
        json.dumps(config),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    phone = PhoneProcess(process)
    token = await login(sandbox)
    ws = await websockets.connect(f"{sandbox.ws_url}?token={token}")
    events = EventLog(ws)
    await ws.send(
        json.dumps({"type": "subscribe", "topics": [f"customer_id:{sandbox.customer_id}:transcript:transcript_"]})
    )
    try:
        registered = await phone.expect("registered")
        assert registered["code"] == 200
        async with httpx.AsyncClient(
            base_url=sandbox.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as rest:
            body = {
                "source": {"type": "tel", "target": "+15551234567"},
                "destinations": [{"type": "extension", "target_name": "quickstart-phone"}],
                "actions": [
                    {"type": "transcribe_start", "option": {"language": "en-US"}},
                    {"type": "talk", "option": {"text": "Hello from the sandbox, can you hear me?"}},
                    {"type": "sleep", "option": {"duration": 20000}},
                ],
            }
            response = await rest.post("/calls", json=body)
            assert response.status_code == 200, response.text
            call_id = response.json()["groupcalls"][0]["call_ids"][0]
            await phone.expect("incoming")
            media = await phone.expect("media")
            assert media["codec"] in ("PCMU", "PCMA")
            await phone.expect("answered")
            heard = await events.wait_for(
                lambda p: p.get("direction") == "in" and str(p.get("message", "")).startswith("[speech "), timeout=15
            )
            assert re.fullmatch(r"\[speech 1\.[0-4] s\]", heard[0]["message"])
            await events.wait_for(lambda p: p.get("direction") == "out" and "Hello" in p.get("message", ""))
            assert (await rest.post(f"/calls/{call_id}/hangup")).status_code == 200
            await phone.expect("disconnected")
            call = (await rest.get(f"/calls/{call_id}")).json()
            stats = sandbox.stats()["sip"]["calls"][0]
        assert call["status"] in ("terminating", "hangup")
        assert stats["rtp"]["packets_received"] >= 50
        assert stats["rtp"]["packets_lost"] == 0
        assert stats["in_speech_segments"] == 1
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            process.kill()
            await process.wait()
        await events.close()
    # What pjsua2 recorded is the sandbox's greeting (tone bursts or TTS): clearly louder than silence.
    assert wav_rms_frames(record, 500.0) >= 20
