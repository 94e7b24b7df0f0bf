"""The console's real phone: a ``voipbin-tui phone`` child process, driven by its stdin and JSON lines.

A child, not the engine in-process: baresip and PJSIP write to file descriptors 1 and 2 themselves, and
nothing may reach the console's terminal. The child's stdout is parsed line by line (bounded); anything that
is not a JSON object, and all of its stderr, goes to the log file only, escaped and redacted. The password
reaches the child through an environment variable, never its command line.

``HeadlessPhone`` satisfies the registry's phone Protocol (``tui.actions.context.PhoneOps``), so the phone
keys and ``/caller TEXT`` drive it exactly as they drive the sandbox's simulated phone. It holds one call
at a time; the VoIPBIN call id the actions pass is not the SIP call's, so it only names the call in errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.voipbin.redact import redact_text
from tui.voipbin.safetext import safe_line

if TYPE_CHECKING:
    from tui.config import PhoneSettings

log = logging.getLogger("tui.phone.console")

# One JSON line is a few hundred bytes; a heard line with text is a sentence. Longer lines are not ours.
LINE_LIMIT = 64 * 1024
# Only the newest heard lines are shown; the child's recordings and log keep the rest.
HEARD_KEEP = 20
# A command the child has not taken in this long means it is wedged.
WRITE_TIMEOUT = 2.0
# Statistics once a second, so the side panel's packet counts move while the call lasts.
RTP_INTERVAL = 1.0
PASSWORD_ENV = "VOIPBIN_TUI_CONSOLE_PHONE_PW"
TEXT_CHARS = 500


class PhoneUnavailable(RuntimeError):
    """The phone cannot do that now (not running, no call, not ringing), said in words."""


@dataclass(slots=True)
class Heard:
    """One stretch of speech the phone heard: text only when speech-to-text produced it."""

    start: float
    duration: float
    text: str | None = None
    peak_dbfs: float | None = None

    def display(self) -> str:
        if self.text is not None:
            return self.text
        return f"phone heard speech {self.duration:.1f} s"


@dataclass(slots=True)
class PhoneStatus:
    """What the side panel shows; every string in it is already cleaned."""

    state: str = "starting"  # starting|registered|ringing|in_call|failed|stopped
    extension: str = ""
    domain: str = ""
    transport: str = ""
    srtp: bool = False
    engine: str = ""
    error: str = ""
    rx_packets: int = 0
    tx_packets: int = 0
    rx_loss_pct: float = 0.0
    rx_jitter_ms: float = 0.0
    rx_audio_s: float = 0.0
    tx_speech_s: float = 0.0
    rx_level_dbfs: float = -96.0
    tx_level_dbfs: float = -96.0
    heard: deque[Heard] = field(default_factory=lambda: deque(maxlen=HEARD_KEEP))
    said: str = ""
    last_hangup: str = ""

    def summary(self) -> str:
        """``registered over TLS (SRTP)`` and, on a second line, ``as 2000@example.net``."""
        who = f"{self.extension}@{self.domain}" if self.extension else ""
        if self.state == "failed":
            return f"failed: {self.error}"
        if self.state in ("starting", "stopped"):
            return f"{self.state} {who}".strip()
        over = f" over {self.transport.upper()}" + (" (SRTP)" if self.srtp else "") if self.transport else ""
        state = {"registered": "registered", "ringing": "ringing", "in_call": "in a call"}.get(self.state, self.state)
        return f"{state}{over}\nas {who}"

    def audio(self) -> str:
        """``audio in 4.2 s, -23 dBFS · out (spoke 1.8 s) -96 dBFS`` and the RTP counts once RTCP has them."""
        text = (
            f"audio in {self.rx_audio_s:.1f} s, {self.rx_level_dbfs:.0f} dBFS\n"
            f"audio out: spoke {self.tx_speech_s:.1f} s, {self.tx_level_dbfs:.0f} dBFS"
        )
        if self.rx_packets or self.tx_packets:
            text += f"\nRTP in {self.rx_packets} / out {self.tx_packets} pkts"
            text += f", loss {self.rx_loss_pct:.1f}%, jitter {self.rx_jitter_ms:.1f} ms"
        return text


def _clean(value: object, limit: int = TEXT_CHARS) -> str:
    return safe_line(str(value), limit)


def phone_command(phone: PhoneSettings, password_env: str) -> list[str]:
    """The child's command line (never the password: that is in ``password_env``)."""
    args = [
        sys.executable, "-m", "tui", "phone",
        "--extension", phone.extension, "--domain", phone.domain, "--transport", phone.transport,
        "--engine", phone.engine, "--answer", phone.answer, "--answer-delay", str(phone.answer_delay),
        "--cue", phone.cue, "--cue-seconds", str(phone.cue_seconds), "--gap", str(phone.gap),
        "--threshold", str(phone.energy_threshold_dbfs), "--reg-interval", str(phone.reg_interval),
        "--rtp-interval", str(min(phone.rtp_interval, RTP_INTERVAL)), "--password-env", password_env,
        "--stop-on-stdin-eof",
    ]  # fmt: skip
    if phone.registrar:
        args += ["--registrar", phone.registrar]
    if phone.srtp:
        args.append("--srtp")
    if phone.local_address:
        args += ["--local-address", phone.local_address]
    if phone.tls_ca_file:
        args += ["--tls-ca-file", phone.tls_ca_file]
    if phone.stt_model:
        args += ["--stt-model", phone.stt_model]
    if phone.hangup_after:
        args += ["--hangup-after", str(phone.hangup_after)]
    if not phone.record:
        args.append("--no-record")
    elif phone.record_dir:
        args += ["--record-dir", phone.record_dir]
    for line in phone.lines:
        args += ["--say", line]
    return args


