"""The VoIPBIN HTTP surface: ``/auth/login``, the ``/v1.0`` REST routes and ``/v1.0/ws``.

Unknown paths and wrong methods answer 404 ROUTE_NOT_FOUND (no 405), before authentication. On a known
route authentication runs first (401), then query binding (400), then the handler. Every response
carries ``X-Request-Id`` (a safe client value is echoed).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tui.sandbox import errors, limits, timeline
from tui.sandbox.auth import Identity
from tui.sandbox.control import control_routes
from tui.sandbox.core import SandboxCore
from tui.sandbox.encoding import dumps, parse_uuid
from tui.sandbox.handling import (
    JSON_TYPE,
    REQUEST_ID_KEY,
    error_response,
    json_response,
    page_of,
    path_id,
    query_first,
    request_id_of,
)
from tui.sandbox.models import Call
from tui.sandbox.requests import decode_body, decode_object, opt_str
from tui.sandbox.speakings import MAX_SAY_BYTES
from tui.sandbox.store import paginate
from tui.sandbox.transcribe_api import TranscribeApi
from tui.sandbox.websocket import websocket_endpoint

Handler = Callable[[Request, Identity], Awaitable[Response]]


def is_loopback(client: Any) -> bool:
    if not client:
        return False
    host = str(client[0])
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host == "localhost"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # A dual-stack listener (``--host ::``) sees IPv4 clients as ::ffff:a.b.c.d.
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


class SandboxMiddleware:
    """Request ids on every response; loopback-only control API; injected latency and errors."""

    def __init__(self, app: ASGIApp, core: SandboxCore) -> None:
        self.app = app
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id: str | None = None
        for key, value in scope.get("headers", []):
            if key.lower() == b"x-request-id":
                sent_id = value.decode("latin-1")
                break
        request_id = errors.safe_request_id(sent_id) or errors.new_request_id()
        scope[REQUEST_ID_KEY] = request_id
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, header]
            await send(message)

        receive, refused = await self._bounded_body(scope, receive)
        if refused is not None:
            await error_response(refused, request_id)(scope, receive, send_with_id)
            return
        path: str = scope.get("path", "")
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            if not is_loopback(scope.get("client")):
                body = dumps({"error": "the sandbox control API is served to loopback clients only"})
                await Response(body, status_code=403, media_type=JSON_TYPE)(scope, receive, send_with_id)
                return
            await self.app(scope, receive, send_with_id)
            return
        faults = self.core.faults
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000.0)
        if faults.http_error_rate > 0 and self.core.rng.random() < faults.http_error_rate:
            await error_response(errors.request_timeout(), request_id)(scope, receive, send_with_id)
            return
        await self.app(scope, receive, send_with_id)

    async def _bounded_body(self, scope: Scope, receive: Receive) -> tuple[Receive, errors.ApiError | None]:
        """Read the body under the size and time limits, then hand it on as if it came from the socket."""
        settings = self.core.settings
        limit = settings.max_body_bytes
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > limit:
                self.core.server_stats.bodies_refused += 1
                return receive, limits.too_large(limit)
        try:
            body = await limits.read_body(receive, limit, settings.body_timeout)
        except limits.BodyTooLarge:
            self.core.server_stats.bodies_refused += 1
            return receive, limits.too_large(limit)
        except TimeoutError:
            return receive, limits.body_timeout()
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay, None


class Api:
    """Route handlers bound to one sandbox core."""

    def __init__(self, core: SandboxCore) -> None:
        self.core = core

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            request_id = request_id_of(request.scope)
            try:
                identity = self.core.auth.authenticate(
                    request.headers,
                    request.scope.get("query_string", b"").decode("latin-1"),
                    self.core.clock.now(),
                )
                if not identity.is_customer_admin:
                    raise errors.permission_denied()
                return await handler(request, identity)
            except errors.ApiError as exc:
                return error_response(exc, request_id)

        return run

    def _call(self, request: Request) -> Call:
        call = self.core.store.calls.get(path_id(request))
        if call is None:
            raise errors.call_not_found()
        if call.tm_delete is not None:
            raise errors.state_invalid()
        return call

    # --- login ---------------------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        # Any failure is a bare 400 without the JSON envelope.
        try:
            body = decode_object(await request.body())
            username = opt_str(body, "username")
            password = opt_str(body, "password")
        except errors.ApiError:
            return Response(status_code=400)
        if not username or not password:
            return Response(status_code=400)
        token = self.core.auth.login(username, password, self.core.clock.now())
        if token is None:
            return Response(status_code=400)
        response = json_response({"username": username, "token": token})
        response.headers.append(
            "set-cookie", f"token={token}; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict"
        )
        return response

    # --- account -------------------------------------------------------------------------------

    async def get_customer(self, request: Request, identity: Identity) -> Response:
        assert self.core.store.customer is not None
        return json_response(self.core.store.customer.to_json())

    async def get_me(self, request: Request, identity: Identity) -> Response:
        if identity.kind != "agent":
            raise errors.ApiError(
                "PERMISSION_DENIED", "AGENT_AUTH_REQUIRED", "This endpoint requires agent authentication."
            )
        # The agent's webhook form: the token's agent object without direct_id.
        return json_response({k: v for k, v in self.core.auth.agent.items() if k != "direct_id"})

    async def list_numbers(self, request: Request, identity: Identity) -> Response:
        size, token = page_of(request)
        items, next_token = paginate(self.core.store.numbers.values(), lambda n: n.tm_create, size, token)
        return json_response({"result": [n.to_json() for n in items], "next_page_token": next_token})

    async def list_extensions(self, request: Request, identity: Identity) -> Response:
        size, token = page_of(request)
        items, next_token = paginate(self.core.store.extensions.values(), lambda e: e.tm_create, size, token)
        return json_response({"result": [e.to_json() for e in items], "next_page_token": next_token})

    # --- calls ---------------------------------------------------------------------------------

    async def create_calls(self, request: Request, identity: Identity) -> Response:
        body = decode_body(await request.body())
        calls, groupcalls, legs = self.core.calls.create(body)
        payload = {"calls": [c.to_json() for c in calls], "groupcalls": [g.to_json() for g in groupcalls]}
        background = BackgroundTask(self.core.calls.launch_legs, legs) if legs else None
        return json_response(payload, background=background)

    async def list_calls(self, request: Request, identity: Identity) -> Response:
        size, token = page_of(request)
        live = (c for c in self.core.store.calls.values() if c.tm_delete is None)
        items, next_token = paginate(live, lambda c: c.tm_create, size, token)
        return json_response({"result": [c.to_json() for c in items], "next_page_token": next_token})

    async def get_call(self, request: Request, identity: Identity) -> Response:
        return json_response(self._call(request).to_json())

    async def delete_call(self, request: Request, identity: Identity) -> Response:
        return json_response(self.core.calls.delete(self._call(request)).to_json())

    async def hangup_call(self, request: Request, identity: Identity) -> Response:
        return json_response(self.core.calls.hangup_local(self._call(request)).to_json())

    async def list_groupcalls(self, request: Request, identity: Identity) -> Response:
        size, token = page_of(request)
        live = (g for g in self.core.store.groupcalls.values() if g.tm_delete is None)
        items, next_token = paginate(live, lambda g: g.tm_create, size, token)
        return json_response({"result": [g.to_json() for g in items], "next_page_token": next_token})

    async def get_groupcall(self, request: Request, identity: Identity) -> Response:
        return json_response(self.core.groupcalls.live(path_id(request)).to_json())

    async def hangup_groupcall(self, request: Request, identity: Identity) -> Response:
        groupcalls = self.core.groupcalls
        return json_response(groupcalls.hangup(groupcalls.live(path_id(request))).to_json())

    async def delete_groupcall(self, request: Request, identity: Identity) -> Response:
        groupcalls = self.core.groupcalls
        return json_response(groupcalls.delete(groupcalls.get(path_id(request))).to_json())

    async def aggregated_events(self, request: Request, identity: Identity) -> Response:
        page_size = timeline.parse_page_size(query_first(request, "page_size"))
        page_token = query_first(request, "page_token")
        raw_call = query_first(request, "call_id") or ""
        raw_flow = query_first(request, "activeflow_id") or ""
        if bool(raw_call) == bool(raw_flow):
            raise errors.invalid_argument("Exactly one of activeflow_id or call_id must be provided.")
        parsed = parse_uuid(raw_call or raw_flow)
        if parsed is None:
            raise errors.invalid_parameter("call_id" if raw_call else "activeflow_id")
        events = self.core.timeline
        activeflow_id = events.activeflow_of_call(str(parsed)) if raw_call else str(parsed)
        items, next_token = events.page(activeflow_id, page_size, page_token)
        return json_response({"result": [r.to_json() for r in items], "next_page_token": next_token})

    # --- speakings -----------------------------------------------------------------------------

    async def create_speaking(self, request: Request, identity: Identity) -> Response:
        body = decode_object(await request.body())
        speaking = await self.core.speakings.create(body)
        return json_response(speaking.to_json(), status=201)

    async def list_speakings(self, request: Request, identity: Identity) -> Response:
        size, token = page_of(request)
        live = (s for s in self.core.store.speakings.values() if s.tm_delete is None)
        items, next_token = paginate(live, lambda s: s.tm_create, size, token)
        return json_response({"result": [s.to_json() for s in items], "next_page_token": next_token})

    async def get_speaking(self, request: Request, identity: Identity) -> Response:
        return json_response(self.core.speakings.get(path_id(request)).to_json())

    async def delete_speaking(self, request: Request, identity: Identity) -> Response:
        return json_response(self.core.speakings.delete(path_id(request)).to_json())

    async def say(self, request: Request, identity: Identity) -> Response:
        speaking_id = path_id(request)
        body = decode_object(await request.body())
        text = opt_str(body, "text") or ""
        if not text:
            raise errors.invalid_argument("The text field must not be empty.")
        # Go's len() counts UTF-8 bytes, not characters.
        if len(text.encode("utf-8")) > MAX_SAY_BYTES:
            raise errors.invalid_argument("The text field exceeds the 5000 character limit.")
        return json_response(self.core.speakings.say(speaking_id, text).to_json())

    async def flush(self, request: Request, identity: Identity) -> Response:
        return json_response(self.core.speakings.flush(path_id(request)).to_json())

    async def stop_speaking(self, request: Request, identity: Identity) -> Response:
        return json_response(self.core.speakings.stop(path_id(request)).to_json())

    async def ws_without_upgrade(self, request: Request, identity: Identity) -> Response:
        # gorilla's Upgrade refuses a plain GET after authentication passed.
        return Response("Bad Request\n", status_code=400, media_type="text/plain; charset=utf-8")


class _WebSocketApp:
    """A plain ASGI app (not a function), so Starlette hands it the raw scope/receive/send."""

    def __init__(self, core: SandboxCore) -> None:
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await websocket_endpoint(self.core, scope, receive, send)


def build_app(core: SandboxCore) -> ASGIApp:
    api = Api(core)
    transcribes = TranscribeApi(core)
    ep = api.endpoint

    routes = [
        Route("/auth/login", api.login, methods=["POST"]),
        Route("/v1.0/customer", ep(api.get_customer), methods=["GET"]),
        Route("/v1.0/me", ep(api.get_me), methods=["GET"]),
        Route("/v1.0/numbers", ep(api.list_numbers), methods=["GET"]),
        Route("/v1.0/extensions", ep(api.list_extensions), methods=["GET"]),
        Route("/v1.0/calls", ep(api.create_calls), methods=["POST"]),
        Route("/v1.0/calls", ep(api.list_calls), methods=["GET"]),
        Route("/v1.0/calls/{id}", ep(api.get_call), methods=["GET"]),
        Route("/v1.0/calls/{id}", ep(api.delete_call), methods=["DELETE"]),
        Route("/v1.0/calls/{id}/hangup", ep(api.hangup_call), methods=["POST"]),
        Route("/v1.0/groupcalls", ep(api.list_groupcalls), methods=["GET"]),
        Route("/v1.0/groupcalls/{id}", ep(api.get_groupcall), methods=["GET"]),
        Route("/v1.0/groupcalls/{id}", ep(api.delete_groupcall), methods=["DELETE"]),
        Route("/v1.0/groupcalls/{id}/hangup", ep(api.hangup_groupcall), methods=["POST"]),
        Route("/v1.0/speakings", ep(api.create_speaking), methods=["POST"]),
        Route("/v1.0/speakings", ep(api.list_speakings), methods=["GET"]),
        Route("/v1.0/speakings/{id}", ep(api.get_speaking), methods=["GET"]),
        Route("/v1.0/speakings/{id}", ep(api.delete_speaking), methods=["DELETE"]),
        Route("/v1.0/speakings/{id}/say", ep(api.say), methods=["POST"]),
        Route("/v1.0/speakings/{id}/flush", ep(api.flush), methods=["POST"]),
        Route("/v1.0/speakings/{id}/stop", ep(api.stop_speaking), methods=["POST"]),
        Route("/v1.0/transcribes", ep(transcribes.create_transcribe), methods=["POST"]),
        Route("/v1.0/transcribes", ep(transcribes.list_transcribes), methods=["GET"]),
        Route("/v1.0/transcribes/{id}", ep(transcribes.get_transcribe), methods=["GET"]),
        Route("/v1.0/transcribes/{id}", ep(transcribes.delete_transcribe), methods=["DELETE"]),
        Route("/v1.0/transcribes/{id}/stop", ep(transcribes.stop_transcribe), methods=["POST"]),
        Route("/v1.0/transcripts", ep(transcribes.list_transcripts), methods=["GET"]),
        Route("/v1.0/ws", ep(api.ws_without_upgrade), methods=["GET"]),
        WebSocketRoute("/v1.0/ws", _WebSocketApp(core)),
        Mount("/_sandbox", routes=control_routes(core)),
    ]
    if core.settings.aggregated_events:
        routes.insert(-3, Route("/v1.0/aggregated-events", ep(api.aggregated_events), methods=["GET"]))

    async def no_route(request: Request, exc: Exception) -> Response:
        return error_response(errors.route_not_found(), request_id_of(request.scope))

    async def crashed(request: Request, exc: Exception) -> Response:
        return error_response(errors.internal(), request_id_of(request.scope))

    app = Starlette(
        routes=routes,
        exception_handlers={404: no_route, 405: no_route, Exception: crashed},
    )
    return SandboxMiddleware(app, core)
