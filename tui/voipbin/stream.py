"""The VoIPBIN event stream: one WebSocket, kept alive, classified into typed events.

``EventStream`` connects to ``…/v1.0/ws`` (accesskey in the query, JWT in
``Authorization: Bearer``), subscribes to its topics, and yields, in arrival
order and without batching, :class:`~tui.voipbin.events.Event` objects
(classified by :func:`~tui.voipbin.frames.classify_frame`, marked/renamed by
:class:`~tui.voipbin.dedupe.EventNamer`) interleaved with
:class:`~tui.voipbin.events.ConnectionState` reports.

Keepalive: the library answers the server's pings automatically (the server
drops clients that do not pong within 60 s), and we send our own pings every
``ping_interval`` s; no pong within ``ping_timeout`` s means a silent drop
(noticed after at most ``ping_interval + ping_timeout + close_timeout``). A
close without a close frame (1006), a keepalive timeout, or any transport error
is a drop: we report ``reconnecting`` (attempt, delay, error), wait
``backoff_initial`` doubling up to ``backoff_max`` seconds with ±``jitter``,
reconnect, resubscribe to the same topics and report ``reconnected`` with the
wall times of the gap (nothing is replayed by the server: backfill via REST).
The backoff resets once a connection has delivered a frame or stayed up for
``stable_after`` seconds.

Authentication failures at the handshake (HTTP 401/403): when the credential
source can log in again (a :class:`~tui.voipbin.rest.VoipbinClient` configured
with username/password), the stream logs in and retries at once. When that is
not possible or does not help: a credential that worked earlier in this run
(or any credential while ``keep_trying()`` says a call is live) is retried with
the usual backoff, reported as ``reconnecting`` with ``unauthorized=True``, for
as long as it takes (then ``reconnected`` with the gap, so callers backfill); a
credential refused from the start reports ``closed`` with ``fatal=True`` and an
error naming what to do, and the stream stops.

Bounds: a message larger than ``max_frame_bytes`` drops the connection, and a
message that has started must finish within ``message_deadline`` seconds (a
fragment followed by silence would otherwise look like a healthy connection).

Subscriptions: the server sends no acknowledgement; an invalid topic makes it
drop the socket (README §6.2). A drop right after subscribing says so in the error.

The WebSocket URL (with its ``?accesskey=``) never appears unredacted in a
state, an error or a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException

from tui import __version__
from tui.voipbin.credentials import Credentials, CredentialSource
from tui.voipbin.dedupe import EventNamer
from tui.voipbin.errors import AuthError, VoipbinError, error_from_response
from tui.voipbin.events import ConnectionState, Event
from tui.voipbin.models import prepare_models
from tui.voipbin.redact import install_log_redaction, redact_text
from tui.voipbin.stream_attempt import (
    Fatal,
    Outcome,
    Retry,
    RunState,
    Stalled,
    StampedConnection,
    Unauthorized,
    abandon,
    backoff_delay,
    classify_received,
    describe_drop,
    receive_message,
)
from tui.voipbin.topics import subscriptions_for

if TYPE_CHECKING:
    from tui.voipbin.rest import VoipbinClient

__all__ = [
    "CredentialSource",
    "EventStream",
    "StreamItem",
    "backoff_delay",
    "subscriptions_for",
]

logger = logging.getLogger("tui.voipbin.stream")
_WIRE_LOGGER_NAME: Final = "tui.voipbin.stream.wire"

StreamItem = Event | ConnectionState

#: Largest message accepted (a frame is a few kilobytes; the library enforces it on fragmented ones too).
DEFAULT_MAX_MESSAGE_BYTES: Final = 2 * 1024 * 1024
#: Once a message has started, the rest must arrive within this many seconds.
DEFAULT_MESSAGE_DEADLINE: Final = 10.0


class EventStream:
    """A self-healing WebSocket subscription. Iterate with ``async for item in stream``.

    One consumer at a time. ``close()`` may be called from any task; the
    iterator then yields a final ``ConnectionState(state="closed")`` and ends.
    """

    def __init__(
        self,
        ws_url: str,
        credentials: Credentials | CredentialSource,
        topics: Iterable[str],
        *,
        ping_interval: float | None = 5.0,
        ping_timeout: float | None = 10.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        jitter: float = 0.2,
        open_timeout: float = 10.0,
        close_timeout: float = 1.0,
        max_frame_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        message_deadline: float = DEFAULT_MESSAGE_DEADLINE,
        keep_trying: Callable[[], bool] | None = None,
        stable_after: float = 10.0,
        namer: EventNamer | None = None,
        max_queue: int = 1024,
        user_agent: str = f"voipbin-tui/{__version__}",
        rng: random.Random | None = None,
    ) -> None:
        self._ws_url = ws_url
        self._source = credentials
        self._topics: list[str] = []
        for topic in topics:
            if topic not in self._topics:
                self._topics.append(topic)
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._jitter = jitter
        self._open_timeout = open_timeout
        self._close_timeout = close_timeout
        self._max_frame_bytes = max_frame_bytes
        self._message_deadline = message_deadline
        self._keep_trying: Callable[[], bool] = keep_trying or (lambda: False)
        self._stable_after = stable_after
        self._namer = namer if namer is not None else EventNamer()
        self._max_queue = max_queue
        self._user_agent = user_agent
        self._rng = rng or random.Random()
        self._closing = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._iterating = False
        self._secrets: tuple[str, ...] = credentials.secrets() if isinstance(credentials, Credentials) else ()
        self._state: ConnectionState | None = None
        self.frames_received = 0
        self.duplicates = 0
        self.connections = 0
        install_log_redaction(_WIRE_LOGGER_NAME)

    # ------------------------------------------------------------------ public

    @classmethod
    def from_client(cls, client: VoipbinClient, topics: Iterable[str], **kwargs: Any) -> EventStream:
        """A stream using a :class:`~tui.voipbin.rest.VoipbinClient`'s WebSocket URL and credentials."""
        return cls(client.ws_url, client, topics, **kwargs)

    @property
    def topics(self) -> list[str]:
        return list(self._topics)

    @property
    def state(self) -> ConnectionState | None:
        """The last reported connection state."""
        return self._state

    @property
    def connected(self) -> bool:
        state = self._state
        return self._ws is not None and state is not None and state.state in ("connected", "reconnected")

    @property
    def namer(self) -> EventNamer:
        return self._namer

    async def subscribe(self, topics: Iterable[str]) -> None:
        """Add topics (kept across reconnects); sent now when connected."""
        new = [t for t in topics if t not in self._topics]
        self._topics.extend(new)
        if new:
            await self._send_now({"type": "subscribe", "topics": new})

    async def unsubscribe(self, topics: Iterable[str]) -> None:
        """Remove topics; sent now when connected (the exact strings must be repeated)."""
        gone = [t for t in topics if t in self._topics]
        self._topics = [t for t in self._topics if t not in gone]
        if gone:
            await self._send_now({"type": "unsubscribe", "topics": gone})

    async def close(self) -> None:
        """Stop for good. The iterator yields ``closed`` and ends."""
        self._closing.set()
        ws = self._ws
        if ws is not None:
            try:
                await ws.close()
            except Exception:  # closing anyway
                logger.debug("error while closing the WebSocket", exc_info=True)

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self.events()

    async def events(self) -> AsyncGenerator[StreamItem, None]:
        """Yield events and connection states until :meth:`close` (or a fatal auth error)."""
        if self._iterating:
            raise RuntimeError("EventStream supports one consumer at a time")
        self._iterating = True
        try:
            async for item in self._run():
                yield item
        finally:
            self._iterating = False
            ws, self._ws = self._ws, None
            if ws is not None:
                try:
                    await ws.close()
                except Exception:
                    logger.debug("error while closing the WebSocket", exc_info=True)

    # ------------------------------------------------------------------ internals

    def _report(self, state: ConnectionState) -> ConnectionState:
        self._state = state
        log = logger.warning if state.state == "closed" and state.fatal else logger.info
        log("event stream %s", state.summary())
        return state

    def _redact(self, text: str) -> str:
        return redact_text(text, self._secrets)

    async def _send_now(self, message: dict[str, Any]) -> None:
        ws = self._ws
        if ws is None:
            return
        try:
            await ws.send(json.dumps(message))
        except (ConnectionClosed, OSError):
            # Dropped meanwhile; the reconnect resubscribes from self._topics.
            logger.debug("could not send %s: connection closed", message.get("type"))

    async def _credentials(self) -> Credentials:
        source = self._source
        if isinstance(source, Credentials):
            creds = source
        else:
            creds = await source.ws_credentials()
        self._secrets = creds.secrets()
        return creds

    async def _refresh(self) -> bool:
        source = self._source
        if isinstance(source, Credentials):
            return False
        creds = await source.refresh_credentials()
        if creds is None:
            return False
        self._secrets = creds.secrets()
        return True

    async def _wait_closing(self, delay: float) -> bool:
        """Sleep ``delay`` seconds; True if close() was called meanwhile."""
        try:
            await asyncio.wait_for(self._closing.wait(), timeout=max(0.0, delay))
        except TimeoutError:
            return False
        return True

    async def _open(self) -> ClientConnection:
        try:
            creds = await self._credentials()
        except AuthError as exc:
            raise Unauthorized(str(exc), relogin=False) from None
        except VoipbinError as exc:
            raise Retry(str(exc)) from None
        url = creds.apply_to_url(self._ws_url)
        headers = creds.headers()
        wire_logger = logging.getLogger(_WIRE_LOGGER_NAME)
        try:
            return await connect(
                url,
                additional_headers=headers,
                user_agent_header=self._user_agent,
                open_timeout=self._open_timeout,
                ping_interval=self._ping_interval,
                ping_timeout=self._ping_timeout,
                close_timeout=self._close_timeout,
                max_size=self._max_frame_bytes,
                max_queue=self._max_queue,
                logger=wire_logger,
                create_connection=StampedConnection,
            )
        except InvalidStatus as exc:
            response = exc.response
            status = response.status_code
            err = error_from_response(
                http_status=status,
                body=bytes(response.body or b""),
                headers={k: v for k, v in response.headers.raw_items()},
                method="GET",
                url=url,
                credential_kind=creds.failure_kind,
                secrets=creds.secrets(),
            )
            text = f"WebSocket handshake refused: {err}"
            if status in (401, 403):
                raise Unauthorized(text, relogin=status == 401 and creds.can_login) from None
            raise Retry(text, err.retry_after or 0.0) from None
        except InvalidURI:
            raise Fatal("the WebSocket URL is not valid; check the API URL") from None
        except (OSError, TimeoutError, WebSocketException) as exc:
            detail = str(exc).strip()
            text = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
            raise Retry(self._redact(text)) from None

    async def _run(self) -> AsyncGenerator[StreamItem, None]:
        run = RunState()
        yield self._report(ConnectionState(state="connecting", attempt=1))
        prepare_models()  # build validators now, not while the first frame waits
        while not self._closing.is_set():
            outcome = await self._connect_once()
            if outcome.kind == "unauthorized":
                outcome = await self._after_unauthorized(outcome, run)
            if outcome.kind == "again":
                continue
            if outcome.kind == "fatal":
                yield self._report(ConnectionState(state="closed", error=outcome.error, fatal=True))
                return
            if outcome.kind == "closing" or self._closing.is_set():
                if outcome.ws is not None:
                    self._ws = outcome.ws  # events() closes it
                break
            if outcome.kind == "retry":
                run.failures += 1
                delay = max(outcome.min_delay, self._delay(run.failures))
                yield self._report(
                    ConnectionState(
                        state="reconnecting",
                        attempt=run.failures,
                        delay=delay,
                        error=outcome.error,
                        unauthorized=outcome.unauthorized,
                    )
                )
                if await self._wait_closing(delay):
                    break
                continue
            assert outcome.ws is not None
            async for item in self._connected(outcome.ws, run):
                yield item
            if self._closing.is_set():
                break
            run.failures += 1
            delay = self._delay(run.failures)
            yield self._report(
                ConnectionState(
                    state="reconnecting",
                    attempt=run.failures,
                    delay=delay,
                    error=run.drop_error,
                    gap_started=run.gap_started,
                )
            )
            if await self._wait_closing(delay):
                break
        yield self._report(ConnectionState(state="closed"))

    async def _connect_once(self) -> Outcome:
        """One handshake attempt, abandoned at once when close() is called."""
        open_task = asyncio.ensure_future(self._open())
        close_wait = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({open_task, close_wait}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            abandon(open_task)
            raise
        finally:
            close_wait.cancel()
        if not open_task.done():
            abandon(open_task)
            return Outcome("closing")
        try:
            ws = open_task.result()
        except Fatal as exc:
            return Outcome("fatal", error=exc.message)
        except Unauthorized as exc:
            return Outcome("unauthorized", error=exc.message, relogin=exc.relogin)
        except Retry as exc:
            return Outcome("retry", error=exc.message, min_delay=exc.min_delay)
        return Outcome("connected", ws=ws)

    async def _after_unauthorized(self, outcome: Outcome, run: RunState) -> Outcome:
        """A refused handshake (401/403): log in again where we can, else keep trying or give up.

        A credential that worked in this run (or while ``keep_trying`` says a call is live) is retried
        with backoff for as long as it takes: one 401 from a restarting auth service must not cut a
        live call's transcripts off for good. A credential refused from the very start is reported
        as fatal, as a wrong key should be.
        """
        error = outcome.error
        if outcome.relogin and not run.relogged:
            run.relogged = True
            try:
                ok = await self._refresh()
            except AuthError as exc:
                error = str(exc)
            except VoipbinError as exc:
                return Outcome("retry", error=str(exc))
            else:
                if ok:
                    logger.info("WebSocket handshake refused: logged in again, retrying at once")
                    return Outcome("again")
        if not (run.had_connection or self._keep_trying()):
            return Outcome("fatal", error=error)
        # The next attempt after this backoff may log in again.
        run.relogged = False
        return Outcome("retry", error=error, unauthorized=True)

    async def _connected(self, ws: ClientConnection, run: RunState) -> AsyncGenerator[StreamItem, None]:
        """Subscribe, report the (re)connection, then pump frames until the socket drops."""
        self._ws = ws
        self.connections += 1
        if self._closing.is_set():
            return
        if self._topics:
            await self._send_now({"type": "subscribe", "topics": list(self._topics)})
        subscribed_at = time.monotonic()
        if run.had_connection:
            yield self._report(
                ConnectionState(
                    state="reconnected",
                    attempt=run.failures,
                    gap_started=run.gap_started,
                    gap_ended=time.time(),
                )
            )
        else:
            yield self._report(ConnectionState(state="connected", attempt=run.failures + 1))
        run.had_connection = True
        run.gap_started = None
        async for event in self._pump(ws, run, subscribed_at):
            yield event
        # (if the consumer leaves mid-stream, self._ws stays set and events() closes it)
        self._ws = None
        if time.monotonic() - subscribed_at >= self._stable_after:
            run.failures = 0
            run.relogged = False
        run.gap_started = time.time()

    async def _pump(self, ws: ClientConnection, run: RunState, subscribed_at: float) -> AsyncGenerator[Event, None]:
        """Classified frames until the socket drops; the reason is left in ``run.drop_error``."""
        got_frame = False
        run.drop_error = "connection closed"
        try:
            while True:
                message = await receive_message(ws, self._message_deadline)
                event = classify_received(ws, message)
                event = self._namer.process(event)
                self.frames_received += 1
                if event.duplicate:
                    self.duplicates += 1
                if not got_frame:
                    got_frame = True
                    run.failures = 0
                    run.relogged = False
                yield event
        except ConnectionClosed as exc:
            run.drop_error = self._redact(describe_drop(exc, time.monotonic() - subscribed_at, bool(self._topics)))
        except Stalled as exc:
            run.drop_error = exc.message
            with contextlib.suppress(Exception):
                await ws.close()
        except (OSError, WebSocketException) as exc:
            run.drop_error = self._redact(f"{type(exc).__name__}: {exc}")

    def _delay(self, attempt: int) -> float:
        return backoff_delay(
            attempt,
            initial=self._backoff_initial,
            maximum=self._backoff_max,
            jitter=self._jitter,
            rng=self._rng,
        )
