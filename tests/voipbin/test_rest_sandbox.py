"""VoipbinClient against the real sandbox over loopback HTTP: every endpoint, auth, errors, secrets."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.voipbin.conftest import Control, Recorder, SandboxFactory, eventually
from tui.voipbin.errors import (
    AuthError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    ServerError,
    TransportError,
)
from tui.voipbin.models import Address, Call, Groupcall, Transcribe, sleep_action, talk_action, transcribe_start_action
from tui.voipbin.rest import VoipbinClient

if TYPE_CHECKING:
    from tui.sandbox import EmbeddedSandbox

SOURCE = Address.tel("+15551234567")
GREETING = "Hello. This is the VoIPBIN real-time voice interaction test."


def seed_actions() -> list[dict[str, object]]:
    return [transcribe_start_action("en-US"), talk_action(GREETING, language="en-US"), sleep_action(600000)]


async def test_urls_are_derived_from_the_api_url(sandbox: EmbeddedSandbox, client: VoipbinClient) -> None:
    assert client.api_url == sandbox.api_url
    assert client.login_url == sandbox.root_url + "/auth/login"
    assert client.ws_url == sandbox.ws_url
    assert client.credential_kind == "accesskey"
    assert client.token_expiry is None


async def test_customer_numbers_extensions(sandbox: EmbeddedSandbox, client: VoipbinClient, recorder: Recorder) -> None:
    customer = await client.get_customer()
    assert customer.id == sandbox.customer_id
    assert await client.get_customer_id() == sandbox.customer_id

    numbers = await client.all_numbers()
    assert {n.number for n in numbers} >= {"+15551234567", "+15557654321"}
    assert all(n.usable_as_tel_source for n in numbers)

    first = await client.list_numbers(page_size=1)
    assert len(first.result) == 1
    assert first.next_page_token
    second = await client.list_numbers(page_size=1, page_token=first.next_page_token)
    assert len(second.result) == 1
    assert second.result[0].id != first.result[0].id

    extensions = await client.all_extensions()
    by_ext = {e.extension: e for e in extensions}
    assert by_ext["quickstart-phone"].name == "quickstart-phone"
    assert by_ext["2000"].name == "Extension 2000"
    assert by_ext["2000"].password is not None  # a SecretStr, never printed
    assert by_ext["2000"].password.get_secret_value() not in repr(by_ext["2000"])

    # credentials went as ?accesskey= and every response carried a request id
    assert recorder.records
    for record in recorder.records:
        assert "accesskey=***" in record.url
        assert sandbox.accesskey not in record.url
        assert record.request_id
        assert record.status == 200


async def test_extension_call_full_rest_flow(sandbox: EmbeddedSandbox, client: VoipbinClient) -> None:
    created = await client.create_call(SOURCE, [Address.extension("quickstart-phone")], actions=seed_actions())
    assert created.calls == []
    assert len(created.groupcalls) == 1
    groupcall = created.groupcalls[0]
    assert groupcall.status == "progressing"
    assert len(groupcall.call_ids) == 1
    leg_id = groupcall.call_ids[0]
    assert created.call_ids == [leg_id]

    gc = await client.get_groupcall(groupcall.id)
    assert gc.id == groupcall.id

    async def answered() -> Call | None:
        call = await client.get_call(leg_id)
        return call if call.status == "progressing" else None

    call = await eventually(answered, what="the leg to be answered")
    assert call.destination is not None
    assert call.destination.target_name == "quickstart-phone"
    assert call.tm_progressing is not None

    gc = await eventually(lambda: _answered_groupcall(client, groupcall.id, leg_id), what="groupcall answer_call_id")
    assert gc.answered_call_id == leg_id

    calls = await client.list_calls()
    assert leg_id in {c.id for c in calls.result}

    # the transcribe started by the transcribe_start action
    transcribes = await eventually(lambda: _transcribes_of(client, leg_id), what="the transcribe of the call")
    transcribe = transcribes[0]
    assert transcribe.status == "progressing"
    assert (await client.get_transcribe(transcribe.id)).reference_id == leg_id

    # the greeting shows up as out transcripts; list_transcripts is one request, no paging loop
    transcripts = await eventually(
        lambda: client.list_transcripts(transcribe.id), timeout=8.0, what="greeting transcripts"
    )
    assert {t.direction for t in transcripts} >= {"out"}
    assert all(t.transcribe_id == transcribe.id for t in transcripts)

    # a second en-US transcribe on the same call is refused; another language works
    with pytest.raises(ConflictError) as dup:
        await client.create_transcribe(leg_id, language="en-US")
    assert dup.value.reason == "TRANSCRIBE_ALREADY_PROGRESSING"
    assert "already running" in (dup.value.hint() or "")
    extra = await client.create_transcribe(leg_id, language="ko-KR", direction="in")
    assert extra.status == "progressing"
    stopped = await client.stop_transcribe(extra.id)
    assert stopped.status == "done"
    deleted_tr = await client.delete_transcribe(extra.id)
    assert deleted_tr.tm_delete is not None

    # speaking: create, list, get, say, flush, stop, say-after-stop, delete
    speaking = await client.create_speaking(leg_id, language="en-US", provider="elevenlabs", direction="out")
    assert speaking.status == "active"
    assert speaking.reference_id == leg_id
    listed = await client.list_speakings()
    assert speaking.id in {s.id for s in listed.result}
    assert (await client.get_speaking(speaking.id)).direction == "out"
    said = await client.say(speaking.id, "Hello, how are you today?")
    assert said.id == speaking.id
    flushed = await client.flush(speaking.id)
    assert flushed.status == "active"
    with pytest.raises(ServerError):
        await client.create_speaking(leg_id, direction="out")  # one non-stopped speaking per call: 500
    stopped_sp = await client.stop_speaking(speaking.id)
    assert stopped_sp.status == "stopped"
    with pytest.raises(NotFoundError) as gone:
        await client.say(speaking.id, "too late")
    assert "no longer active" in (gone.value.hint() or "")
    deleted_sp = await client.delete_speaking(speaking.id)
    assert deleted_sp.tm_delete is not None

    # hang up: the response is the intermediate state, then the final hangup
    hung = await client.hangup_call(leg_id)
    assert hung.status in ("terminating", "hangup")

    async def final() -> Call | None:
        c = await client.get_call(leg_id)
        return c if c.status == "hangup" else None

    done = await eventually(final, what="hangup")
    assert done.hangup_by == "local"
    assert done.tm_hangup is not None

    deleted = await client.delete_call(leg_id)
    assert deleted.tm_delete is not None
    with pytest.raises(ConflictError) as state:
        await client.get_call(leg_id)
    assert state.value.reason == "STATE_INVALID"
    assert leg_id not in {c.id for c in (await client.list_calls()).result}


async def _answered_groupcall(client: VoipbinClient, groupcall_id: str, leg_id: str) -> Groupcall | None:
    gc = await client.get_groupcall(groupcall_id)
    return gc if gc.answered_call_id == leg_id else None


async def _transcribes_of(client: VoipbinClient, call_id: str) -> list[Transcribe]:
    page = await client.list_transcribes(reference_type="call", reference_id=call_id)
    return page.result


async def test_tel_call_is_canceled_by_hangup(sandbox_factory: SandboxFactory) -> None:
    async with sandbox_factory(answer_mode="manual") as sb, VoipbinClient(sb.api_url, accesskey=sb.accesskey) as client:
        created = await client.create_call(SOURCE, [Address.tel("+15557654321")], actions=[sleep_action(1000)])
        assert created.groupcalls == []
        assert len(created.calls) == 1
        call = created.calls[0]
        assert call.status == "dialing"
        assert call.direction == "outgoing"
        hung = await client.hangup_call(call.id)
        assert hung.status in ("canceling", "hangup")

        async def final() -> Call | None:
            c = await client.get_call(call.id)
            return c if c.status == "hangup" else None

        done = await eventually(final, what="cancel to finish")
        assert done.hangup_reason == "cancel"
        assert done.hangup_by == "local"


async def test_error_envelopes_from_the_server(client: VoipbinClient) -> None:
    with pytest.raises(NotFoundError) as nf:
        await client.get_call(str(uuid.uuid4()))
    assert nf.value.reason == "CALL_NOT_FOUND"
    assert nf.value.request_id
    assert nf.value.request_id in str(nf.value)

    with pytest.raises(BadRequestError) as bad:
        await client.get_call("not-a-uuid")
    assert bad.value.reason == "INVALID_ID"

    with pytest.raises(BadRequestError) as flt:
        await client.list_transcribes(reference_type="call")
    assert flt.value.reason == "INVALID_REFERENCE_FILTER"

    with pytest.raises(BadRequestError) as missing:
        await client.say(str(uuid.uuid4()), "")
    assert missing.value.http_status == 400

    with pytest.raises(ServerError) as unreg:
        await client.create_call(SOURCE, [Address.extension("no-such-phone")], actions=seed_actions())
    assert unreg.value.http_status == 500
    assert "extension" in (unreg.value.hint() or "")


async def test_login_gives_a_jwt_and_no_cookie_jar(sandbox: EmbeddedSandbox, recorder: Recorder) -> None:
    async with VoipbinClient(
        sandbox.api_url, username=sandbox.username, password=sandbox.password, on_request=recorder
    ) as client:
        assert client.credential_kind == "password"
        assert client.credentials.needs_login  # not logged in yet: login is lazy
        customer = await client.get_customer()
        assert customer.id == sandbox.customer_id
        assert [p[:2] for p in recorder.paths()] == [("POST", "/auth/login"), ("GET", "/v1.0/customer")]
        assert client.credentials.kind == "token"
        expiry = client.token_expiry
        assert expiry is not None
        assert timedelta(days=6) < expiry - datetime.now(UTC) <= timedelta(days=7, minutes=1)
        assert client.credentials.customer_id == sandbox.customer_id
        assert len(client._http.cookies.jar) == 0  # the login cookie was refused
        token = await client.login()
        assert token.startswith("eyJ")
        assert (await client.get_customer_id()) == sandbox.customer_id


async def test_relogin_once_after_401_and_continue(
    sandbox: EmbeddedSandbox, control: Control, recorder: Recorder
) -> None:
    async with VoipbinClient(
        sandbox.api_url, username=sandbox.username, password=sandbox.password, on_request=recorder
    ) as client:
        await client.get_customer()
        first_token = client.credentials.get_token()
        await control.faults(expire_tokens=True)
        recorder.records.clear()
        numbers = await client.all_numbers()  # 401 → login → repeated once → 200
        assert numbers
        assert [p for p in recorder.paths()] == [
            ("GET", "/v1.0/numbers", 401),
            ("POST", "/auth/login", 200),
            ("GET", "/v1.0/numbers", 200),
        ]
        assert client.credentials.get_token() != first_token
        # and the work continues with the new token
        assert (await client.get_customer()).id == sandbox.customer_id


async def test_concurrent_401s_trigger_one_login(
    sandbox: EmbeddedSandbox, control: Control, recorder: Recorder
) -> None:
    async with VoipbinClient(
        sandbox.api_url, username=sandbox.username, password=sandbox.password, on_request=recorder
    ) as client:
        await client.get_customer()
        await control.faults(expire_tokens=True)
        recorder.records.clear()
        results = await asyncio.gather(client.get_customer(), client.list_numbers(), client.list_extensions())
        assert results[0].id == sandbox.customer_id
        logins = [p for p in recorder.paths() if p[1] == "/auth/login"]
        assert logins == [("POST", "/auth/login", 200)]


async def test_expired_plain_token_gives_one_clear_error(
    sandbox: EmbeddedSandbox, control: Control, recorder: Recorder
) -> None:
    async with VoipbinClient(sandbox.api_url, username=sandbox.username, password=sandbox.password) as login_client:
        token = await login_client.login()
    async with VoipbinClient(sandbox.api_url, token=token, on_request=recorder) as client:
        assert client.credential_kind == "token"
        assert client.token_expiry is not None
        await client.get_customer()
        await control.faults(expire_tokens=True)
        recorder.records.clear()
        with pytest.raises(AuthError) as info:
            await client.get_customer()
        assert len(recorder.records) == 1  # no retry, no login attempt
        text = str(info.value)
        assert "401" in text
        assert "log in again" in text
        assert token not in text
        assert token not in repr(info.value)


async def test_wrong_accesskey_gives_one_clear_error(sandbox: EmbeddedSandbox, recorder: Recorder) -> None:
    wrong = "vb_THISisNOTtheRIGHTkey42"
    async with VoipbinClient(sandbox.api_url, accesskey=wrong, on_request=recorder) as client:
        with pytest.raises(AuthError) as info:
            await client.get_customer()
    err = info.value
    assert err.http_status == 401
    assert err.reason == "INVALID_CREDENTIALS"
    assert err.request_id
    assert len(recorder.records) == 1
    text = str(err)
    assert "check the accesskey" in text
    assert wrong not in text
    assert wrong not in repr(err)
    assert wrong not in err.url
    assert "accesskey" in (err.hint() or "")


async def test_wrong_password_login_400_empty_body(sandbox: EmbeddedSandbox, recorder: Recorder) -> None:
    async with VoipbinClient(
        sandbox.api_url, username=sandbox.username, password="wrong-password-123", on_request=recorder
    ) as client:
        with pytest.raises(AuthError) as info:
            await client.get_customer()
    err = info.value
    assert err.http_status == 400
    assert "username/password were rejected" in str(err)
    assert "wrong-password-123" not in str(err)
    assert err.credential_kind == "login"
    assert "username and password" in (err.hint() or "")
    assert [p[:2] for p in recorder.paths()] == [("POST", "/auth/login")]


async def test_http_error_fault_retries_gets_but_never_post_calls(
    sandbox: EmbeddedSandbox, control: Control, recorder: Recorder
) -> None:
    async with VoipbinClient(
        sandbox.api_url, accesskey=sandbox.accesskey, on_request=recorder, retry_base_delay=0.01
    ) as client:
        await control.faults(http_error_rate=1.0)
        with pytest.raises(ServerError) as get_err:
            await client.get_customer()
        assert get_err.value.http_status == 503
        assert get_err.value.reason == "REQUEST_TIMEOUT"
        assert [r.attempt for r in recorder.records] == [1, 2, 3]
        recorder.records.clear()
        with pytest.raises(ServerError):
            await client.create_call(SOURCE, [Address.extension("quickstart-phone")], actions=seed_actions())
        assert len(recorder.records) == 1
        recorder.records.clear()
        with pytest.raises(ServerError):
            await client.say(str(uuid.uuid4()), "hello")
        assert len(recorder.records) == 1
        await control.faults(reset=True)
        assert (await client.get_customer()).id == sandbox.customer_id


async def test_timeouts_against_a_slow_server(sandbox: EmbeddedSandbox, control: Control, recorder: Recorder) -> None:
    await control.faults(latency_ms=400)
    async with VoipbinClient(
        sandbox.api_url, accesskey=sandbox.accesskey, timeout=0.1, on_request=recorder, retry_base_delay=0.01
    ) as client:
        with pytest.raises(TransportError) as get_err:
            await client.get_customer()
        assert len(recorder.records) == 3  # GET retried on timeouts
        assert "Timeout" in str(get_err.value)
        recorder.records.clear()
        with pytest.raises(TransportError):
            await client.create_call(SOURCE, [Address.extension("2000")], actions=seed_actions())
        assert len(recorder.records) == 1  # POST /calls never retried
    await control.faults(reset=True)


async def test_no_secret_in_logs_records_or_errors(
    sandbox: EmbeddedSandbox, control: Control, caplog: pytest.LogCaptureFixture
) -> None:
    records: Recorder = Recorder()
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    async with VoipbinClient(sandbox.api_url, accesskey=sandbox.accesskey, on_request=records) as client:
        await client.get_customer()
        await client.all_extensions()
        try:
            await client.get_call(str(uuid.uuid4()))
        except NotFoundError as exc:
            errors.append(str(exc) + repr(exc))
    async with VoipbinClient(
        sandbox.api_url, username=sandbox.username, password=sandbox.password, on_request=records
    ) as client:
        await client.get_customer()
        token = client.credentials.get_token()
        assert token is not None
        await control.faults(expire_tokens=True)
        await client.get_customer()  # re-login
        new_token = client.credentials.get_token()
    async with VoipbinClient(sandbox.api_url, token=token, on_request=records) as stale:
        try:
            await stale.get_customer()
        except AuthError as exc:
            errors.append(str(exc) + repr(exc))
    await control.faults(reset=True)

    assert new_token is not None
    secrets: list[str] = [sandbox.accesskey, sandbox.password, token, new_token]
    texts = [r.getMessage() for r in caplog.records if not r.name.startswith(("tui.sandbox", "uvicorn"))]
    texts += [repr(r) for r in records.records] + [r.summary() for r in records.records] + errors
    assert any("HTTP Request" in t for t in texts)  # httpx really logged the URLs…
    assert any("accesskey=***" in t for t in texts)  # …redacted at the source
    assert all(secrets)
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret leaked into: {text[:200]}"
