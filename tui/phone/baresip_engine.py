"""The primary engine: ``baresip-python`` (baresip/libre in a wheel; one runtime per process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import socket
import ssl
from typing import Any

from tui.phone.engine import EngineEvent, EngineUnavailable, MediaStats, PhoneAccount, RegistrationFailed

log = logging.getLogger(__name__)

_STATUS = re.compile(r"\b([1-6]\d\d)\b")
_READ_MAX = 8_000  # half a second of audio: the phone reads every 40 ms


# Below the usual ephemeral range (32768-60999), so the OS does not hand the port to some other socket
# between our check and the engine's bind.
_PORT_RANGE = (20000, 32000)


def free_port(host: str) -> int:
    """A port free for both UDP and TCP on ``host``, for engines that cannot bind port 0 themselves
    (SIP listens on both at one number)."""
    for _ in range(200):
        port = random.randint(*_PORT_RANGE)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                tcp.bind((host, port))
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.bind((host, port))
        except OSError:
            continue
        return port
    raise OSError(f"no port free for both UDP and TCP on {host}")


def system_ca_file() -> str:
    """The system's CA bundle, for engines that bring their own OpenSSL and do not know where it is."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    return ""


def _tls_lines(account: PhoneAccount) -> str:
    if account.transport != "tls":
        return ""
    ca_file = account.tls_ca_file or system_ca_file()
    return (f"sip_cafile {ca_file}\n" if ca_file else "") + "sip_verify_server yes\n"


class BaresipEngine:
    name = "baresip"

    def __init__(self, account: PhoneAccount) -> None:
        try:
            import baresip
        except ImportError as exc:
            raise EngineUnavailable(
                "the baresip engine needs baresip-python: pip install 'voipbin-tui[phone]'"
            ) from exc
        self._bs: Any = baresip
        self.account = account
        self.events: asyncio.Queue[EngineEvent] = asyncio.Queue()
        self._runtime: Any = None
        self._ua: Any = None
        self._call: Any = None
        self._stats = MediaStats()
        self._pending: set[asyncio.Future[Any]] = set()

    async def start(self) -> None:
        bs = self._bs
        acct = self.account
        host = acct.local_host or "127.0.0.1"
        port = acct.local_port or free_port(host)
        extra = f"sip_listen {host}:{port}\n" + _tls_lines(acct)
        config = bs.Config(net_interface=host, audio_driver="aumem", extra_config_text=extra, max_concurrent_calls=1)
        self._runtime = bs.Runtime(native_log_level="warning")
        await self._runtime.start(config)
        params: tuple[str, ...] = ("mediaenc=srtp-mand",) if acct.srtp else ()
        registrar = acct.registrar or None
        if registrar and acct.transport != "udp":
            registrar += f";transport={acct.transport}"
        account = bs.Account(
            user=acct.user,
            domain=acct.domain,
            password=acct.password,
            registrar=registrar,
            reg_interval=acct.reg_interval,
            transport=acct.transport,
            audio_codecs=("pcmu", "pcma"),
            extra_params=params,
        )
        self._ua = await bs.UserAgent.create(self._runtime, account)
        self._ua.on_incoming(self._on_incoming)

    async def register(self) -> None:
        try:
            await self._ua.register(timeout=10.0)
        except self._bs.RegistrationError as exc:
            status = getattr(exc, "status", None)
            if not isinstance(status, int):
                match = _STATUS.search(str(exc))
                status = int(match.group(1)) if match else None
            raise RegistrationFailed(str(exc), status) from None
        self.events.put_nowait(EngineEvent("registered"))

    async def unregister(self) -> None:
        if self._ua is not None:
            with contextlib.suppress(Exception):
                await self._ua.unregister(timeout=3.0)

    def _on_incoming(self, call: Any) -> None:
        if self._call is not None:
            # One call at a time: a second INVITE while busy is declined.
            task = asyncio.ensure_future(call.reject())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            return
        self._call = call
        self._stats = MediaStats()
        call.on(self._on_call_event)
        self.events.put_nowait(EngineEvent("incoming", peer=call.peer or "", call_id=call.call_id or ""))

    def _on_call_event(self, event: Any) -> None:
        ev = self._bs.Event
        if event.event is ev.CALL_ESTABLISHED:
            self.events.put_nowait(EngineEvent("answered"))
        elif event.event is ev.CALL_RTCP and event.stats:
            self._stats = self._from(self._bs.CallStats._from_payload(event.stats))
        elif event.event is ev.CALL_CLOSED:
            call, self._call = self._call, None
            final = call.final_stats if call is not None else None
            if final is not None:
                self._stats = self._from(final)
            self.events.put_nowait(EngineEvent("closed", detail=event.text or ""))

    @staticmethod
    def _from(stats: Any) -> MediaStats:
        return MediaStats(
            rx_packets=int(stats.rx_packets),
            tx_packets=int(stats.tx_packets),
            rx_lost=max(0, int(stats.rx_lost)),
            rx_jitter_ms=round(float(stats.rx_jitter_ms), 2),
        )

    async def answer(self) -> None:
        if self._call is not None:
            await self._call.answer()

    async def reject(self) -> None:
        if self._call is not None:
            await self._call.reject()

    async def hangup(self) -> None:
        if self._call is not None:
            with contextlib.suppress(Exception):
                await self._call.hangup()

    def write_pcm(self, pcm: bytes) -> int:
        call = self._call
        if call is None:
            return 0
        try:
            taken: int = call.audio.write(pcm)
        except (self._bs.AudioNotActive, self._bs.AudioRestarted):
            return 0
        return taken

    def read_pcm(self) -> bytes:
        call = self._call
        if call is None:
            return b""
        try:
            data: bytes = call.audio.read(_READ_MAX)
        except (self._bs.AudioNotActive, self._bs.AudioRestarted):
            return b""
        return data

    def stats(self) -> MediaStats:
        return self._stats

    async def close(self) -> None:
        if self._runtime is not None:
            runtime, self._runtime = self._runtime, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(runtime.close(), 5.0)
