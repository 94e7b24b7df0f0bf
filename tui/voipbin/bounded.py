"""Reading an HTTP body with a hard cap on what it decodes to, and the per-request limits.

httpx decodes ``gzip``/``deflate`` one network chunk at a time with no bound on the output, so a
small compressed body can unpack to gigabytes before any size check could run. Here the raw bytes
are read as they arrive and decompressed with ``max_length``: no more than the cap (plus one byte,
to notice going over) is ever held, whatever the ratio.
"""

from __future__ import annotations

import asyncio
import weakref
import zlib
from dataclasses import dataclass
from typing import Final, Protocol

import httpx

__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_REQUEST_DEADLINE",
    "ERROR_BODY_BYTES",
    "LIST_RESPONSE_FACTOR",
    "Body",
    "BodyError",
    "BodyTooLarge",
    "CorruptEncoding",
    "Reply",
    "UnsupportedEncoding",
    "exchange",
    "read_body",
]

#: The only encodings we announce and can decode within a bound.
ACCEPT_ENCODING: Final = "gzip, deflate"
#: A decoded single resource or page is a few kilobytes; 4 MiB leaves room for odd servers.
DEFAULT_MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024
#: List endpoints (100 items a page) may need more than a single resource.
LIST_RESPONSE_FACTOR: Final = 4
#: An error body is only read for its message: the rest is cut, not waited for.
ERROR_BODY_BYTES: Final = 64 * 1024
#: Longest a whole request (connect, send, every byte of the answer) may take.
DEFAULT_REQUEST_DEADLINE: Final = 30.0


class BodyError(Exception):
    """Base of the body-reading failures (never raised itself)."""


class BodyTooLarge(BodyError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the response is larger than {_size(limit)} decoded (the limit); it was not read")
        self.limit = limit


class CorruptEncoding(BodyError):
    def __init__(self) -> None:
        super().__init__("the response's compressed body is corrupt")


class UnsupportedEncoding(BodyError):
    def __init__(self, encoding: str) -> None:
        shown = encoding[:40]
        super().__init__(f"the response uses a content-encoding we did not ask for ({shown!r})")


class _Decoder(Protocol):
    def feed(self, data: bytes, room: int) -> bytes: ...


class _Identity:
    def feed(self, data: bytes, room: int) -> bytes:
        return data[: room + 1]


class _Zlib:
    """gzip or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        try:
            out = self._obj.decompress(data, room + 1)
        except zlib.error:
            if self._gzip or self._started:
                raise
            # A "deflate" body without the zlib header.
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._obj.decompress(data, room + 1)
        self._started = True
        if self._obj.unconsumed_tail and len(out) <= room:  # pragma: no cover - max_length guarantees it
            out += self._obj.decompress(self._obj.unconsumed_tail, room + 1 - len(out))
        return out


def _decoder_for(encoding: str) -> _Decoder:
    names = [part.strip().lower() for part in encoding.split(",") if part.strip()]
    names = [n for n in names if n != "identity"]
    if not names:
        return _Identity()
    if len(names) == 1 and names[0] in ("gzip", "x-gzip"):
        return _Zlib(gzip=True)
    if len(names) == 1 and names[0] == "deflate":
        return _Zlib(gzip=False)
    raise UnsupportedEncoding(encoding)


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes
    cut: bool  # True when the body went on past the cap and ``truncate`` was asked for


async def read_body(response: httpx.Response, limit: int, *, truncate: bool = False) -> Body:
    """The decoded body, at most ``limit`` bytes.

    Past the limit: :class:`BodyTooLarge`, or with ``truncate`` the first ``limit`` bytes and
    ``cut=True``. Reading stops at once either way; the caller closes the response.
    """
    if response.is_stream_consumed:
        # Built in memory (a mock transport): nothing left to read from the network.
        data = response.content
        if len(data) > limit and not truncate:
            raise BodyTooLarge(limit)
        return Body(data[:limit], len(data) > limit)
    try:
        decoder = _decoder_for(response.headers.get("content-encoding", ""))
    except UnsupportedEncoding:
        if not truncate:
            raise
        return Body(b"", True)
    parts: list[bytes] = []
    have = 0
    async for chunk in response.aiter_raw():
        if not chunk:
            continue
        try:
            out = decoder.feed(chunk, limit - have)
        except zlib.error:
            if truncate:
                return Body(b"".join(parts), True)
            raise CorruptEncoding() from None
        if have + len(out) > limit:
            if not truncate:
                raise BodyTooLarge(limit)
            parts.append(out[: limit - have])
            return Body(b"".join(parts), True)
        parts.append(out)
        have += len(out)
    return Body(b"".join(parts), False)


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"


@dataclass(frozen=True, slots=True)
class Reply:
    """A response read in full, within the limits."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    cut: bool = False


# Requests in flight per client at most (its pool holds as many connections). httpcore's pool rescans
# every queued request against every connection each time one frees: a burst of 200 concurrent calls on
# one account cost 24 million such checks. A burst waits here instead, in a plain semaphore.
IN_FLIGHT_MAX: Final = 32
_GATES: weakref.WeakKeyDictionary[httpx.AsyncClient, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _gate(http: httpx.AsyncClient) -> asyncio.Semaphore:
    gate = _GATES.get(http)
    if gate is None:
        gate = _GATES[http] = asyncio.Semaphore(IN_FLIGHT_MAX)
    return gate


async def exchange(http: httpx.AsyncClient, request: httpx.Request, *, deadline: float, limit: int) -> Reply:
    """Send ``request`` and read its answer, all within ``deadline`` seconds (``TimeoutError`` past it).

    A success body over ``limit`` decoded bytes raises :class:`BodyTooLarge`; an error body is only
    wanted for its message, so it is cut at :data:`ERROR_BODY_BYTES` instead (``cut=True``).
    """
    async with asyncio.timeout(deadline), _gate(http):
        response = await http.send(request, stream=True)
        try:
            ok = 200 <= response.status_code < 300
            body = await read_body(response, limit if ok else ERROR_BODY_BYTES, truncate=not ok)
        finally:
            await response.aclose()
    return Reply(response.status_code, response.headers, body.data, body.cut)
