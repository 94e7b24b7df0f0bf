"""The sandbox's own control API under ``/_sandbox/`` (not part of VoIPBIN; loopback clients only).

- ``POST /_sandbox/calls/{call_id}/answer``  the phone answers a dialing/ringing call
- ``POST /_sandbox/calls/{call_id}/reject``  the phone declines it (hangup remote, busy)
- ``POST /_sandbox/calls/{call_id}/hangup``  the phone hangs up (remote, normal; a decline if unanswered)
- ``POST /_sandbox/calls/{call_id}/speak``   ``{"text": "..."}`` the phone says a line (``in`` direction)
- ``POST /_sandbox/faults``                  see :mod:`tui.sandbox.faults`

Replies are plain JSON: the call for the call endpoints, ``{"faults": {...}, "dropped_websockets": n}``
for faults, ``{"error": "..."}`` with 400/404/409 otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tui.sandbox import errors
from tui.sandbox.encoding import dumps, parse_uuid
from tui.sandbox.faults import FaultError, parse_fault_request
from tui.sandbox.models import Call
from tui.sandbox.requests import decode_body

if TYPE_CHECKING:
    from tui.sandbox.core import SandboxCore

JSON_TYPE = "application/json; charset=utf-8"


def _reply(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status_code=status, media_type=JSON_TYPE)


def control_routes(core: SandboxCore) -> list[BaseRoute]:
    def call_of(request: Request) -> Call | Response:
        parsed = parse_uuid(request.path_params["call_id"])
        call = core.store.calls.get(str(parsed)) if parsed is not None else None
        if call is None:
            return _reply({"error": "no such call"}, 404)
        return call

    def on_sip_phone(call: Call) -> bool:
        return core.sip is not None and call.id in core.sip.legs_by_call

    def call_action(
        action: Callable[[Call], Call], *, phone_decides: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            found = call_of(request)
            if isinstance(found, Response):
                return found
            if phone_decides and on_sip_phone(found):
                return _reply({"error": "a real SIP phone is on this call; it answers or declines itself"}, 409)
            try:
                return _reply(action(found).to_json())
            except errors.ApiError:
                return _reply({"error": f"the call is {found.status}"}, 409)

        return run

    async def speak(request: Request) -> Response:
        found = call_of(request)
        if isinstance(found, Response):
            return found
        try:
            body = decode_body(await request.body())
        except errors.ApiError:
            return _reply({"error": "the body must be JSON"}, 400)
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return _reply({"error": 'expected {"text": "..."}'}, 400)
        if on_sip_phone(found):
            return _reply({"error": "a real SIP phone is on this call; it speaks for itself"}, 409)
        try:
            return _reply(core.calls.speak(found, text).to_json())
        except errors.ApiError:
            return _reply({"error": f"the call is {found.status}, not progressing"}, 409)

    async def faults(request: Request) -> Response:
        raw = await request.body()
        try:
            body = decode_body(raw) if raw.strip() else {}
            fault_request = parse_fault_request(body)
        except errors.ApiError:
            return _reply({"error": "the body must be JSON"}, 400)
        except FaultError as exc:
            return _reply({"error": str(exc)}, 400)
        dropped = len(core.connections) if fault_request.drop_websockets else 0
        core.apply_faults(fault_request)
        return _reply({"faults": core.faults.as_dict(), "dropped_websockets": dropped})

    async def sip_state(request: Request) -> Response:
        if core.sip is None:
            return _reply({"error": "the SIP side is off (sandbox --sip)"}, 404)
        return _reply(core.sip.stats())

    return [
        Route("/sip", sip_state, methods=["GET"]),
        Route("/calls/{call_id}/answer", call_action(core.calls.answer, phone_decides=True), methods=["POST"]),
        Route("/calls/{call_id}/reject", call_action(core.calls.reject, phone_decides=True), methods=["POST"]),
        Route("/calls/{call_id}/hangup", call_action(core.calls.remote_hangup), methods=["POST"]),
        Route("/calls/{call_id}/speak", speak, methods=["POST"]),
        Route("/faults", faults, methods=["POST"]),
    ]
