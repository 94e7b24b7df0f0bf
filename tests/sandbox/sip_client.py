"""A tiny raw SIP phone for the tests: our own few lines of SIP, independent of the sandbox's code.

It sends hand-written requests and responses over UDP or TCP on loopback, computes digest answers with
hashlib, and has an RTP socket that records what arrives (energy per packet) and can send G.711 µ-law.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import re
import secrets
import ssl
import struct
from dataclasses import dataclass, field
from typing import Any

ULAW_SILENCE = 0xFF


def _ulaw_decode(code: int) -> int:
    code = ~code & 0xFF
    magnitude = ((((code & 0x0F) << 3) + 0x84) << ((code >> 4) & 0x07)) - 0x84
    return -magnitude if code & 0x80 else magnitude


def _ulaw_encode(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(32635, abs(sample)) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


ULAW = [_ulaw_decode(c) for c in range(256)]
ALAW_SILENCE = 0xD5


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@dataclass
class Msg:
    first: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    @property
    def method(self) -> str:
        return "" if self.first.startswith("SIP/2.0") else self.first.split()[0]

    @property
    def status(self) -> int:
        return int(self.first.split()[1]) if self.first.startswith("SIP/2.0") else 0

    def h(self, name: str) -> str:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return ""

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def parse(data: bytes) -> Msg:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = [(line.split(":", 1)[0].strip(), line.split(":", 1)[1].strip()) for line in lines[1:] if ":" in line]
    msg = Msg(lines[0], headers)
    length = int(msg.h("Content-Length") or 0)
    msg.body = body[:length]
    return msg


@dataclass
class Rtp:
    """The phone's RTP socket: counts packets and their energy; sends µ-law frames to ``remote``."""

    transport: asyncio.DatagramTransport
    port: int
    remote: tuple[str, int] | None = None
    packets: list[tuple[float, int, float]] = field(default_factory=list)  # arrival, payload type, rms

    def rms_over(self, threshold: float) -> int:
        return sum(1 for _, _, level in self.packets if level > threshold)

    def send_tone(self, seconds: float, amplitude: int = 8000, seq0: int = 1) -> list[bytes]:
        """Packets of a 300 Hz tone (20 ms each), returned for the caller to pace."""
        packets: list[bytes] = []
        for index in range(int(seconds / 0.02)):
            samples = [int(amplitude * math.sin(2 * math.pi * 300 * (index * 160 + n) / 8000)) for n in range(160)]
            payload = bytes(_ulaw_encode(s) for s in samples)
            header = struct.pack("!BBHII", 0x80, 0, (seq0 + index) & 0xFFFF, index * 160, 0x1234)
            packets.append(header + payload)
        return packets

    async def play(self, packets: list[bytes]) -> None:
        assert self.remote is not None
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, packet in enumerate(packets):
            self.transport.sendto(packet, self.remote)
            await asyncio.sleep(max(0.0, start + (index + 1) * 0.02 - loop.time()))


class _RtpProtocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.rtp: Rtp | None = None

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.rtp is None or len(data) < 12:
            return
        payload_type = data[1] & 0x7F
        table = ULAW if payload_type == 0 else [_alaw(c) for c in range(256)] if payload_type == 8 else None
        if table is None:
            return
        samples = [table[b] for b in data[12:]]
        level = math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))
        self.rtp.packets.append((asyncio.get_running_loop().time(), payload_type, level))


def _alaw(code: int) -> int:
    code ^= 0x55
    magnitude = (code & 0x0F) << 4
    seg = (code & 0x70) >> 4
    magnitude = magnitude + 8 if seg == 0 else (magnitude + 0x108) << (seg - 1)
    return magnitude if code & 0x80 else -magnitude


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[Msg]) -> None:
        self.queue = queue

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait(parse(data))


