from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from tests.voipbin import samples
from tui.voipbin.credentials import (
    Credentials,
    customer_id_from_token,
    is_jwt,
    jwt_payload,
    token_expiry,
)

ACCESSKEY = "vb_TESTaccesskey0123456789"


def test_accesskey_goes_in_query() -> None:
    creds = Credentials(accesskey=ACCESSKEY)
    assert creds.kind == "accesskey"
    assert creds.query_params() == {"accesskey": ACCESSKEY}
    assert creds.headers() == {}
    assert creds.token_expiry is None
    assert creds.apply_to_url("wss://h/v1.0/ws") == f"wss://h/v1.0/ws?accesskey={ACCESSKEY}"
    assert creds.apply_to_url("wss://h/v1.0/ws?a=1") == f"wss://h/v1.0/ws?a=1&accesskey={ACCESSKEY}"


def test_non_jwt_accesskey_without_prefix_still_query() -> None:
    creds = Credentials(accesskey="plainkey-without-prefix")
    assert creds.kind == "accesskey"
    assert creds.query_params() == {"accesskey": "plainkey-without-prefix"}


def test_jwt_goes_in_bearer_header() -> None:
    jwt = samples.voipbin_jwt()
    creds = Credentials(token=jwt)
    assert creds.kind == "token"
    assert creds.headers() == {"Authorization": f"Bearer {jwt}"}
    assert creds.query_params() == {}
    assert creds.apply_to_url("wss://h/v1.0/ws") == "wss://h/v1.0/ws"


def test_jwt_given_as_accesskey_is_used_as_token() -> None:
    jwt = samples.voipbin_jwt()
    creds = Credentials(accesskey=jwt)
    assert creds.kind == "token"
    assert creds.headers()["Authorization"] == f"Bearer {jwt}"


def test_username_password() -> None:
    creds = Credentials(username="admin@localhost", password="admin@localhost")
    assert creds.kind == "password"
    assert creds.needs_login
    assert creds.can_login
    assert creds.query_params() == {}
    assert creds.headers() == {}
    logged = creds.with_token(samples.voipbin_jwt())
    assert logged.kind == "token"
    assert logged.can_login
    assert not logged.needs_login
    assert logged.failure_kind == "password"
    assert logged.without_token().needs_login


def test_precedence_token_over_accesskey() -> None:
    creds = Credentials(accesskey=ACCESSKEY, token=samples.voipbin_jwt())
    assert creds.kind == "token"
    assert creds.query_params() == {}


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"accesskey": ""},
        {"accesskey": "   "},
        {"username": "u"},
        {"password": "p"},
    ],
)
def test_invalid_combinations(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Credentials(**kwargs)


def test_no_secret_in_repr_or_str() -> None:
    jwt = samples.voipbin_jwt()
    creds = Credentials(accesskey=ACCESSKEY, token=jwt, username="admin@localhost", password="pw-secret-1")
    for text in (repr(creds), str(creds), f"{creds}"):
        assert ACCESSKEY not in text
        assert jwt not in text
        assert "pw-secret-1" not in text
        assert "***" in text
    assert set(creds.secrets()) == {ACCESSKEY, jwt, "pw-secret-1"}


def test_immutable() -> None:
    creds = Credentials(accesskey=ACCESSKEY)
    with pytest.raises(AttributeError):
        creds._token = None
    with pytest.raises(AttributeError):
        del creds._accesskey


def test_secretstr_input_accepted() -> None:
    creds = Credentials(accesskey=SecretStr(ACCESSKEY))
    assert creds.get_accesskey() == ACCESSKEY


def test_jwt_helpers() -> None:
    jwt = samples.voipbin_jwt(expire="2026-03-01T10:00:00.000000Z")
    assert is_jwt(jwt)
    assert not is_jwt(ACCESSKEY)
    assert not is_jwt("a.b.c")
    assert not is_jwt(None)
    payload = jwt_payload(jwt)
    assert payload["type"] == "agent"
    assert token_expiry(jwt) == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert customer_id_from_token(jwt) == samples.CUSTOMER_ID
    assert Credentials(token=jwt).customer_id == samples.CUSTOMER_ID


def test_standard_exp_claim() -> None:
    jwt = samples.make_jwt({"exp": 1_900_000_000})
    assert token_expiry(jwt) == datetime.fromtimestamp(1_900_000_000, UTC)
    assert customer_id_from_token(jwt) is None


@pytest.mark.parametrize("junk", ["", "x", "a.b", "a.!!!.c", "eyJ.eyJ.x", "a." * 5, "a.W10.c"])
def test_jwt_helpers_on_junk(junk: str) -> None:
    assert jwt_payload(junk) == {}
    assert token_expiry(junk) is None
    assert customer_id_from_token(junk) is None


def test_is_expired() -> None:
    past = samples.voipbin_jwt(expire="2020-01-01T00:00:00.000000Z")
    future = samples.voipbin_jwt()
    assert Credentials(token=past).is_expired()
    assert not Credentials(token=future).is_expired()
    soon = (datetime.now(UTC) + timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert Credentials(token=samples.voipbin_jwt(expire=soon)).is_expired(leeway=30)
    assert not Credentials(accesskey=ACCESSKEY).is_expired()


def test_username_equal_to_password_is_hidden_too() -> None:
    creds = Credentials(username="admin@localhost", password="admin@localhost")
    assert "admin@localhost" not in repr(creds)
