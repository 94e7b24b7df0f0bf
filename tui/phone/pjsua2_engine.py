"""The second engine: ``pjsua2-python`` (PJSIP's C++ API through SWIG), null sound device.

PJSIP runs with no worker threads of its own: the asyncio loop polls it every 20 ms, so every SIP
callback runs on the loop's thread. Audio is an ``AudioMediaPort`` on the conference bridge, whose
frames come from the null device's clock thread; they meet the loop only through two locked buffers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

from tui.phone.baresip_engine import free_port, system_ca_file
from tui.phone.engine import (
    FRAME_BYTES,
    SAMPLE_RATE,
    EngineEvent,
    EngineUnavailable,
    MediaStats,
    PhoneAccount,
    RegistrationFailed,
)

log = logging.getLogger(__name__)

_BUFFER_MAX = 16_000 * 5  # five seconds each way; older audio is dropped, never grows without bound


class _Buffers:
    """PCM crossing between the media clock thread and the loop."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tx = bytearray()
        self.rx = bytearray()


def _load() -> Any:
    try:
        import pjsua2
    except ImportError as exc:
        raise EngineUnavailable(
            "the pjsua2 engine needs pjsua2-python: pip install 'voipbin-tui[phone-pjsua2]'"
        ) from exc
    return pjsua2