class RawPhone:
    def __init__(
        self,
        kind: str,
        server: tuple[str, int],
        extension: str,
        domain: str,
        password: str,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.kind = kind
        self.tls = tls
        self.server = server
        self.extension = extension
        self.domain = domain
        self.password = password
        self.queue: asyncio.Queue[Msg] = asyncio.Queue()
        self.call_id = secrets.token_hex(8)
        self.tag = secrets.token_hex(4)
        self.cseq = 0
        self.local_port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self.rtp: Rtp | None = None

    async def open(self) -> RawPhone:
        loop = asyncio.get_running_loop()
        if self.kind == "udp":
            udp, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self.queue), local_addr=("127.0.0.1", 0))
            self._udp = udp
            self.local_port = udp.get_extra_info("sockname")[1]
        else:
            reader, writer = await asyncio.open_connection(*self.server, ssl=self.tls)
            self._writer = writer
            self.local_port = writer.get_extra_info("sockname")[1]
            self._reader_task = loop.create_task(self._read_stream(reader))
        proto = _RtpProtocol()
        transport, _ = await loop.create_datagram_endpoint(lambda: proto, local_addr=("127.0.0.1", 0))
        self.rtp = Rtp(transport, transport.get_extra_info("sockname")[1])
        proto.rtp = self.rtp
        return self

    async def _read_stream(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                found = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                body = await reader.readexactly(int(found.group(1))) if found else b""
                self.queue.put_nowait(parse(head + body))

    def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self.rtp is not None:
            self.rtp.transport.close()

    def send(self, text: str, body: bytes = b"") -> None:
        data = text.replace("\n", "\r\n").rstrip("\r\n").encode() + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        data += body
        if self._udp is not None:
            self._udp.sendto(data, self.server)
        else:
            assert self._writer is not None
            self._writer.write(data)

    async def next(self, timeout: float = 5.0) -> Msg:
        return await asyncio.wait_for(self.queue.get(), timeout=timeout)

    async def expect(self, method_or_status: str | int, timeout: float = 5.0) -> Msg:
        """The next message of that method (request) or status (response), skipping others."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            msg = await self.next(max(0.01, deadline - loop.time()))
            if method_or_status in (msg.method, msg.status):
                return msg

    @property
    def via(self) -> str:
        return f"SIP/2.0/{self.kind.upper()} 127.0.0.1:{self.local_port};branch=z9hG4bK{secrets.token_hex(6)};rport"

    @property
    def contact(self) -> str:
        return f"<sip:{self.extension}@127.0.0.1:{self.local_port};transport={self.kind}>"

    def register_text(self, expires: int, auth: str = "", user: str | None = None, domain: str | None = None) -> str:
        self.cseq += 1
        user = user or self.extension
        domain = domain or self.domain
        lines = [
            f"REGISTER sip:{domain} SIP/2.0",
            f"Via: {self.via}",
            "Max-Forwards: 70",
            f"From: <sip:{user}@{domain}>;tag={self.tag}",
            f"To: <sip:{user}@{domain}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: {self.contact}",
            f"Expires: {expires}",
        ]
        if auth:
            lines.append(f"Authorization: {auth}")
        return "\n".join(lines)

    def answer_challenge(self, challenge: str, password: str, method: str = "REGISTER") -> str:
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
        uri = f"sip:{self.domain}"
        ha1 = md5(f"{self.extension}:{fields['realm']}:{password}")
        ha2 = md5(f"{method}:{uri}")
        cnonce, nc = secrets.token_hex(4), "00000001"
        response = md5(f"{ha1}:{fields['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        return (
            f'Digest username="{self.extension}", realm="{fields["realm"]}", nonce="{fields["nonce"]}", '
            f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"'
        )

    async def register(self, expires: int = 60, password: str | None = None) -> Msg:
        """REGISTER, answer one challenge; the final response."""
        self.send(self.register_text(expires))
        first = await self.expect_final()
        if first.status != 401:
            return first
        self.send(
            self.register_text(expires, self.answer_challenge(first.h("WWW-Authenticate"), password or self.password))
        )
        return await self.expect_final()

    async def expect_final(self, timeout: float = 5.0) -> Msg:
        while True:
            msg = await self.next(timeout)
            if msg.status >= 200:
                return msg

    def reply(self, request: Msg, status: int, reason: str, *, tag: str = "", sdp: bytes = b"") -> None:
        to = request.h("To") + (f";tag={tag}" if tag and "tag=" not in request.h("To") else "")
        lines = [f"SIP/2.0 {status} {reason}"]
        lines += [f"Via: {via}" for via in request.all("Via")]
        lines += [f"From: {request.h('From')}", f"To: {to}", f"Call-ID: {request.h('Call-ID')}"]
        lines.append(f"CSeq: {request.h('CSeq')}")
        if 200 <= status < 300 and request.method in ("INVITE",):
            lines.append(f"Contact: {self.contact}")
        if sdp:
            lines.append("Content-Type: application/sdp")
        self.send("\n".join(lines), sdp)

    def sdp(self, payload_type: int = 0) -> bytes:
        assert self.rtp is not None
        name = "PCMU" if payload_type == 0 else "PCMA"
        return (
            "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {self.rtp.port} RTP/AVP {payload_type}\r\na=rtpmap:{payload_type} {name}/8000\r\na=sendrecv\r\n"
        ).encode()

    def in_dialog(self, invite: Msg, method: str, cseq: int, our_tag: str, body: bytes = b"") -> None:
        """A request from the phone inside the dialog the INVITE created (we are its UAS side)."""
        contact = re.search(r"<([^>]+)>", invite.h("Contact"))
        assert contact is not None
        lines = [
            f"{method} {contact.group(1)} SIP/2.0",
            f"Via: {self.via}",
            "Max-Forwards: 70",
            f"From: {invite.h('To')};tag={our_tag}",
            f"To: {invite.h('From')}",
            f"Call-ID: {invite.h('Call-ID')}",
            f"CSeq: {cseq} {method}",
            f"Contact: {self.contact}",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        self.send("\n".join(lines), body)
