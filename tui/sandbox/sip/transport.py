"""SIP over UDP, TCP and TLS: listeners on one port (UDP and TCP share the number) and message flows.

A *flow* is where a message came from and where its answers (and, for a registered phone, later
requests) go: a UDP source address or a live TCP/TLS connection. Every read is bounded: a datagram or a
stream message is at most ``MAX_MESSAGE_BYTES``, a started stream message must complete within
``MESSAGE_TIMEOUT`` seconds, and at most ``MAX_CONNECTIONS`` connections are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from typing import cast

from tui.sandbox.sip.message import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    SipMessage,
    SipParseError,
    parse_message,
)

log = logging.getLogger("tui.sandbox.sip")

MESSAGE_TIMEOUT = 10.0
IDLE_TIMEOUT = 3900.0
MAX_CONNECTIONS = 512

MessageHandler = Callable[[SipMessage, "Flow"], None]


class Flow:
    kind = ""

    def __init__(self, remote: tuple[str, int]) -> None:
        self.remote = remote

    @property
    def alive(self) -> bool:
        return True

    @property
    def reliable(self) -> bool:
        return self.kind != "udp"

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        return None


class UdpFlow(Flow):
    kind = "udp"

    def __init__(self, transport: asyncio.DatagramTransport, remote: tuple[str, int]) -> None:
        super().__init__(remote)
        self._transport = transport

    @property
    def alive(self) -> bool:
        return not self._transport.is_closing()

    def send(self, data: bytes) -> None:
        if not self._transport.is_closing():
            self._transport.sendto(data, self.remote)


class StreamFlow(Flow):
    def __init__(self, kind: str, writer: asyncio.StreamWriter, remote: tuple[str, int]) -> None:
        super().__init__(remote)
        self.kind = kind
        self._writer = writer

    @property
    def alive(self) -> bool:
        return not self._writer.is_closing()

    def send(self, data: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(data)

    def close(self) -> None:
        self._writer.close()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransports) -> None:
        self.owner = owner
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector datagram transport does not subclass DatagramTransport on 3.11.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if self.transport is None or not data.strip(b"\r\n"):
            return  # keepalive CRLFs
        remote = (str(addr[0]), int(addr[1]))
        try:
            message = parse_message(data)
        except SipParseError as exc:
            log.info("dropped a bad SIP datagram from %s: %s", remote, exc)
            return
        self.owner.deliver(message, UdpFlow(self.transport, remote))


async def read_stream_message(reader: asyncio.StreamReader) -> bytes | None:
    """One message from a stream, or None at a clean end; CRLF keepalives are skipped."""
    first = await asyncio.wait_for(reader.read(1), timeout=IDLE_TIMEOUT)
    while first in (b"\r", b"\n"):
        first = await asyncio.wait_for(reader.read(1), timeout=IDLE_TIMEOUT)
    if not first:
        return None

    async def rest() -> bytes:
        head = first + await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEADER_BYTES:
            raise SipParseError("headers too large")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() in (b"content-length", b"l"):
                text = value.strip()
                if not text.isdigit():
                    raise SipParseError("bad Content-Length")
                length = int(text)
        if length > MAX_BODY_BYTES:
            raise SipParseError("body too large")
        return head + (await reader.readexactly(length) if length else b"")

    return await asyncio.wait_for(rest(), timeout=MESSAGE_TIMEOUT)


class SipTransports:
    """The listening sockets; every parsed message goes to ``handler`` with its flow."""

    def __init__(
        self,
        host: str,
        handler: MessageHandler,
        *,
        port: int = 0,
        tls_context: ssl.SSLContext | None = None,
        tls_port: int = 0,
    ) -> None:
        self.host = host
        self.handler = handler
        self._port_request = port
        self._tls_context = tls_context
        self._tls_port_request = tls_port
        self.port = 0
        self.tls_port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        attempts = 1 if self._port_request else 20
        for attempt in range(attempts):
            tcp = await asyncio.start_server(
                lambda r, w: self._accept(r, w, "tcp"), self.host, self._port_request, limit=MAX_HEADER_BYTES
            )
            port = tcp.sockets[0].getsockname()[1]
            try:
                udp, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), local_addr=(self.host, port))
            except OSError:
                tcp.close()
                await tcp.wait_closed()
                if attempt == attempts - 1:
                    raise
                continue
            self._udp, self.port = udp, port
            self._servers.append(tcp)
            break
        if self._tls_context is not None:
            tls = await asyncio.start_server(
                lambda r, w: self._accept(r, w, "tls"),
                self.host,
                self._tls_port_request,
                ssl=self._tls_context,
                limit=MAX_HEADER_BYTES,
                ssl_handshake_timeout=MESSAGE_TIMEOUT,
            )
            self.tls_port = tls.sockets[0].getsockname()[1]
            self._servers.append(tls)

    def deliver(self, message: SipMessage, flow: Flow) -> None:
        try:
            self.handler(message, flow)
        except Exception:
            log.exception("SIP handler failed on %s", message.method or message.status)

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, kind: str) -> None:
        if len(self._connections) >= MAX_CONNECTIONS:
            writer.close()
            return
        task = asyncio.get_running_loop().create_task(self._serve_stream(reader, writer, kind))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _serve_stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, kind: str) -> None:
        peer = writer.get_extra_info("peername") or ("", 0)
        flow = StreamFlow(kind, writer, (str(peer[0]), int(peer[1])))
        try:
            while True:
                data = await read_stream_message(reader)
                if data is None:
                    break
                try:
                    message = parse_message(data)
                except SipParseError as exc:
                    log.info("closing a %s connection after a bad message: %s", kind, exc)
                    break
                self.deliver(message, flow)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, SipParseError):
            pass
        except (ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            writer.close()

    async def connect(self, kind: str, host: str, port: int) -> Flow:
        """A new outgoing connection (a phone whose registration flow is gone)."""
        if kind == "udp":
            if self._udp is None:
                raise ConnectionError("UDP is not listening")
            return UdpFlow(self._udp, (host, port))
        context: ssl.SSLContext | None = None
        if kind == "tls":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, limit=MAX_HEADER_BYTES), timeout=MESSAGE_TIMEOUT
        )
        task = asyncio.get_running_loop().create_task(self._serve_stream(reader, writer, kind))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)
        return StreamFlow(kind, writer, (host, port))

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        if self._udp is not None:
            self._udp.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=0.5)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=0.5)
        self._servers.clear()
