"""Run a command in a pseudo-terminal and time how long until a marker appears on its screen."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from collections.abc import Mapping, Sequence


def time_to_marker(
    argv: Sequence[str],
    marker: bytes,
    *,
    env: Mapping[str, str],
    cols: int = 100,
    rows: int = 30,
    timeout: float = 30.0,
) -> float:
    """Seconds from fork to the first appearance of ``marker`` in the program's terminal output."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            os.execvpe(argv[0], list(argv), dict(env))
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    seen = b""
    try:
        while True:
            left = timeout - (time.perf_counter() - start)
            if left <= 0:
                raise TimeoutError(f"{argv[0]}: {marker!r} did not appear within {timeout}s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child exited
                raise RuntimeError(f"{argv[0]} exited before showing {marker!r}: {seen[-400:]!r}") from None
            if not chunk:
                raise RuntimeError(f"{argv[0]} closed its terminal before showing {marker!r}")
            seen = seen[-len(marker) :] + chunk
            if marker in seen:
                return time.perf_counter() - start
    finally:
        _stop(pid, fd)


def _stop(pid: int, fd: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                os.close(fd)
                return
            time.sleep(0.01)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    os.close(fd)