class HeadlessPhone:
    """``start()`` launches the child; ``listen()`` hears every status change; ``close()`` ends it."""

    def __init__(self, phone: PhoneSettings, password: str, *, secrets: list[str] | None = None) -> None:
        self.settings = phone
        self._password = password
        self._secrets = [s for s in [password, *(secrets or [])] if s]
        self.status = PhoneStatus(extension=_clean(phone.extension, 80), domain=_clean(phone.domain, 120))
        self._proc: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._listeners: list[Callable[[PhoneStatus, dict[str, Any]], None]] = []
        self.lines: list[dict[str, Any]] = []  # every parsed line (tests and the runner read them)
        self._settled = asyncio.Event()
        self._closing = False

    # -- life ------------------------------------------------------------------------------------------
    async def start(self) -> None:
        env = dict(os.environ)
        env[PASSWORD_ENV] = self._password
        # The child logs to its own file, and never to the console's terminal.
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *phone_command(self.settings, PASSWORD_ENV),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                limit=LINE_LIMIT,
                start_new_session=True,  # Ctrl+C in the console is the console's, not the phone's
            )
        except OSError as exc:
            self._fail(f"the phone did not start: {exc}")
            return
        self._tasks = [
            asyncio.create_task(self._read_stdout(), name="phone-stdout"),
            asyncio.create_task(self._read_stderr(), name="phone-stderr"),
        ]

    async def wait_registered(self, timeout: float) -> bool:
        """Until the first registration succeeds or fails (bounded); True when registered."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), timeout)
        return self.status.state == "registered"

    async def close(self) -> None:
        """Hang up and unregister (SIGINT: the child does both), then wait; kill after a grace period."""
        self._closing = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), 6.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for task in self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 2.0)
        if self.status.state != "failed":
            self.status.state = "stopped"

    def listen(self, callback: Callable[[PhoneStatus, dict[str, Any]], None]) -> Callable[[], None]:
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    # -- the registry's phone Protocol -----------------------------------------------------------------
    async def answer(self, call_id: str) -> None:
        self._need("ringing", "answer")
        await self._send("answer")

    async def reject(self, call_id: str) -> None:
        self._need("ringing", "reject")
        await self._send("reject")

    async def hangup(self, call_id: str) -> None:
        self._need("in_call", "hang up")
        await self._send("hangup")

    async def speak(self, call_id: str, text: str) -> None:
        self._need("in_call", "speak")
        # One line per command: the child reads lines, so a newline in the text would be a second command.
        await self._send("say " + " ".join(text.split()))

    def _need(self, state: str, what: str) -> None:
        if self.status.state == "failed":
            raise PhoneUnavailable(f"the phone failed: {self.status.error}")
        if self.status.state != state:
            now = {"in_call": "in a call"}.get(self.status.state, self.status.state)
            raise PhoneUnavailable(f"the phone is {now}, so it cannot {what}")

    async def _send(self, command: str) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            raise PhoneUnavailable("the phone is not running")
        proc.stdin.write(command.encode("utf-8", "replace")[:4000] + b"\n")
        try:
            await asyncio.wait_for(proc.stdin.drain(), WRITE_TIMEOUT)
        except (TimeoutError, ConnectionError) as exc:
            raise PhoneUnavailable(f"the phone did not take the command ({type(exc).__name__})") from None

    # -- the child's output ----------------------------------------------------------------------------
    async def _read_stdout(self) -> None:
        proc = self._proc
        assert proc is not None
        assert proc.stdout is not None
        while True:
            try:
                raw = await proc.stdout.readline()
            except ValueError:  # a line over LINE_LIMIT: not one of ours; drop it
                log.warning("phone: dropped an over-long output line")
                continue
            if not raw:
                break
            text = raw.decode("utf-8", "replace").strip()
            try:
                line = json.loads(text)
            except ValueError:
                line = None
            if not isinstance(line, dict):
                if text:
                    log.info("phone output: %s", self._scrub(text))
                continue
            self._on_line(line)
        code = await proc.wait()
        if self.status.state not in ("failed", "stopped") and not self._closing:
            self._fail(f"the phone exited ({code}); see the log")

    async def _read_stderr(self) -> None:
        proc = self._proc
        assert proc is not None
        assert proc.stderr is not None
        while True:
            try:
                raw = await proc.stderr.readline()
            except ValueError:
                continue
            if not raw:
                return
            text = raw.decode("utf-8", "replace").strip()
            if text:
                log.info("phone stderr: %s", self._scrub(text))

    def _scrub(self, text: str) -> str:
        return _clean(redact_text(text, self._secrets), 2000)

    def fail_now(self, message: str) -> None:
        """Never started (no password): the panel says why, and every action says it too."""
        self._fail(message)

    def _fail(self, message: str) -> None:
        self.status.state = "failed"
        self.status.error = _clean(message, 300)
        self._notify({"kind": "error", "message": self.status.error})

    def _on_line(self, line: dict[str, Any]) -> None:
        self.lines.append(line)
        if len(self.lines) > 2000:
            del self.lines[:1000]
        status = self.status
        kind = line.get("kind")
        log.debug("phone line: %s", self._scrub(json.dumps(line, default=str)))
        if kind == "registered":
            status.state = "registered"
            status.transport = _clean(line.get("transport", ""), 8)
            status.srtp = bool(line.get("srtp"))
            status.engine = _clean(line.get("engine", ""), 20)
        elif kind == "incoming":
            status.state = "ringing"
        elif kind == "answered":
            status.state = "in_call"
            status.rx_packets = status.tx_packets = 0
            status.rx_audio_s = status.tx_speech_s = 0.0
            status.heard.clear()
            status.said = ""
        elif kind == "rtp":
            status.rx_packets = _int(line.get("rx_packets"))
            status.tx_packets = _int(line.get("tx_packets"))
            status.rx_loss_pct = _float(line.get("rx_loss_pct"))
            status.rx_jitter_ms = _float(line.get("rx_jitter_ms"))
            status.rx_audio_s = _float(line.get("rx_audio_s"))
            status.tx_speech_s = _float(line.get("tx_speech_s"))
            status.rx_level_dbfs = _float(line.get("rx_level_dbfs", -96.0))
            status.tx_level_dbfs = _float(line.get("tx_level_dbfs", -96.0))
        elif kind == "heard":
            text = line.get("text")
            status.heard.append(
                Heard(
                    start=_float(line.get("start")),
                    duration=_float(line.get("duration")),
                    text=_clean(text) if isinstance(text, str) and text.strip() else None,
                    peak_dbfs=_float(line.get("peak_dbfs")),
                )
            )
        elif kind == "said":
            status.said = _clean(line.get("text") or line.get("file") or "", 200)
        elif kind == "hangup":
            status.state = "registered"
            status.last_hangup = f"hung up by {_clean(line.get('by', '?'), 10)}"
        elif kind == "error":
            message = _clean(redact_text(str(line.get("message", "")), self._secrets), 300)
            if line.get("stage") in ("start", "register"):
                status.state = "failed"
                status.error = message
            log.warning("phone error: %s", message)
        self._notify(line)

    def _notify(self, line: dict[str, Any]) -> None:
        if self.status.state != "starting":
            self._settled.set()
        for callback in list(self._listeners):
            try:
                callback(self.status, line)
            except Exception:
                log.exception("a phone listener failed")


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
