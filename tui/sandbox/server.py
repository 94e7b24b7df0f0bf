"""Running the sandbox inside the caller's asyncio event loop.

``EmbeddedSandbox`` binds its own listening socket (so the real port is known at once and a busy port is
an ordinary ``OSError``), then runs ``uvicorn.Server.serve()`` as a task of the current loop with
uvicorn's signal handling, lifespan, access log and logging configuration all off: it never writes to
the terminal. Logs go to the ``tui.sandbox`` logger (and uvicorn's own loggers, which propagate).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from types import TracebackType
from typing import Any

import uvicorn

from tui.sandbox.app import build_app
from tui.sandbox.core import SandboxCore
from tui.sandbox.limits import connection_cap, http_protocol, listen_backlog
from tui.sandbox.settings import SandboxSettings
from tui.sandbox.wsprotocol import SandboxWSProtocol

log = logging.getLogger("tui.sandbox")
# Without any handler, Python's last-resort handler would print warnings to stderr.
for _name in ("tui.sandbox", "uvicorn"):
    logging.getLogger(_name).addHandler(logging.NullHandler())

STOP_TIMEOUT = 0.8


class _QuietServer(uvicorn.Server):
    """uvicorn.Server that leaves signal handling to the host application."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    def install_signal_handlers(self) -> None:  # older uvicorn releases
        return None


def _log_server_end(task: asyncio.Task[None]) -> None:
    # Retrieve the outcome so asyncio never prints "exception was never retrieved" to the terminal.
    if not task.cancelled() and task.exception() is not None:
        log.error("sandbox server stopped unexpectedly", exc_info=task.exception())


def _bind(host: str, port: int, backlog: int = 128) -> socket.socket:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class EmbeddedSandbox:
    """A sandbox server on 127.0.0.1 (OS-chosen port unless ``port`` is given) in this event loop."""

    def __init__(
        self,
        settings: SandboxSettings | None = None,
        *,
        port: int | None = None,
        sip_port: int | None = None,
        sip_tls_port: int | None = None,
    ) -> None:
        self.settings = settings or SandboxSettings()
        self._port_request = 0 if port is None else port
        self._sip_ports = (sip_port or 0, sip_tls_port or 0)
        # The SIP side (settings.sip): where phones register, per transport ("udp", "tcp", "tls").
        self.sip_addresses: dict[str, str] = {}
        self.sip_port = 0
        self.sip_tls_port = 0
        self.core: SandboxCore | None = None
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self.host = self.settings.host
        self.port = 0
        self.root_url = ""
        self.api_url = ""
        self.ws_url = ""
        self.control_url = ""
        self.accesskey = ""
        self.customer_id = ""
        self.username = self.settings.username
        self.password = self.settings.password

    async def start(self) -> EmbeddedSandbox:
        if self._task is not None:
            raise RuntimeError("the sandbox is already running")
        core = SandboxCore(self.settings)
        if self.settings.sip:
            await self._start_sip(core)
        cap = connection_cap(self.settings.max_connections)
        backlog = listen_backlog(self.settings.backlog, cap)
        try:
            sock = _bind(self.host, self._port_request, backlog)
        except OSError:
            if core.sip is not None:
                await core.sip.stop()
            raise
        config = uvicorn.Config(
            build_app(core),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws=SandboxWSProtocol,
            http=http_protocol(self.settings, core.server_stats, cap),
            limit_concurrency=cap,
            timeout_keep_alive=max(1, round(self.settings.idle_timeout)),
            h11_max_incomplete_event_size=self.settings.max_header_bytes,
            backlog=backlog,
            ws_ping_interval=None,
            ws_ping_timeout=None,
            ws_per_message_deflate=False,
            ws_max_size=1 << 20,
            server_header=False,
            proxy_headers=False,
            timeout_graceful_shutdown=1,
        )
        server = _QuietServer(config)
        task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]), name="tui.sandbox")
        while not server.started:
            if task.done():
                sock.close()
                failure = None if task.cancelled() else task.exception()
                # uvicorn reports some startup failures with sys.exit(); never let that escape.
                raise RuntimeError(f"the sandbox server failed to start: {failure!r}") from failure
            await asyncio.sleep(0.005)
        task.add_done_callback(_log_server_end)
        self.core, self._server, self._task, self._socket = core, server, task, sock
        self.port = sock.getsockname()[1]
        netloc = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        self.root_url = f"http://{netloc}"
        self.api_url = f"{self.root_url}/v1.0"
        self.ws_url = f"ws://{netloc}/v1.0/ws"
        self.control_url = f"{self.root_url}/_sandbox"
        self.accesskey = core.accesskey
        self.customer_id = core.customer_id
        log.info("sandbox listening on %s (speed %g)", self.root_url, self.settings.effective_speed)
        return self

    async def _start_sip(self, core: SandboxCore) -> None:
        from tui.sandbox.sip.service import SipService

        if self.settings.speed != 1.0:
            log.warning("SIP mode runs in real time: speed %g is ignored (speed 1)", self.settings.speed)
        sip = SipService(core, port=self._sip_ports[0], tls_port=self._sip_ports[1])
        await sip.start()
        core.sip = sip
        self.sip_addresses = sip.addresses()
        self.sip_port, self.sip_tls_port = sip.port, sip.tls_port

    async def stop(self) -> None:
        """Cancel the simulation, drop every socket and stop the server, within about a second."""
        core, server, task = self.core, self._server, self._task
        if core is None or server is None or task is None:
            return
        self._task = None
        core.shutdown()
        # uvicorn's own graceful path polls every 0.1 s and sleeps 0.1 s more; we already know there
        # is nothing worth waiting for, so close everything ourselves and cancel the serve task.
        server.should_exit = True
        server.force_exit = True
        for listener in getattr(server, "servers", []):
            listener.close()
        for connection in list(server.server_state.connections):
            with contextlib.suppress(Exception):
                connection.shutdown()
        # Requests in flight and the WebSocket handlers (their sockets are already cut) finish on
        # their own almost at once; only stragglers are cancelled.
        in_flight = [t for t in server.server_state.tasks if not t.done()]
        if in_flight:
            await asyncio.wait(in_flight, timeout=0.3)
        for request_task in in_flight:
            if not request_task.done():
                request_task.cancel()
        task.cancel()
        try:
            await asyncio.wait_for(task, timeout=STOP_TIMEOUT)
        except (TimeoutError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("sandbox server failed while stopping")
        if core.sip is not None:
            await core.sip.stop()
        await core.wait_tasks(timeout=0.1)
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        log.info("sandbox stopped")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def stats(self) -> dict[str, Any]:
        if self.core is None:
            return {}
        stats = self.core.stats()
        if self.core.sip is not None:
            stats["sip"] = self.core.sip.stats()
        return stats

    async def __aenter__(self) -> EmbeddedSandbox:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
