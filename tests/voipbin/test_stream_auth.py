"""The event stream's answer to a refused handshake: log in again, keep trying, or give up.

Unit tests of ``EventStream._after_unauthorized`` with a scripted credential source; the whole loop
against a real server that refuses and then accepts is in tests/hostile/test_raw_stream.py and
tests/voipbin/test_stream_sandbox.py.
"""

from __future__ import annotations

import pytest

from tui.voipbin.credentials import Credentials
from tui.voipbin.errors import AuthError, TransportError
from tui.voipbin.stream import EventStream
from tui.voipbin.stream_attempt import Outcome, RunState

TOKEN_SOURCE_ERROR = "WebSocket handshake refused: GET /v1.0/ws failed (401): the token was rejected"


class Source:
    """A credential source whose re-login answers from a script."""

    def __init__(self, *answers: Credentials | Exception | None) -> None:
        self.answers = list(answers)
        self.refreshes = 0

    async def ws_credentials(self) -> Credentials:
        return Credentials(token="t")

    async def refresh_credentials(self) -> Credentials | None:
        self.refreshes += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def stream(source: Source | Credentials, keep_trying: bool = False) -> EventStream:
    return EventStream("ws://127.0.0.1:9/v1.0/ws", source, [], keep_trying=lambda: keep_trying)


def refused(relogin: bool) -> Outcome:
    return Outcome("unauthorized", error=TOKEN_SOURCE_ERROR, relogin=relogin)


async def test_a_password_account_logs_in_again_and_retries_at_once() -> None:
    source = Source(Credentials(username="u", password="p", token="fresh"))
    run = RunState()
    outcome = await stream(source)._after_unauthorized(refused(relogin=True), run)
    assert outcome.kind == "again"
    assert source.refreshes == 1
    assert run.relogged


async def test_a_second_refusal_right_after_a_login_backs_off_instead_of_looping() -> None:
    source = Source()
    run = RunState(relogged=True, had_connection=True)
    outcome = await stream(source)._after_unauthorized(refused(relogin=True), run)
    assert (outcome.kind, outcome.unauthorized) == ("retry", True)
    assert source.refreshes == 0
    # The attempt after the backoff may log in again.
    assert not run.relogged


async def test_a_rejected_login_while_the_call_is_live_keeps_trying() -> None:
    source = Source(AuthError("the username/password were rejected", credential_kind="login"))
    outcome = await stream(source, keep_trying=True)._after_unauthorized(refused(relogin=True), RunState())
    assert (outcome.kind, outcome.unauthorized) == ("retry", True)
    assert "rejected" in outcome.error


async def test_a_rejected_login_with_nothing_live_and_no_earlier_connection_is_fatal() -> None:
    source = Source(AuthError("the username/password were rejected", credential_kind="login"))
    outcome = await stream(source)._after_unauthorized(refused(relogin=True), RunState())
    assert outcome.kind == "fatal"
    assert "rejected" in outcome.error


async def test_a_login_that_cannot_reach_the_server_is_an_ordinary_retry() -> None:
    source = Source(TransportError("no response: ConnectError"))
    outcome = await stream(source)._after_unauthorized(refused(relogin=True), RunState())
    assert (outcome.kind, outcome.unauthorized) == ("retry", False)


async def test_a_source_without_a_password_falls_through_to_the_keep_trying_rule() -> None:
    source = Source(None)
    outcome = await stream(source, keep_trying=True)._after_unauthorized(refused(relogin=True), RunState())
    assert (outcome.kind, outcome.unauthorized) == ("retry", True)
    assert source.refreshes == 1


@pytest.mark.parametrize(
    ("had_connection", "keep_trying", "expected"),
    [(False, False, "fatal"), (True, False, "retry"), (False, True, "retry"), (True, True, "retry")],
)
async def test_an_accesskey_is_retried_once_it_has_worked_or_while_a_call_is_live(
    had_connection: bool, keep_trying: bool, expected: str
) -> None:
    creds = Credentials(accesskey="vb_KEY0123456789abcdef")
    run = RunState(had_connection=had_connection)
    outcome = await stream(creds, keep_trying)._after_unauthorized(refused(relogin=False), run)
    assert outcome.kind == expected
    assert outcome.error == TOKEN_SOURCE_ERROR
    if expected == "retry":
        assert outcome.unauthorized
