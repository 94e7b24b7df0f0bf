"""The sandbox as a server a stranger can reach: bounded heads, bodies, connections and stderr."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import resource
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.sandbox.conftest import SandboxFactory
from tui.sandbox import EmbeddedSandbox, SandboxSettings, limits
from tui.sandbox.app import build_app, is_loopback
from tui.sandbox.core import SandboxCore
from tui.sandbox.quietlog import CondensingHandler
from tui.sandbox.standalone import exposed

REPO = Path(__file__).resolve().parents[2]


def api_client(sandbox: EmbeddedSandbox) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=sandbox.api_url, params={"accesskey": sandbox.accesskey}, timeout=5)


async def test_body_over_the_limit_is_413_in_the_error_envelope(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(max_body_bytes=4096)
    async with api_client(sandbox) as api:
        declared = await api.post("/calls", content=b"{" + b" " * 5000 + b"}")
        assert declared.status_code == 413
        assert declared.json()["error"]["reason"] == "REQUEST_BODY_TOO_LARGE"
        assert declared.headers["x-request-id"] == declared.json()["error"]["request_id"]

        # No Content-Length: the limit must be enforced while reading the chunks.
        reader, writer = await asyncio.open_connection("127.0.0.1", sandbox.port)
        head = f"POST /v1.0/calls?accesskey={sandbox.accesskey} HTTP/1.1\r\nHost: x\r\n"
        writer.write(head.encode() + b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(5):
            writer.write(b"400\r\n" + b" " * 1024 + b"\r\n")
        await writer.drain()
        streamed = await asyncio.wait_for(reader.read(), timeout=5)
        writer.close()
        assert streamed.startswith(b"HTTP/1.1 413 ")
        assert b'"reason":"REQUEST_BODY_TOO_LARGE"' in streamed
        small = await api.post("/calls", content=b"{}")
        assert small.status_code == 500  # no destinations: the real server's answer, the body was read
    assert sandbox.stats()["bodies_refused"] == 2


async def test_deeply_nested_json_is_400_not_500(sandbox: EmbeddedSandbox) -> None:
    async with api_client(sandbox) as api:
        for body in (b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
            response = await api.post("/speakings", content=body)
            assert response.status_code == 400, response.text[:200]
            assert response.json()["error"]["reason"] == "INVALID_JSON_BODY"
            assert response.headers["content-type"] == "text/plain; charset=utf-8"


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        data = await asyncio.wait_for(reader.read(), timeout=seconds)
    except TimeoutError:
        return False
    return data == b""


async def test_a_trickling_request_head_is_cut_at_the_header_timeout(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(header_timeout=0.6)
    reader, writer = await asyncio.open_connection("127.0.0.1", sandbox.port)
    silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", sandbox.port)
    started = time.monotonic()
    writer.write(b"GET /v1.0/customer HTTP/1.1\r\nHost: x\r\n")
    closed = False
    for _ in range(30):  # one header byte every 0.1 s: never a complete head
        writer.write(b"X")
        await writer.drain()
        if await _closed_within(reader, 0.1):
            closed = True
            break
    assert closed
    assert time.monotonic() - started < 2.0
    assert await _closed_within(silent_reader, 1.0)  # connected, never sent a byte
    assert sandbox.stats()["header_timeouts"] == 2
    for w in (writer, silent_writer):
        w.close()
    # A normal client on a keep-alive connection is unaffected by the deadline between requests.
    async with api_client(sandbox) as api:
        assert (await api.get("/customer")).status_code == 200
        await asyncio.sleep(0.8)
        assert (await api.get("/customer")).status_code == 200


async def test_an_oversized_request_head_is_refused(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(max_header_bytes=4096)
    async with api_client(sandbox) as api:
        response = await api.get("/customer", headers={"x-filler": "a" * 8000})
        assert response.status_code == 431
        assert (await api.get("/customer", headers={"x-filler": "a" * 2000})).status_code == 200


async def test_connections_past_the_cap_are_refused_and_the_server_recovers(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(max_connections=8, header_timeout=5)
    opened = [await asyncio.open_connection("127.0.0.1", sandbox.port) for _ in range(20)]
    refused = 0
    for reader, _ in opened:
        try:
            data = await asyncio.wait_for(reader.read(200), timeout=0.05)
        except TimeoutError:
            continue
        if data.startswith(b"HTTP/1.1 503"):
            refused += 1
    assert refused == 12
    assert sandbox.stats()["connections_refused"] == 12
    for _, writer in opened:
        writer.close()
    await asyncio.sleep(0.1)
    async with api_client(sandbox) as api:
        assert (await api.get("/customer")).status_code == 200


async def test_control_api_accepts_ipv4_mapped_loopback_only() -> None:
    core = SandboxCore(SandboxSettings(speed=40))
    app = build_app(core)
    try:
        for client, expected in (
            (("::ffff:127.0.0.1", 5000), 400),  # reaches the handler: an empty body is not JSON
            (("::1", 5000), 400),
            (("127.0.0.1", 5000), 400),
            (("::ffff:10.1.2.3", 5000), 403),
            (("192.0.2.7", 5000), 403),
        ):
            transport = httpx.ASGITransport(app=app, client=client)
            async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
                response = await http.post("/_sandbox/calls/00000000-0000-4000-8000-000000000001/speak")
            assert response.status_code in (expected, 404), (client, response.text)
            assert (response.status_code == 403) == (expected == 403), client
    finally:
        core.shutdown()
    assert is_loopback(("::ffff:127.0.0.1", 1))
    assert not is_loopback(("::ffff:8.8.8.8", 1))


def test_listening_beyond_loopback_warns_and_randomises_the_password() -> None:
    local, warnings = exposed(SandboxSettings(host="127.0.0.1"))
    assert warnings == []
    assert local.password == "admin@localhost"
    for host in ("0.0.0.0", "::", "192.0.2.1"):
        wide, warnings = exposed(SandboxSettings(host=host))
        assert any("beyond this machine" in w for w in warnings)
        assert wide.password != "admin@localhost"
        assert len(wide.password) >= 20
        again, _ = exposed(SandboxSettings(host=host))
        assert again.password != wide.password
    chosen, warnings = exposed(SandboxSettings(host="0.0.0.0", password="s3cret-chosen", accesskey="vb_fixed"))
    assert chosen.password == "s3cret-chosen"
    assert any("fixed accesskey" in w for w in warnings)
    # The well-known default is replaced even when written out explicitly.
    assert exposed(SandboxSettings(host="0.0.0.0", password="admin@localhost"))[0].password != "admin@localhost"


def test_the_condensing_handler_writes_a_bounded_number_of_lines() -> None:
    stream = io.StringIO()
    handler = CondensingHandler(stream, burst=5, per_second=1.0)
    logger = logging.getLogger("tests.sandbox.flood")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for _ in range(10_000):
            try:
                raise OSError(24, "Too many open files")
            except OSError:
                logger.exception("socket.accept() out of system resource")
    finally:
        logger.removeHandler(handler)
    assert handler.written == 5
    assert handler.suppressed == 10_000 - 5
    text = stream.getvalue()
    assert "Traceback" not in text
    assert len(text.splitlines()) == 5


@pytest.mark.parametrize(("soft", "cap", "backlog"), [(160, 96, 32), (1024, 256, 128), (100, 36, 32)])
def test_one_batch_of_accepts_fits_in_what_the_cap_leaves_free(
    monkeypatch: pytest.MonkeyPatch, soft: int, cap: int, backlog: int
) -> None:
    """asyncio accepts up to the backlog at once before any connection is counted: cap + backlog must stay
    below the open-file limit, or the batch fails with EMFILE (and asyncio logs once per waiting socket)."""
    monkeypatch.setattr(resource, "getrlimit", lambda _: (soft, soft))
    assert limits.connection_cap(256) == cap
    assert limits.listen_backlog(128, cap) == backlog
    assert cap + backlog + limits.FD_OWN <= soft


def _lower_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))


async def test_standalone_past_the_open_file_limit_stays_quiet_and_serves() -> None:
    env = {**os.environ, "VOIPBIN_SANDBOX__SPEED": "40", "PYTHONUNBUFFERED": "1"}
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tui.sandbox", "--host", "127.0.0.1", "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_lower_fd_limit,
    )
    writers: list[asyncio.StreamWriter] = []
    try:
        assert process.stdout is not None
        port = 0
        deadline = time.monotonic() + 15
        while not port and time.monotonic() < deadline:
            line = (await asyncio.wait_for(process.stdout.readline(), timeout=15)).decode()
            if "REST base" in line:
                port = int(line.rsplit(":", 1)[1].split("/", 1)[0])
        assert port
        # Stopped, the server accepts nothing while the kernel queues what its backlog holds; resumed, it
        # takes them in batches before any is counted against the cap, the worst case for its descriptors
        # (under load it happens by itself).
        process.send_signal(signal.SIGSTOP)
        try:
            opening = [asyncio.ensure_future(asyncio.open_connection("127.0.0.1", port)) for _ in range(300)]
            await asyncio.sleep(0.5)
        finally:
            process.send_signal(signal.SIGCONT)
        # Well past the child's 160 file descriptors.
        for _, writer in await asyncio.wait_for(asyncio.gather(*opening), timeout=60):
            writers.append(writer)
        await asyncio.sleep(1.5)
        for writer in writers:
            writer.close()
        writers.clear()
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.post(f"http://127.0.0.1:{port}/auth/login", content=b"{}")
        assert response.status_code == 400  # answered: the server survived
    finally:
        for writer in writers:
            writer.close()
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), timeout=10)
    assert len(err) < 4096, err[:500]
    assert b"Traceback" not in err