class Pjsua2Engine:
    name = "pjsua2"

    def __init__(self, account: PhoneAccount) -> None:
        self.pj: Any = _load()
        self.account = account
        self.events: asyncio.Queue[EngineEvent] = asyncio.Queue()
        self.buffers = _Buffers()
        self._ep: Any = None
        self._acc: Any = None
        self._call: Any = None
        self._port: Any = None
        self._poller: asyncio.Task[None] | None = None
        self._reg_waiter: asyncio.Future[tuple[int, str]] | None = None
        self._stats = MediaStats()

    # -- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        pj = self.pj
        acct = self.account
        ep = pj.Endpoint()
        # PJSIP logs its first lines to stdout before any log config applies; stdout carries our
        # JSON lines, so those go to stderr instead.
        with _stdout_to_stderr():
            ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.userAgent = "voipbin-tui phone (pjsua2)"
        cfg.logConfig.level = 1
        cfg.logConfig.consoleLevel = 0
        cfg.medConfig.clockRate = SAMPLE_RATE
        cfg.medConfig.sndClockRate = SAMPLE_RATE
        cfg.medConfig.channelCount = 1
        ep.libInit(cfg)
        host = acct.local_host or "127.0.0.1"
        tcfg = pj.TransportConfig()
        tcfg.boundAddress = host
        tcfg.publicAddress = host
        kind = {"udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP, "tls": pj.PJSIP_TRANSPORT_TLS}
        tcfg.port = acct.local_port or free_port(host)
        if acct.transport == "tls":
            tcfg.tlsConfig.CaListFile = acct.tls_ca_file or system_ca_file()
            tcfg.tlsConfig.verifyServer = True
        ep.transportCreate(kind[acct.transport], tcfg)
        ep.libStart()
        ep.audDevManager().setNullDev()
        self._ep = ep
        self._poller = asyncio.create_task(self._poll())
        self._acc = _make_account(self, pj)

    async def _poll(self) -> None:
        while self._ep is not None:
            self._ep.libHandleEvents(0)
            await asyncio.sleep(0.02)

    async def register(self) -> None:
        loop = asyncio.get_running_loop()
        self._reg_waiter = loop.create_future()
        pj = self.pj
        acct = self.account
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:{acct.user}@{acct.domain}"
        target = acct.registrar or acct.domain
        suffix = f";transport={acct.transport}" if acct.transport != "udp" else ""
        acfg.regConfig.registrarUri = f"sip:{target}{suffix}"
        acfg.regConfig.timeoutSec = max(60, acct.reg_interval)
        acfg.regConfig.retryIntervalSec = 0
        cred = pj.AuthCredInfo("digest", "*", acct.user, 0, acct.password)
        acfg.sipConfig.authCreds.append(cred)
        if acct.registrar:
            acfg.sipConfig.proxies.append(f"sip:{acct.registrar}{suffix};lr")
        # RTP on the same address as SIP (PJSIP would otherwise pick the default route's interface).
        host = acct.local_host or "127.0.0.1"
        acfg.mediaConfig.transportConfig.boundAddress = host
        acfg.mediaConfig.transportConfig.publicAddress = host
        if acct.srtp:
            acfg.mediaConfig.srtpUse = pj.PJMEDIA_SRTP_MANDATORY
            acfg.mediaConfig.srtpSecureSignaling = 0
        self._acc.create(acfg)
        try:
            code, reason = await asyncio.wait_for(self._reg_waiter, 10.0)
        except TimeoutError:
            raise RegistrationFailed("no answer from the registrar within 10 s") from None
        if code // 100 != 2:
            raise RegistrationFailed(f"registration failed: {code} {reason}", code)
        self.events.put_nowait(EngineEvent("registered"))

    def on_reg_state(self, code: int, reason: str, active: bool) -> None:
        waiter = self._reg_waiter
        if waiter is not None and not waiter.done() and (active or code >= 300 or code == 0):
            waiter.set_result((code, reason))

    async def unregister(self) -> None:
        if self._acc is not None:
            with contextlib.suppress(Exception):
                loop = asyncio.get_running_loop()
                self._reg_waiter = loop.create_future()
                self._acc.setRegistration(False)
                await asyncio.wait_for(self._reg_waiter, 3.0)

    async def close(self) -> None:
        if self._ep is None:
            return
        with contextlib.suppress(Exception):
            self._ep.hangupAllCalls()
        ep, self._ep = self._ep, None
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        self._port = None
        self._call = None
        if self._acc is not None:
            with contextlib.suppress(Exception):
                self._acc.shutdown()
            self._acc = None
        with contextlib.suppress(Exception):
            ep.libDestroy()

    # -- calls ---------------------------------------------------------------------------------------
    def on_incoming(self, call_id: int) -> None:
        pj = self.pj
        call = _make_call(self, pj, call_id)
        if self._call is not None:
            prm = pj.CallOpParam()
            prm.statusCode = 486
            call.hangup(prm)
            return
        self._call = call
        self._stats = MediaStats()
        info = call.getInfo()
        prm = pj.CallOpParam()
        prm.statusCode = 180
        call.answer(prm)
        self.events.put_nowait(EngineEvent("incoming", peer=info.remoteUri, call_id=info.callIdString))

    def on_call_state(self, confirmed: bool, disconnected: bool, reason: str) -> None:
        if confirmed:
            self.events.put_nowait(EngineEvent("answered"))
        if disconnected:
            self._stats = self._read_stats()
            self._call = None
            self._port = None
            self.events.put_nowait(EngineEvent("closed", detail=reason))

    def on_media_active(self) -> None:
        pj = self.pj
        call = self._call
        if call is None:
            return
        # Keep the CallInfo alive while reading its media vector (SWIG frees temporaries).
        info = call.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                audio = call.getAudioMedia(index)
                if self._port is None:
                    self._port = _make_port(self, pj)
                audio.startTransmit(self._port)
                self._port.startTransmit(audio)
                return

    async def answer(self) -> None:
        if self._call is not None:
            prm = self.pj.CallOpParam()
            prm.statusCode = 200
            self._call.answer(prm)

    async def reject(self) -> None:
        if self._call is not None:
            prm = self.pj.CallOpParam()
            prm.statusCode = 486
            self._call.hangup(prm)

    async def hangup(self) -> None:
        if self._call is not None:
            with contextlib.suppress(Exception):
                self._stats = self._read_stats()
                self._call.hangup(self.pj.CallOpParam())

    # -- audio and statistics ------------------------------------------------------------------------
    def write_pcm(self, pcm: bytes) -> int:
        if self._port is None:
            return 0
        with self.buffers.lock:
            room = _BUFFER_MAX - len(self.buffers.tx)
            self.buffers.tx += pcm[:room]
        return min(len(pcm), room)

    def read_pcm(self) -> bytes:
        with self.buffers.lock:
            data = bytes(self.buffers.rx)
            self.buffers.rx.clear()
        return data

    def _read_stats(self) -> MediaStats:
        call = self._call
        if call is None:
            return self._stats
        try:
            stat = call.getStreamStat(0).rtcp
        except Exception:
            return self._stats
        return MediaStats(
            rx_packets=int(stat.rxStat.pkt),
            tx_packets=int(stat.txStat.pkt),
            rx_lost=int(stat.rxStat.loss),
            rx_jitter_ms=round(stat.rxStat.jitterUsec.last / 1000.0, 2),
        )

    def stats(self) -> MediaStats:
        if self._call is not None:
            self._stats = self._read_stats()
        return self._stats


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _make_account(engine: Pjsua2Engine, pj: Any) -> Any:
    class _Account(pj.Account):  # type: ignore[misc]
        def onRegState(self, prm: Any) -> None:
            info = self.getInfo()
            engine.on_reg_state(int(prm.code), str(prm.reason), bool(info.regIsActive))

        def onIncomingCall(self, prm: Any) -> None:
            engine.on_incoming(prm.callId)

    return _Account()


def _make_call(engine: Pjsua2Engine, pj: Any, call_id: int) -> Any:
    class _Call(pj.Call):  # type: ignore[misc]
        def onCallState(self, prm: Any) -> None:
            info = self.getInfo()
            engine.on_call_state(
                info.state == pj.PJSIP_INV_STATE_CONFIRMED,
                info.state == pj.PJSIP_INV_STATE_DISCONNECTED,
                f"{info.lastStatusCode} {info.lastReason}",
            )

        def onCallMediaState(self, prm: Any) -> None:
            engine.on_media_active()

    return _Call(engine._acc, call_id)


def _make_port(engine: Pjsua2Engine, pj: Any) -> Any:
    buffers = engine.buffers

    class _Port(pj.AudioMediaPort):  # type: ignore[misc]
        def onFrameRequested(self, frame: Any) -> None:
            with buffers.lock:
                chunk = bytes(buffers.tx[:FRAME_BYTES])
                del buffers.tx[:FRAME_BYTES]
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            frame.buf = pj.ByteVector(chunk.ljust(FRAME_BYTES, b"\0"))

        def onFrameReceived(self, frame: Any) -> None:
            data = bytes(frame.buf)
            with buffers.lock:
                buffers.rx += data
                if len(buffers.rx) > _BUFFER_MAX:
                    del buffers.rx[: len(buffers.rx) - _BUFFER_MAX]

    port = _Port()
    fmt = pj.MediaFormatAudio()
    fmt.init(pj.PJMEDIA_FORMAT_PCM, SAMPLE_RATE, 1, 20_000, 16)
    port.createPort("phone", fmt)
    return port
