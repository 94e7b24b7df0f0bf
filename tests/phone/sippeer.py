"""A tiny SIP peer for the phone's tests: registrar (MD5 digest), INVITE, PCMU/PCMA RTP, BYE.

It stands in for the far side (the sandbox's SIP side or the real VoIPBIN) on loopback only. It is
deliberately small and written from the RFCs (3261, 2617, 4566, 3550), not from the code under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import secrets
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tui.phone import g711
from tui.phone.rtpstats import RtpReceiveStats

_COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
}
MAX_MESSAGE = 65_536


@dataclass
class SipMessage:
    start: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return not self.start.startswith("SIP/2.0")

    @property
    def method(self) -> str:
        return self.start.split(" ", 1)[0] if self.is_request else self.header("cseq").split()[-1]

    @property
    def status(self) -> int:
        return int(self.start.split()[1]) if not self.is_request else 0

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key == name:
                return value
        return ""

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


def parse(data: bytes) -> SipMessage:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        key, _, value = line.partition(":")
        key = key.strip().lower()
        headers.append((_COMPACT.get(key, key), value.strip()))
    return SipMessage(lines[0], headers, body)


def _param(value: str, name: str) -> str:
    match = re.search(rf'{name}="?([^",]*)"?', value)
    return match.group(1) if match else ""


def _uri(value: str) -> str:
    match = re.search(r"<([^>]+)>", value)
    return match.group(1) if match else value.split(";")[0].strip()


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@dataclass
class Binding:
    user: str
    contact: str
    transport: str
    addr: tuple[str, int]
    writer: asyncio.StreamWriter | None = None


@dataclass
class PeerCall:
    """One INVITE the peer sent, and what happened to it."""

    call_id: str
    binding: Binding
    statuses: list[int] = field(default_factory=list)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    ended_by: str = ""
    final_status: int = 0
    codec: str = "ulaw"
    remote_rtp: tuple[str, int] | None = None
    received_pcm: bytearray = field(default_factory=bytearray)
    rx_stats: RtpReceiveStats = field(default_factory=RtpReceiveStats)
    to_header: str = ""
    cseq: int = 1
    reinvites: int = 0


class _RtpProtocol(asyncio.DatagramProtocol):
    def __init__(self, on_packet: Callable[[bytes, float], None]) -> None:
        self.on_packet = on_packet

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.on_packet(data, time.monotonic())


class SipPeer:
    """Registrar + caller on one loopback port, UDP and TCP."""

    def __init__(self, users: dict[str, str], domain: str = "sandbox.local", *, max_tcp_read: float = 30.0) -> None:
        self.users = users
        self.domain = domain
        self.host = "127.0.0.1"
        self.port = 0
        self.bindings: dict[str, Binding] = {}
        self.register_log: list[tuple[str, int]] = []  # (user, status we answered)
        self.calls: dict[str, PeerCall] = {}
        self.registered = asyncio.Event()
        self.unregistered = asyncio.Event()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._nonce = secrets.token_hex(8)
        self._tasks: set[asyncio.Task[None]] = set()
        self._rtp: dict[str, asyncio.DatagramTransport] = {}

    # -- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tcp = await asyncio.start_server(self._on_tcp, self.host, 0)
        self.port = self._tcp.sockets[0].getsockname()[1]
        peer = self

        class _Udp(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                peer._handle(parse(data[:MAX_MESSAGE]), "udp", addr, None)

        # Same port number for UDP as for TCP, as a SIP server would listen.
        transport, _ = await loop.create_datagram_endpoint(_Udp, local_addr=(self.host, self.port))
        self._udp = transport

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for rtp in self._rtp.values():
            rtp.close()
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tcp.wait_closed(), 1)

    # -- transport -----------------------------------------------------------------------------------
    async def _on_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        addr = writer.get_extra_info("peername")
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if len(head) > MAX_MESSAGE:
                    return
                length = int(_param_header(head, "content-length") or 0)
                body = await reader.readexactly(min(length, MAX_MESSAGE)) if length else b""
                self._handle(parse(head + body), "tcp", addr, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            return

    def _send(self, data: bytes, transport: str, addr: tuple[str, int], writer: asyncio.StreamWriter | None) -> None:
        if transport == "tcp" and writer is not None:
            writer.write(data)
        elif self._udp is not None:
            self._udp.sendto(data, addr)

    def _reply(
        self,
        req: SipMessage,
        status: int,
        reason: str,
        transport: str,
        addr: tuple[str, int],
        writer: asyncio.StreamWriter | None,
        extra: list[str] | None = None,
        body: bytes = b"",
        to_tag: str = "",
    ) -> None:
        lines = [f"SIP/2.0 {status} {reason}"]
        lines += [f"Via: {v}" for v in req.all("via")]
        to = req.header("to")
        if to_tag and "tag=" not in to:
            to += f";tag={to_tag}"
        lines += [f"From: {req.header('from')}", f"To: {to}", f"Call-ID: {req.header('call-id')}"]
        lines += [f"CSeq: {req.header('cseq')}", *(extra or [])]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        self._send(("\r\n".join(lines) + "\r\n\r\n").encode() + body, transport, addr, writer)

    # -- dispatch ------------------------------------------------------------------------------------
    def _handle(
        self, msg: SipMessage, transport: str, addr: tuple[str, int], writer: asyncio.StreamWriter | None
    ) -> None:
        if not msg.is_request:
            self._on_response(msg)
            return
        method = msg.method
        if method == "REGISTER":
            self._on_register(msg, transport, addr, writer)
        elif method == "OPTIONS":
            self._reply(msg, 200, "OK", transport, addr, writer, ["Allow: INVITE, ACK, BYE, CANCEL, OPTIONS"])
        elif method == "INVITE":  # a re-INVITE from the phone
            call = self.calls.get(msg.header("call-id"))
            if call is None:
                self._reply(msg, 481, "Call Does Not Exist", transport, addr, writer)
                return
            call.reinvites += 1
            self._reply(
                msg,
                200,
                "OK",
                transport,
                addr,
                writer,
                [f"Contact: <{self._contact(transport)}>"],
                self._sdp(call),
                to_tag="",
            )
        elif method == "BYE":
            call = self.calls.get(msg.header("call-id"))
            self._reply(msg, 200, "OK", transport, addr, writer)
            if call is not None:
                call.ended_by = call.ended_by or "phone"
                call.ended.set()
        elif method != "ACK":
            self._reply(msg, 405, "Method Not Allowed", transport, addr, writer)

    def _on_register(
        self, msg: SipMessage, transport: str, addr: tuple[str, int], writer: asyncio.StreamWriter | None
    ) -> None:
        user = _uri(msg.header("to")).removeprefix("sip:").split("@")[0]
        auth = msg.header("authorization")
        challenge = f'WWW-Authenticate: Digest realm="{self.domain}", nonce="{self._nonce}", algorithm=MD5, qop="auth"'
        if not auth:
            self.register_log.append((user, 401))
            self._reply(msg, 401, "Unauthorized", transport, addr, writer, [challenge], to_tag="r")
            return
        password = self.users.get(user)
        if password is None:
            self.register_log.append((user, 404))
            self._reply(msg, 404, "Not Found", transport, addr, writer, to_tag="r")
            return
        ha1 = _md5(f"{_param(auth, 'username')}:{_param(auth, 'realm')}:{password}")
        ha2 = _md5(f"REGISTER:{_param(auth, 'uri')}")
        qop = _param(auth, "qop")
        if qop:
            expected = _md5(f"{ha1}:{_param(auth, 'nonce')}:{_param(auth, 'nc')}:{_param(auth, 'cnonce')}:{qop}:{ha2}")
        else:
            expected = _md5(f"{ha1}:{_param(auth, 'nonce')}:{ha2}")
        if _param(auth, "response") != expected:
            self.register_log.append((user, 401))
            self._reply(msg, 401, "Unauthorized", transport, addr, writer, [challenge], to_tag="r")
            return
        contact = msg.header("contact")
        expires = _param(contact, "expires") or msg.header("expires") or "3600"
        self.register_log.append((user, 200))
        if int(expires) == 0:
            self.bindings.pop(user, None)
            self.unregistered.set()
            self._reply(msg, 200, "OK", transport, addr, writer, to_tag="r")
            return
        self.bindings[user] = Binding(user, _uri(contact), transport, addr, writer)
        self._reply(msg, 200, "OK", transport, addr, writer, [f"Contact: {contact};expires={expires}"], to_tag="r")
        self.registered.set()

    # -- calls ---------------------------------------------------------------------------------------
    def _contact(self, transport: str) -> str:
        return f"sip:voipbin@{self.host}:{self.port};transport={transport}"

    def _sdp(self, call: PeerCall) -> bytes:
        port = self._rtp[call.call_id].get_extra_info("sockname")[1]
        return (
            "v=0\r\no=voipbin 1 1 IN IP4 127.0.0.1\r\ns=voipbin\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendrecv\r\n"
        ).encode()

    async def invite(self, user: str) -> PeerCall:
        binding = self.bindings[user]
        call_id = secrets.token_hex(8)
        call = PeerCall(call_id, binding)
        self.calls[call_id] = call

        def on_rtp(data: bytes, arrival: float) -> None:
            if len(data) < 12:
                return
            _, pt, seq, ts = struct.unpack("!BBHI", data[:8])
            call.rx_stats.add(seq, ts, arrival)
            law = "alaw" if pt & 0x7F == 8 else "ulaw"
            if pt & 0x7F in (0, 8):
                call.received_pcm += g711.decode(data[12:], law)

        loop = asyncio.get_running_loop()
        rtp, _ = await loop.create_datagram_endpoint(lambda: _RtpProtocol(on_rtp), local_addr=(self.host, 0))
        self._rtp[call_id] = rtp
        self._send_request(call, "INVITE", self._sdp(call))
        return call

    def _request(self, call: PeerCall, method: str, cseq: int, body: bytes = b"") -> bytes:
        b = call.binding
        branch = "z9hG4bK" + secrets.token_hex(6)
        to = call.to_header or f"<{b.contact}>"
        lines = [
            f"{method} {b.contact} SIP/2.0",
            f"Via: SIP/2.0/{b.transport.upper()} {self.host}:{self.port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:voipbin@{self.domain}>;tag=peer{call.call_id[:6]}",
            f"To: {to}",
            f"Call-ID: {call.call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <{self._contact(b.transport)}>",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def _send_request(self, call: PeerCall, method: str, body: bytes = b"", cseq: int | None = None) -> None:
        data = self._request(call, method, cseq or call.cseq, body)
        self._send(data, call.binding.transport, call.binding.addr, call.binding.writer)

    def _on_response(self, msg: SipMessage) -> None:
        call = self.calls.get(msg.header("call-id"))
        if call is None or msg.method != "INVITE":
            return
        call.statuses.append(msg.status)
        if msg.status < 200:
            return
        call.to_header = msg.header("to")
        call.final_status = msg.status
        self._send_request(call, "ACK", cseq=call.cseq)
        if msg.status >= 300:
            call.ended_by = "rejected"
            call.ended.set()
            return
        body = msg.body.decode("utf-8", "replace")
        conn = re.search(r"c=IN IP4 (\S+)", body)
        media = re.search(r"m=audio (\d+) RTP/AVP ([\d ]+)", body)
        if conn and media:
            call.remote_rtp = (conn.group(1), int(media.group(1)))
            call.codec = "alaw" if media.group(2).split()[0] == "8" else "ulaw"
        call.answered.set()

    async def play(self, call: PeerCall, pcm: bytes) -> None:
        """Send 8 kHz PCM to the phone as 20 ms RTP packets, paced in real time."""
        await call.answered.wait()
        assert call.remote_rtp is not None
        rtp = self._rtp[call.call_id]
        pt = 8 if call.codec == "alaw" else 0
        ssrc = 0x1234
        seq, ts = 1, 0
        frame = 320
        start = time.monotonic()
        for n, offset in enumerate(range(0, len(pcm), frame)):
            if call.ended.is_set():
                return
            chunk = pcm[offset : offset + frame].ljust(frame, b"\0")
            header = struct.pack("!BBHII", 0x80, pt | (0x80 if n == 0 else 0), seq & 0xFFFF, ts, ssrc)
            rtp.sendto(header + g711.encode(chunk, call.codec), call.remote_rtp)
            seq += 1
            ts += 160
            await asyncio.sleep(max(0.0, start + (n + 1) * 0.02 - time.monotonic()))

    def hangup(self, call: PeerCall) -> None:
        call.cseq += 1
        call.ended_by = "peer"
        self._send_request(call, "BYE")
        call.ended.set()


def _param_header(head: bytes, name: str) -> str:
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if _COMPACT.get(key, key) == name:
            return value.strip()
    return ""
