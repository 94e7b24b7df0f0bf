"""A faithful local VoIPBIN server (REST + WebSocket) with simulated softphones.

Nothing here imports the rest of ``tui``. ``EmbeddedSandbox`` is resolved lazily so that importing this
package (or ``tui.sandbox.settings``) never pulls in starlette or uvicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.sandbox.settings import SandboxSettings

if TYPE_CHECKING:
    from tui.sandbox.server import EmbeddedSandbox

__all__ = ["EmbeddedSandbox", "SandboxSettings"]


def __getattr__(name: str) -> Any:
    if name == "EmbeddedSandbox":
        from tui.sandbox.server import EmbeddedSandbox

        return EmbeddedSandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
