"""A client of the sandbox's own control API (``/_sandbox``): the simulated phone's side and faults.

It lives outside ``tui.sandbox`` on purpose: the sandbox imports nothing from the client side, and the
client side reaches the sandbox only over HTTP, the way a test or another process would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

# A local control call answers in milliseconds; this only stops a wedged sandbox from hanging an action.
CONTROL_TIMEOUT = 5.0
# Replies are a call object or a short error; anything longer is cut before it is shown.
DETAIL_CHARS = 200


class SandboxControlError(RuntimeError):
    """The control API refused (404 no such call, 409 not in a state for that, 400 bad fault)."""


class SandboxControl:
    """The simulated softphone (answer, reject, hang up, speak) and fault injection of one sandbox."""

    def __init__(self, control_url: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        import httpx

        from tui.voipbin.transport import tls_context

        self._http = httpx.AsyncClient(
            base_url=control_url.rstrip("/"), timeout=CONTROL_TIMEOUT, transport=transport, verify=tls_context()
        )

    async def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self._http.post(path, json=body or {})
        if response.status_code >= 400:
            detail = response.text[:DETAIL_CHARS]
            raise SandboxControlError(f"sandbox phone: {path} failed ({response.status_code}): {detail}")
        try:
            data = response.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def answer(self, call_id: str) -> None:
        await self._post(f"/calls/{call_id}/answer")

    async def reject(self, call_id: str) -> None:
        await self._post(f"/calls/{call_id}/reject")

    async def hangup(self, call_id: str) -> None:
        await self._post(f"/calls/{call_id}/hangup")

    async def speak(self, call_id: str, text: str) -> None:
        await self._post(f"/calls/{call_id}/speak", {"text": text})

    async def faults(self, **faults: Any) -> dict[str, Any]:
        return await self._post("/faults", faults)

    async def aclose(self) -> None:
        await self._http.aclose()
