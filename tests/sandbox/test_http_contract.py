"""Cross-cutting HTTP rules: credentials, the error envelope, request ids, pagination, JSON encoding."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import SandboxFactory, login, place_seed_call, wait_call_status
from tui.sandbox import EmbeddedSandbox

ZERO = "00000000-0000-0000-0000-000000000000"
GO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")
TOKEN_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def jwt_payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


# --- login -------------------------------------------------------------------------------------


async def test_login_token_and_cookie(sandbox: EmbeddedSandbox) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            sandbox.root_url + "/auth/login", json={"username": "admin@localhost", "password": "admin@localhost"}
        )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"username", "token"}
    header, _, _ = body["token"].partition(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt_payload(body["token"])
    assert claims["type"] == "agent"
    assert claims["agent"]["customer_id"] == sandbox.customer_id
    assert TOKEN_TIME.match(claims["expire"])
    expire = dt.datetime.strptime(claims["expire"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    assert abs((expire - dt.datetime.now(dt.UTC)) - dt.timedelta(days=7)) < dt.timedelta(minutes=1)
    cookie = response.headers["set-cookie"]
    assert cookie == f"token={body['token']}; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict"


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b"[]",
        b'{"username": "admin@localhost"}',
        b'{"username": "admin@localhost", "password": ""}',
        b'{"username": "admin@localhost", "password": "wrong"}',
        b'{"username": 5, "password": "admin@localhost"}',
    ],
)
async def test_login_failures_are_bare_400(sandbox: EmbeddedSandbox, payload: bytes) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(sandbox.root_url + "/auth/login", content=payload)
    assert response.status_code == 400
    assert response.content == b""
    assert response.headers["x-request-id"].startswith("req_")


async def test_login_is_not_under_v1(sandbox: EmbeddedSandbox) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            sandbox.api_url + "/auth/login", json={"username": "admin@localhost", "password": "admin@localhost"}
        )
    assert response.status_code == 404
    assert response.json()["error"]["reason"] == "ROUTE_NOT_FOUND"


# --- credential precedence ---------------------------------------------------------------------


async def test_credential_sources_and_precedence(sandbox: EmbeddedSandbox, token: str) -> None:
    url = sandbox.api_url + "/customer"
    key = sandbox.accesskey
    bad = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    cases: list[tuple[dict[str, str], dict[str, str], int, str | None]] = [
        ({}, {}, 401, "AUTHENTICATION_REQUIRED"),
        ({"token": token}, {}, 200, None),
        ({}, {"Authorization": f"Bearer {token}"}, 200, None),
        ({}, {"Cookie": f"token={token}"}, 200, None),
        ({"accesskey": key}, {}, 200, None),
        ({}, {"Cookie": f"accesskey={key}"}, 200, None),
        # An accesskey is never accepted as a Bearer value: it is parsed as a JWT and rejected.
        ({}, {"Authorization": f"Bearer {key}"}, 401, "INVALID_CREDENTIALS"),
        # A present-but-bad JWT never falls back to a good accesskey.
        ({"token": bad, "accesskey": key}, {}, 401, "INVALID_CREDENTIALS"),
        ({"accesskey": key}, {"Authorization": f"Bearer {bad}"}, 401, "INVALID_CREDENTIALS"),
        # Cookie token beats everything else.
        ({"token": token}, {"Cookie": f"token={bad}"}, 401, "INVALID_CREDENTIALS"),
        ({"token": bad}, {"Cookie": f"token={token}"}, 200, None),
        # ?token beats the Authorization header.
        ({"token": token}, {"Authorization": f"Bearer {bad}"}, 200, None),
        # Cookie accesskey beats ?accesskey.
        ({"accesskey": key}, {"Cookie": "accesskey=vb_wrong"}, 401, "INVALID_CREDENTIALS"),
        # Only the literal "Bearer " prefix counts.
        ({}, {"Authorization": f"bearer {token}"}, 401, "AUTHENTICATION_REQUIRED"),
        ({}, {"Authorization": f"Token {token}"}, 401, "AUTHENTICATION_REQUIRED"),
        ({"accesskey": "vb_nope"}, {}, 401, "INVALID_CREDENTIALS"),
        ({"token": "eyJhbGciOiJub25lIn0.eyJ0eXBlIjoiYWdlbnQifQ."}, {}, 401, "INVALID_CREDENTIALS"),
    ]
    async with httpx.AsyncClient() as client:
        for params, headers, status, reason in cases:
            response = await client.get(url, params=params, headers=headers)
            assert response.status_code == status, (params, headers, response.text)
            if reason:
                error = response.json()["error"]
                assert error["status"] == "UNAUTHENTICATED"
                assert error["reason"] == reason
                expected = {
                    "AUTHENTICATION_REQUIRED": "Authentication is required.",
                    "INVALID_CREDENTIALS": "The provided credentials are invalid.",
                }[reason]
                assert error["message"] == expected


async def test_me_needs_an_agent_token(sandbox: EmbeddedSandbox, token: str) -> None:
    async with httpx.AsyncClient(base_url=sandbox.api_url) as client:
        agent = await client.get("/me", params={"token": token})
        key = await client.get("/me", params={"accesskey": sandbox.accesskey})
    assert agent.status_code == 200
    assert agent.json()["username"] == "admin@localhost"
    assert key.status_code == 403
    assert key.json()["error"]["reason"] == "AGENT_AUTH_REQUIRED"


# --- envelope, request ids, routing ------------------------------------------------------------


async def test_every_response_has_a_request_id(sandbox: EmbeddedSandbox, token: str) -> None:
    async with httpx.AsyncClient() as client:
        echoed = await client.get(
            sandbox.api_url + "/customer", params={"token": token}, headers={"X-Request-Id": "my-trace_1"}
        )
        unsafe = await client.get(
            sandbox.api_url + "/customer", params={"token": token}, headers={"X-Request-Id": "bad id!"}
        )
        too_long = await client.get(sandbox.api_url + "/nowhere", headers={"X-Request-Id": "a" * 65})
        error = await client.get(sandbox.api_url + "/calls/xyz", params={"token": token})
    assert echoed.headers["x-request-id"] == "my-trace_1"
    for response in (unsafe, too_long, error):
        assert re.fullmatch(r"req_[A-Z2-7]{26}", response.headers["x-request-id"])
    assert error.json()["error"]["request_id"] == error.headers["x-request-id"]


async def test_unknown_routes_and_methods_are_404_without_auth(sandbox: EmbeddedSandbox) -> None:
    async with httpx.AsyncClient() as client:
        for method, path in (
            ("GET", "/v1.0/nothing"),
            ("PATCH", "/v1.0/calls"),
            ("PUT", "/v1.0/speakings/00000000-0000-0000-0000-000000000001/say"),
            ("GET", "/"),
            ("GET", "/auth/login"),
        ):
            response = await client.request(method, sandbox.root_url + path)
            assert response.status_code == 404, (method, path)
            assert response.json() == {
                "error": {
                    "status": "NOT_FOUND",
                    "reason": "ROUTE_NOT_FOUND",
                    "message": "The requested endpoint does not exist.",
                    "request_id": response.headers["x-request-id"],
                }
            }


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "reason", "message"),
    [
        ("GET", "/calls/not-a-uuid", None, 400, "INVALID_ID", "The provided id is not a valid UUID."),
        ("GET", f"/calls/{ZERO}", None, 400, "INVALID_ID", "The provided id is not a valid UUID."),
        ("GET", "/calls/3f1e0a6e-0000-4000-8000-000000000001", None, 404, "CALL_NOT_FOUND", "The call was not found."),
        (
            "GET",
            "/groupcalls/3f1e0a6e-0000-4000-8000-000000000001",
            None,
            404,
            "GROUPCALL_NOT_FOUND",
            "The group call was not found.",
        ),
        (
            "GET",
            "/speakings/3f1e0a6e-0000-4000-8000-000000000001",
            None,
            404,
            "RESOURCE_NOT_FOUND",
            "The requested resource was not found.",
        ),
        (
            "GET",
            "/transcribes/3f1e0a6e-0000-4000-8000-000000000001",
            None,
            404,
            "TRANSCRIBE_NOT_FOUND",
            "The transcribe was not found.",
        ),
        (
            "GET",
            "/calls?page_size=abc",
            None,
            400,
            "INVALID_REQUEST_PARAMETER",
            'The parameter "page_size" has an invalid format.',
        ),
        ("GET", "/transcripts", None, 400, "MISSING_REQUEST_PARAMETER", 'The parameter "transcribe_id" is required.'),
        ("GET", "/transcripts?transcribe_id=nope", None, 404, "TRANSCRIBE_NOT_FOUND", "The transcribe was not found."),
        (
            "GET",
            "/transcribes?reference_type=call",
            None,
            400,
            "INVALID_REFERENCE_FILTER",
            "reference_type and reference_id must be supplied together.",
        ),
        (
            "GET",
            "/transcribes?reference_id=3f1e0a6e-0000-4000-8000-000000000001",
            None,
            400,
            "INVALID_REFERENCE_FILTER",
            "reference_type and reference_id must be supplied together.",
        ),
        (
            "GET",
            "/transcribes?reference_type=call&reference_id=zzz",
            None,
            400,
            "INVALID_REQUEST_PARAMETER",
            'The parameter "reference_id" has an invalid format.',
        ),
        ("POST", "/calls", b"{", 400, "INVALID_JSON_BODY", "The request body is not valid JSON."),
        ("POST", "/calls", b'{"destinations": "x"}', 400, "INVALID_JSON_BODY", "The request body is not valid JSON."),
        (
            "POST",
            "/calls",
            b'{"destinations":[{"type":"extension","target_name":"quickstart-phone"}],"actions":[{"type":"dance"}]}',
            400,
            "INVALID_ACTION_TYPE",
            "not supported action type: dance",
        ),
        (
            "POST",
            "/calls",
            b'{"destinations":[{"type":"extension","target_name":"Extension 2000"}]}',
            500,
            "INTERNAL",
            "An internal error occurred.",
        ),
        (
            "POST",
            "/calls",
            b'{"destinations":[{"type":"email","target":"a@b.c"}]}',
            500,
            "INTERNAL",
            "An internal error occurred.",
        ),
        (
            "POST",
            "/calls",
            json.dumps(
                {"destinations": [{"type": "sip", "target": "a@b"}], "variables": {str(i): "v" for i in range(101)}}
            ).encode(),
            400,
            "INVALID_VARIABLES",
            "too many variables (max 100)",
        ),
        ("POST", "/speakings", b"", 400, "INVALID_JSON_BODY", "The request body is not valid JSON."),
        (
            "POST",
            "/speakings",
            b'{"reference_type":"conference","reference_id":"x"}',
            400,
            "INVALID_ARGUMENT",
            "The provided reference_type is not valid.",
        ),
        (
            "POST",
            "/speakings",
            b'{"reference_type":"call","reference_id":"x"}',
            400,
            "INVALID_ARGUMENT",
            "The provided reference_id is not a valid UUID.",
        ),
        (
            "POST",
            "/speakings",
            b'{"reference_type":"call","reference_id":"3f1e0a6e-0000-4000-8000-000000000001","direction":"sideways"}',
            400,
            "INVALID_ARGUMENT",
            "The provided direction is not valid.",
        ),
        (
            "POST",
            "/speakings",
            b'{"reference_type":"call","reference_id":"3f1e0a6e-0000-4000-8000-000000000001"}',
            500,
            "INTERNAL",
            "An internal error occurred.",
        ),
        (
            "POST",
            "/transcribes",
            b'{"reference_type":"nope","reference_id":"x","language":"en-US"}',
            400,
            "INVALID_ARGUMENT",
            "The request is invalid.",
        ),
        (
            "POST",
            "/transcribes",
            b'{"reference_type":"call","reference_id":"3f1e0a6e-0000-4000-8000-000000000001"}',
            404,
            "CALL_NOT_FOUND",
            "The call was not found.",
        ),
    ],
)
async def test_error_envelopes(
    api: httpx.AsyncClient, method: str, path: str, body: bytes | None, status: int, reason: str, message: str
) -> None:
    response = await api.request(method, path, content=body)
    assert response.status_code == status, response.text
    # gin writes INVALID_JSON_BODY's envelope after a text/plain header (NOTES §F7).
    expected_type = "text/plain" if reason == "INVALID_JSON_BODY" else "application/json"
    assert response.headers["content-type"] == f"{expected_type}; charset=utf-8"
    error = response.json()["error"]
    assert set(error) == {"status", "reason", "message", "request_id"}
    assert (error["reason"], error["message"]) == (reason, message)
    expected_status = {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 500: "INTERNAL"}[status]
    assert error["status"] == expected_status


async def test_auth_runs_before_parameter_binding(sandbox: EmbeddedSandbox) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(sandbox.api_url + "/calls", params={"page_size": "abc"})
    assert response.status_code == 401


async def test_tel_destinations_need_an_owned_number(api: httpx.AsyncClient) -> None:
    foreign = await api.post(
        "/calls",
        json={
            "source": {"type": "tel", "target": "+19998887777"},
            "destinations": [{"type": "tel", "target": "+821012345678"}],
        },
    )
    assert foreign.status_code == 500
    owned = await api.post(
        "/calls",
        json={
            "source": {"type": "tel", "target": "+15557654321"},
            "destinations": [{"type": "tel", "target": "+821012345678"}],
        },
    )
    assert owned.status_code == 200
    assert owned.json()["calls"][0]["status"] == "dialing"
    assert owned.json()["groupcalls"] == []


async def test_tel_needs_identity_verification(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(identity_verified=False)
    async with httpx.AsyncClient(base_url=sandbox.api_url, params={"accesskey": sandbox.accesskey}) as api:
        response = await api.post(
            "/calls",
            json={
                "source": {"type": "tel", "target": "+15551234567"},
                "destinations": [{"type": "tel", "target": "+821012345678"}],
            },
        )
        customer = (await api.get("/customer")).json()
    assert response.status_code == 403
    assert response.json()["error"]["reason"] == "IDENTITY_VERIFICATION_REQUIRED"
    assert customer["identity_verification_status"] == "none"


# --- pagination --------------------------------------------------------------------------------


async def test_pagination_rules(api: httpx.AsyncClient) -> None:
    for _ in range(5):
        await api.post("/calls", json={"destinations": [{"type": "sip", "target": "bob@example.com"}]})
    everything = (await api.get("/calls")).json()
    assert len(everything["result"]) == 5
    created = [c["tm_create"] for c in everything["result"]]
    assert created == sorted(created, reverse=True), "newest first"

    first = (await api.get("/calls", params={"page_size": 2})).json()
    assert len(first["result"]) == 2
    assert TOKEN_TIME.match(first["next_page_token"])
    second = (await api.get("/calls", params={"page_size": 2, "page_token": first["next_page_token"]})).json()
    third = (await api.get("/calls", params={"page_size": 2, "page_token": second["next_page_token"]})).json()
    # A short last page still carries a token; the next page is empty with an empty token.
    assert len(third["result"]) == 1
    assert third["next_page_token"]
    fourth = (await api.get("/calls", params={"page_size": 2, "page_token": third["next_page_token"]})).json()
    assert fourth == {"result": [], "next_page_token": ""}
    ids = [c["id"] for page in (first, second, third) for c in page["result"]]
    assert ids == [c["id"] for c in everything["result"]]

    for size in ("0", "-3", "101", "1000"):
        page = (await api.get("/calls", params={"page_size": size})).json()
        assert len(page["result"]) == 5, size
    assert (await api.get("/calls", params={"page_size": "2.5"})).status_code == 400
    assert (await api.get("/speakings")).json() == {"result": [], "next_page_token": ""}


async def test_transcripts_ignore_paging(
    api: httpx.AsyncClient, control: httpx.AsyncClient, open_events: Any, sandbox: EmbeddedSandbox
) -> None:
    log = await open_events(f"customer_id:{sandbox.customer_id}:transcript:transcript_")
    _, _call_id = await place_seed_call(api)
    await log.wait_for(lambda f: f["direction"] == "in")
    transcribe_id = log.payloads[0]["transcribe_id"]
    full = (await api.get("/transcripts", params={"transcribe_id": transcribe_id})).json()
    paged = (await api.get("/transcripts", params={"transcribe_id": transcribe_id, "page_size": 1})).json()
    after = (
        await api.get("/transcripts", params={"transcribe_id": transcribe_id, "page_token": full["next_page_token"]})
    ).json()
    assert len(full["result"]) >= 2
    assert paged["result"] == full["result"]
    assert after["result"] == full["result"]
    assert full["next_page_token"]


# --- JSON encoding -------------------------------------------------------------------------------


async def test_null_and_absent_rules(api: httpx.AsyncClient, sandbox: EmbeddedSandbox, open_events: Any) -> None:
    log = await open_events(f"customer_id:{sandbox.customer_id}")
    groupcall, call_id = await place_seed_call(api)
    # groupcall: unset times absent, zero UUIDs present, empty slices absent.
    assert "tm_update" not in groupcall
    assert "tm_delete" not in groupcall
    assert groupcall["answer_call_id"] == ZERO
    assert groupcall["owner_type"] == ""
    assert "groupcall_ids" not in groupcall
    assert "dial_index" not in groupcall

    dialing = await wait_call_status(api, call_id, ("dialing", "ringing"))
    assert dialing["action"] == {"id": "00000000-0000-0000-0000-000000000001", "next_id": ZERO, "tm_execute": None}
    for absent in (
        "tm_progressing",
        "tm_hangup",
        "tm_delete",
        "hangup_by",
        "hangup_reason",
        "mute_direction",
        "chained_call_ids",
        "recording_ids",
        "metadata",
    ):
        assert absent not in dialing, absent
    assert dialing["groupcall_id"] == ZERO
    assert dialing["master_call_id"] == ZERO
    assert "target_name" not in dialing["source"]

    await log.wait_for(lambda f: f.get("reference_type") == "call")
    transcribe = next(f for f in log.payloads if f.get("reference_type") == "call")
    assert transcribe["tm_update"] is None
    assert transcribe["tm_delete"] is None
    assert transcribe["provider"] == ""
    assert transcribe["on_end_flow_id"] == ZERO
    # The 2-segment subscription sees every event twice; look at distinct events.
    await log.wait_for(lambda f: "streaming_id" in f, count=4)
    speech = list({f["id"]: f for f in log.payloads if "streaming_id" in f}.values())
    assert "message" not in speech[0]
    assert speech[1]["message"]

    customer = (await api.get("/customer")).json()
    assert customer["tm_update"] is None
    assert customer["tm_deletion_scheduled"] is None
    assert "detail" not in customer
    number = (await api.get("/numbers")).json()["result"][0]
    assert number["tm_update"] is None
    assert number["name"] == ""
    assert number["call_flow_id"] == ZERO
    extension = (await api.get("/extensions")).json()["result"][0]
    assert extension["tm_update"] is None
    assert extension["domain_name"] == sandbox.customer_id

    speaking = (await api.post("/speakings", json={"reference_type": "call", "reference_id": call_id})).json()
    assert "direction" not in speaking
    assert "language" not in speaking
    assert speaking["provider"] == "elevenlabs"

    for frame in log.payloads:
        for key, value in frame.items():
            if key.startswith("tm_") and isinstance(value, str):
                assert GO_TIME.match(value), (key, value)


async def test_go_json_escaping(api: httpx.AsyncClient, open_events: Any, sandbox: EmbeddedSandbox) -> None:
    response = await api.post(
        "/calls", json={"destinations": [{"type": "sip", "target": "a<b>&c@example.com", "name": "한국어"}]}
    )
    assert "\\u003c" in response.text
    assert "\\u0026" in response.text
    assert "한국어" in response.text


async def test_accesskey_from_settings(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(accesskey="vb_fixed-key")
    assert sandbox.accesskey == "vb_fixed-key"
    assert (await login(sandbox)).startswith("eyJ")
