"""Fault injection set through ``POST /_sandbox/faults``.

Keys (any subset per request; a request updates only the keys it names):
- ``drop_websockets``: true drops every open WebSocket now (TCP close, no close frame); not sticky.
- ``http_error_rate``: 0..1, the share of REST requests answered 503 REQUEST_TIMEOUT without running.
- ``latency_ms``: wall-clock delay added before every REST request (login included).
- ``expire_tokens``: true makes every credential issued so far (JWTs and the seeded accesskey) invalid;
  logins made afterwards work. false (or a reset) makes the old ones valid again.
- ``reorder``: deliver WebSocket events with random small delays (overrides the setting).
- ``frame_shape``: ``bare`` | ``wrapped`` | ``documented`` (overrides the setting).
``{}`` or ``{"reset": true}`` clears everything back to the configured settings.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, cast

from tui.sandbox.settings import FrameShape

FRAME_SHAPES = ("bare", "wrapped", "documented")


class FaultError(ValueError):
    """A fault request that cannot be applied (answered with 400)."""


@dataclass
class FaultState:
    http_error_rate: float = 0.0
    latency_ms: float = 0.0
    expire_tokens: bool = False
    reorder: bool | None = None
    frame_shape: FrameShape | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FaultRequest:
    reset: bool = False
    drop_websockets: bool = False
    updates: dict[str, Any] | None = None


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FaultError(f"{name} must be true or false")
    return value


def _number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise FaultError(f"{name} must be a number")
    if not low <= float(value) <= high:
        raise FaultError(f"{name} must be between {low:g} and {high:g}")
    return float(value)


def parse_fault_request(body: Any) -> FaultRequest:
    if not isinstance(body, dict):
        raise FaultError("the body must be a JSON object")
    if not body:
        return FaultRequest(reset=True)
    request = FaultRequest(updates={})
    assert request.updates is not None
    for key, value in body.items():
        if key == "reset":
            request.reset = _bool(key, value)
        elif key == "drop_websockets":
            request.drop_websockets = _bool(key, value)
        elif key == "http_error_rate":
            request.updates[key] = _number(key, value, 0.0, 1.0)
        elif key == "latency_ms":
            request.updates[key] = _number(key, value, 0.0, 60_000.0)
        elif key in ("expire_tokens", "reorder"):
            request.updates[key] = _bool(key, value)
        elif key == "frame_shape":
            if value not in FRAME_SHAPES:
                raise FaultError("frame_shape must be one of bare, wrapped, documented")
            request.updates[key] = cast(FrameShape, value)
        else:
            raise FaultError(f"unknown fault {key!r}")
    return request
