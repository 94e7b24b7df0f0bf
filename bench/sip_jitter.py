"""RTP pacing of the sandbox's SIP side under load: ``sip_rtp_jitter_p99_ms`` at N concurrent SIP calls.

A sandbox with ``sip = true`` and N extensions runs **in a subprocess**. This process registers one raw
UDP phone per extension (digest auth), places one extension call each through the REST API (the
quickstart flow: transcribe, a greeting, a long sleep), answers every INVITE with 200 and PCMU, and then
for ``duration_s`` sends 20 ms µ-law packets back (a tone half the time, so the sandbox's segmenter works)
while it timestamps every packet the sandbox sends. For each call it keeps the RFC 3550 interarrival
jitter estimate after every packet (skipping the first second); the figure is the p99 of those estimates
over all calls, in ms. Arrival times are taken in this process, so its own scheduling noise counts
against the sandbox: the figure is an upper bound of the sandbox's jitter (``receiver_loop_lag_p99_ms``
says how late this process's own loop ran).

Run ``python -m bench.sip_jitter [--calls 50] [--duration 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import re
import secrets
import struct
import sys
import time
from typing import Any

import httpx

from bench.child import ChildProcess

GREETING = (
    "Hello. This is the VoIPBIN real-time voice interaction test. You can speak now and your speech "
    "will be transcribed. The call will stay open for you to test the Speaking API."
)
WARMUP_S = 1.0


# --- the sandbox side (subprocess) ----------------------------------------------------------------


async def _serve(calls: int, tts: bool) -> None:
    from tui.sandbox import EmbeddedSandbox, SandboxSettings
    from tui.sandbox.settings import ExtensionSeed

    extensions = [
        ExtensionSeed(name=f"bench-{i:03d}", extension=f"bench-{i:03d}", password=f"pw-{i:03d}") for i in range(calls)
    ]
    settings = SandboxSettings(sip=True, extensions=extensions, random_seed=1, dial_timeout=60.0, sip_tts=tts)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with EmbeddedSandbox(settings) as sandbox:
        info = {
            "api_url": sandbox.api_url,
            "accesskey": sandbox.accesskey,
            "domain": sandbox.customer_id,
            "sip_port": sandbox.sip_port,
        }
        print(json.dumps(info), flush=True)
        while True:
            line = (await reader.readline()).decode().strip()
            sip = sandbox.core.sip if sandbox.core is not None else None
            if sip is None:
                break
            if line == "stats":
                print(json.dumps({**sip.stats(), "cpu_s": time.process_time(), "at": time.monotonic()}), flush=True)
            elif line == "reset":
                sip.clock.lateness_ms.clear()
                print(json.dumps({"cpu_s": time.process_time(), "at": time.monotonic()}), flush=True)
            else:  # "quit" or EOF
                break


# --- the phones (this process) --------------------------------------------------------------------


def _ulaw(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(32635, abs(sample)) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    return ~(sign | (exponent << 4) | ((magnitude >> (exponent + 3)) & 0x0F)) & 0xFF


TONE = bytes(_ulaw(int(6000 * math.sin(2 * math.pi * 300 * n / 8000))) for n in range(160))
SILENCE = b"\xff" * 160


class Phone(asyncio.DatagramProtocol):
    """One extension: SIP over UDP on one socket, RTP on another; measures what the sandbox sends."""

    def __init__(self, index: int, server: tuple[str, int], domain: str) -> None:
        self.user = f"bench-{index:03d}"
        self.password = f"pw-{index:03d}"
        self.server = server
        self.domain = domain
        self.sip: asyncio.DatagramTransport | None = None
        self.rtp: asyncio.DatagramTransport | None = None
        self.sip_port = 0
        self.rtp_port = 0
        self.responses: asyncio.Queue[str] = asyncio.Queue()
        self.answered = asyncio.Event()
        self.remote_rtp: tuple[str, int] | None = None
        self.jitter = 0.0
        self.samples: list[float] = []
        self.received = 0
        self.first_seq: int | None = None
        self.last_seq = 0
        self._transit: float | None = None
        self._start = 0.0
        self._seq = 0

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self.sip, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", 0))
        self.sip_port = self.sip.get_extra_info("sockname")[1]
        self.rtp, _ = await loop.create_datagram_endpoint(lambda: _Rtp(self), local_addr=("127.0.0.1", 0))
        self.rtp_port = self.rtp.get_extra_info("sockname")[1]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        text = data.decode(errors="replace")
        if text.startswith("SIP/2.0"):
            self.responses.put_nowait(text)
        elif text.startswith("INVITE "):
            self._answer(text)

    def _send(self, text: str, body: str = "") -> None:
        assert self.sip is not None
        head = text.rstrip("\r\n") + f"\r\nContent-Length: {len(body)}\r\n\r\n"
        self.sip.sendto((head + body).encode(), self.server)

    def _register(self, call_id: str, cseq: int, auth: str = "") -> None:
        lines = [
            f"REGISTER sip:{self.domain} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.sip_port};branch=z9hG4bK{secrets.token_hex(6)}",
            f"From: <sip:{self.user}@{self.domain}>;tag={secrets.token_hex(4)}",
            f"To: <sip:{self.user}@{self.domain}>",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} REGISTER",
            f"Contact: <sip:{self.user}@127.0.0.1:{self.sip_port}>",
            "Expires: 300",
        ]
        if auth:
            lines.append(f"Authorization: {auth}")
        self._send("\r\n".join(lines))

    async def register(self) -> None:
        call_id = secrets.token_hex(8)
        self._register(call_id, 1)
        challenge = await asyncio.wait_for(self.responses.get(), 5)
        fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge.split("WWW-Authenticate:", 1)[1].split("\r\n")[0]))
        uri = f"sip:{self.domain}"
        ha1 = hashlib.md5(f"{self.user}:{fields['realm']}:{self.password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"REGISTER:{uri}".encode()).hexdigest()
        cnonce = secrets.token_hex(4)
        digest = hashlib.md5(f"{ha1}:{fields['nonce']}:00000001:{cnonce}:auth:{ha2}".encode()).hexdigest()
        auth = (
            f'Digest username="{self.user}", realm="{fields["realm"]}", nonce="{fields["nonce"]}", uri="{uri}", '
            f'response="{digest}", algorithm=MD5, qop=auth, nc=00000001, cnonce="{cnonce}"'
        )
        self._register(call_id, 2, auth)
        final = await asyncio.wait_for(self.responses.get(), 5)
        if not final.startswith("SIP/2.0 200"):
            raise RuntimeError(f"{self.user} did not register: {final.splitlines()[0]}")

    def _answer(self, invite: str) -> None:
        head, _, body = invite.partition("\r\n\r\n")
        headers = head.split("\r\n")
        keep = [h for h in headers[1:] if h.split(":", 1)[0].lower() in ("via", "from", "call-id", "cseq")]
        to = next(h for h in headers if h.lower().startswith("to:"))
        port = re.search(r"m=audio (\d+)", body)
        host = re.search(r"c=IN IP4 (\S+)", body)
        if port is None or host is None:
            return
        if self.remote_rtp is None:
            self.remote_rtp = (host.group(1), int(port.group(1)))
        sdp = (
            f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {self.rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
        )
        lines = ["SIP/2.0 200 OK", *keep, f"{to};tag=b{self.sip_port}"]
        lines += [f"Contact: <sip:{self.user}@127.0.0.1:{self.sip_port}>", "Content-Type: application/sdp"]
        self._send("\r\n".join(lines), sdp)
        self.answered.set()

    def on_rtp(self, data: bytes, now: float) -> None:
        if len(data) < 12:
            return
        seq, timestamp = struct.unpack_from("!HI", data, 2)
        self.received += 1
        if self.first_seq is None:
            self.first_seq = seq
            self._start = now
        self.last_seq = seq
        transit = now * 8000 - timestamp
        if self._transit is not None:
            self.jitter += (abs(transit - self._transit) - self.jitter) / 16
            if now - self._start >= WARMUP_S:
                self.samples.append(self.jitter / 8.0)  # timestamp units -> ms
        self._transit = transit

    def send_frame(self, talking: bool) -> None:
        if self.rtp is None or self.remote_rtp is None:
            return
        header = struct.pack("!BBHII", 0x80, 0, self._seq & 0xFFFF, self._seq * 160, 0x5EED)
        self.rtp.sendto(header + (TONE if talking else SILENCE), self.remote_rtp)
        self._seq += 1

    def close(self) -> None:
        for transport in (self.sip, self.rtp):
            if transport is not None:
                transport.close()


class _Rtp(asyncio.DatagramProtocol):
    def __init__(self, phone: Phone) -> None:
        self.phone = phone

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.phone.on_rtp(data, asyncio.get_running_loop().time())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


async def _talk(phones: list[Phone], duration_s: float) -> list[float]:
    """Every phone sends 20 ms packets: 1 s of tone, 1 s of silence, over and over.

    Returns how late each of this process's own ticks woke (ms): its event loop also timestamps what
    arrives, so this says how much of the figure could be the measuring side's own lag.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    tick = 0
    lag: list[float] = []
    while loop.time() - start < duration_s:
        lag.append(max(0.0, loop.time() - (start + tick * 0.02)) * 1000.0)
        talking = (tick // 50) % 2 == 0
        for phone in phones:
            phone.send_frame(talking)
        tick += 1
        await asyncio.sleep(max(0.0, start + tick * 0.02 - loop.time()))
    return lag


async def measure_sip_jitter(calls: int = 50, duration_s: float = 20.0, tts: bool = True) -> dict[str, Any]:
    args = ["bench.sip_jitter", "--serve", "--calls", str(calls)] + ([] if tts else ["--tone"])
    async with ChildProcess(args, quit_line="quit") as child:
        info = child.info
        server = ("127.0.0.1", int(info["sip_port"]))
        phones = [Phone(i, server, info["domain"]) for i in range(calls)]
        try:
            for phone in phones:
                await phone.open()
            await asyncio.gather(*(phone.register() for phone in phones))
            body: dict[str, Any] = {
                "source": {"type": "tel", "target": "+15551234567"},
                "actions": [
                    {"type": "transcribe_start", "option": {"language": "en-US"}},
                    {"type": "talk", "option": {"text": GREETING}},
                    {"type": "sleep", "option": {"duration": 600000}},
                ],
            }
            call_ids: list[str] = []
            async with httpx.AsyncClient(
                base_url=info["api_url"], params={"accesskey": info["accesskey"]}, timeout=30
            ) as rest:
                for phone in phones:
                    body["destinations"] = [{"type": "extension", "target_name": phone.user}]
                    response = await rest.post("/calls", json=body)
                    response.raise_for_status()
                    call_ids.extend(response.json()["groupcalls"][0]["call_ids"])
                await asyncio.wait_for(asyncio.gather(*(p.answered.wait() for p in phones)), timeout=30)
                before = await child.request("reset")
                own_lag = await _talk(phones, duration_s)
                stats = await child.request("stats")
                for call_id in call_ids:
                    await rest.post(f"/calls/{call_id}/hangup")
        finally:
            for phone in phones:
                phone.close()
    samples = [value for phone in phones for value in phone.samples]
    expected = sum(((p.last_seq - p.first_seq) & 0xFFFF) + 1 for p in phones if p.first_seq is not None)
    received = sum(p.received for p in phones)
    sandbox_side = [c["rtp"]["jitter_ms"] for c in stats.get("calls", [])]
    return {
        "calls": calls,
        "duration_s": duration_s,
        "jitter_p50_ms": round(percentile(samples, 50), 3),
        "jitter_p99_ms": round(percentile(samples, 99), 3),
        "jitter_max_ms": round(max(samples, default=math.nan), 3),
        "packets_received": received,
        "packets_lost": max(0, expected - received),
        "receiver_loop_lag_p99_ms": round(percentile(own_lag, 99), 3),
        "receiver_loop_lag_max_ms": round(max(own_lag, default=math.nan), 3),
        "sandbox_media_clock_lateness_p99_ms": stats.get("media_clock_lateness_p99_ms"),
        "sandbox_media_clock_lateness_max_ms": stats.get("media_clock_lateness_max_ms"),
        "sandbox_cpu_pct": round(100 * (stats["cpu_s"] - before["cpu_s"]) / max(0.001, stats["at"] - before["at"]), 1),
        "sandbox_heard_jitter_p99_ms": round(percentile(sandbox_side, 99), 3),
        "sandbox_segments_heard": sum(c.get("in_speech_segments", 0) for c in stats.get("calls", [])),
        "audio_out": sorted({c.get("audio_out", "") for c in stats.get("calls", [])}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sip_jitter", description=__doc__)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--tone", action="store_true", help="tone bursts even if the tts extra is installed")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.calls, not args.tone))
        return 0
    print(json.dumps(asyncio.run(measure_sip_jitter(args.calls, args.duration, not args.tone)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
