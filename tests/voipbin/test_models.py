from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr, ValidationError

from tests.voipbin import samples
from tui.voipbin.models import (
    CALL_STATUS_RANK,
    Action,
    Address,
    Call,
    CallCreateResult,
    Customer,
    ErrorEnvelope,
    Extension,
    Groupcall,
    Number,
    Page,
    Speaking,
    SpeechEvent,
    Transcribe,
    Transcript,
    call_status_rank,
    hangup_action,
    is_nil,
    prepare_models,
    sleep_action,
    talk_action,
    transcribe_start_action,
)


def test_call_real_server_shape() -> None:
    call = Call.model_validate(samples.call("dialing"))
    assert call.id == samples.CALL_ID
    assert call.status == "dialing"
    assert call.direction == "outgoing"
    assert call.source == Address(type="tel", target="+15551234567")
    assert call.destination is not None
    assert call.destination.target_name == "quickstart1"
    assert call.action is not None
    assert call.action.tm_execute is None
    assert call.action_type == ""
    assert call.tm_create == datetime(2026, 2, 21, 10, 5, 0, 183311, tzinfo=UTC)
    # absent times (omitempty) → None
    assert call.tm_update is None
    assert call.tm_hangup is None
    assert call.tm_delete is None
    assert is_nil(call.groupcall_id)
    assert is_nil(call.owner_id)
    assert call.chained_call_ids == []
    assert call.rank == 0
    assert not call.is_hungup
    assert not call.is_deleted


def test_call_after_answer_and_hangup() -> None:
    progressing = Call.model_validate(
        samples.call(
            "progressing",
            action={
                "id": "a",
                "next_id": "b",
                "type": "talk",
                "option": {"text": "Hello", "language": "en-US"},
                "tm_execute": "2026-02-21T10:05:02.5Z",
            },
        )
    )
    assert progressing.action_type == "talk"
    assert progressing.action is not None
    assert progressing.action.option == {"text": "Hello", "language": "en-US"}
    assert progressing.tm_progressing == datetime(2026, 2, 21, 10, 5, 2, tzinfo=UTC)
    hung = Call.model_validate(samples.call("hangup"))
    assert hung.is_hungup
    assert hung.hangup_by == "remote"
    assert hung.hangup_reason == "normal"
    assert hung.rank == 4


def test_unknown_fields_and_enum_values_are_kept() -> None:
    call = Call.model_validate(samples.call("early_media", brand_new_field={"x": 1}, hangup_reason="weird"))
    assert call.status == "early_media"
    assert call.rank == -1
    assert call.hangup_reason == "weird"
    assert call.model_extra == {"brand_new_field": {"x": 1}}
    assert call.model_dump()["brand_new_field"] == {"x": 1}


def test_nulls_and_absent_fields() -> None:
    call = Call.model_validate(
        {"id": None, "status": None, "chained_call_ids": None, "source": None, "tm_create": None}
    )
    assert call.id == ""
    assert call.status == ""
    assert call.chained_call_ids == []
    assert call.source is None
    assert call.tm_create is None
    empty = Call.model_validate({})
    assert empty.id == ""
    assert empty.metadata is None


@pytest.mark.parametrize(
    ("value", "nil"),
    [
        (None, True),
        ("", True),
        ("00000000-0000-0000-0000-000000000000", True),
        ("00000000000000000000000000000000", True),
        (samples.CALL_ID, False),
        ("0", True),
        (5, False),
    ],
)
def test_is_nil(value: object, nil: bool) -> None:
    assert is_nil(value) is nil


def test_call_status_rank() -> None:
    assert CALL_STATUS_RANK == {
        "dialing": 0,
        "ringing": 1,
        "progressing": 2,
        "terminating": 3,
        "canceling": 3,
        "hangup": 4,
    }
    assert call_status_rank("ringing") == 1
    assert call_status_rank("canceling") == call_status_rank("terminating") == 3
    assert call_status_rank("bogus") == -1
    assert call_status_rank(None) == -1


def test_groupcall() -> None:
    gc = Groupcall.model_validate(samples.groupcall())
    assert gc.call_ids == [samples.CALL_ID]
    assert gc.answered_call_id is None
    assert gc.destinations[0].type == "extension"
    assert gc.call_count == 1
    assert gc.dial_index is None
    answered = Groupcall.model_validate(samples.groupcall(answer_call_id=samples.CALL_ID, dial_index=None))
    assert answered.answered_call_id == samples.CALL_ID
    assert Groupcall.model_validate({"call_count": None, "destinations": None}).call_count == 0


def test_speaking_real_and_seed_shapes() -> None:
    real = Speaking.model_validate(samples.speaking())
    assert real.is_active
    assert real.voice_id == ""
    assert real.pod_id == ""
    assert real.tm_delete is None
    seed = Speaking.model_validate(samples.SEED_SPEAKING)
    assert seed.status == "initiating"
    assert seed.voice_id == ""
    assert seed.pod_id == ""
    assert seed.tm_update is None
    assert seed.tm_delete is None
    assert seed.tm_create == datetime(2026, 2, 21, 10, 6, tzinfo=UTC)


def test_sentinel_times_from_old_docs() -> None:
    sp = Speaking.model_validate(samples.speaking(tm_delete="9999-01-01 00:00:00.000000"))
    assert sp.tm_delete is None


def test_transcribe_and_transcript() -> None:
    tr = Transcribe.model_validate(samples.transcribe())
    assert tr.status == "progressing"
    assert tr.tm_update is None
    assert tr.provider == ""
    ts = Transcript.model_validate(samples.transcript())
    assert ts.offset_seconds == pytest.approx(12.904)
    assert ts.tm_create == datetime(2026, 2, 21, 10, 5, 15, 100000, tzinfo=UTC)
    # the OpenAPI example shows a wall time in tm_transcript: not an offset
    wall = Transcript.model_validate(samples.transcript(tm_transcript="2026-01-15T09:31:15.000000Z"))
    assert wall.offset_seconds is None
    assert wall.tm_transcript is not None


def test_speech_event() -> None:
    started = SpeechEvent.model_validate(samples.speech())
    assert started.message is None
    assert not started.is_interim
    interim = SpeechEvent.model_validate(samples.speech("hello wor"))
    assert interim.is_interim
    empty = SpeechEvent.model_validate(samples.speech(""))
    assert not empty.is_interim


def test_number_extension_customer() -> None:
    number = Number.model_validate(samples.NUMBER)
    assert number.usable_as_tel_source
    assert number.tm_update is None
    ext = Extension.model_validate(samples.EXTENSION)
    assert ext.extension == "quickstart1"
    assert ext.name == "quickstart-phone"
    assert isinstance(ext.password, SecretStr)
    assert "s3cr3t-sip-pass" not in repr(ext)
    assert "s3cr3t-sip-pass" not in ext.model_dump_json()
    assert ext.password.get_secret_value() == "s3cr3t-sip-pass"
    assert Extension.model_validate({"password": ""}).password is None
    cust = Customer.model_validate(samples.CUSTOMER)
    assert cust.id == samples.CUSTOMER_ID
    assert cust.email_verified
    assert "whsec-very-secret" not in repr(cust)
    assert cust.tm_update == datetime(2026, 1, 3, 3, 4, 5, 100000, tzinfo=UTC)


def test_page_and_create_result() -> None:
    page = Page[Call].model_validate(
        {"result": [samples.call("ringing")], "next_page_token": "2026-02-21T10:05:00.123456Z"}
    )
    assert page.result[0].status == "ringing"
    assert page.next_page_token == "2026-02-21T10:05:00.123456Z"
    empty = Page[Number].model_validate({"result": None, "next_page_token": None})
    assert empty.result == []
    assert empty.next_page_token == ""
    created = CallCreateResult.model_validate({"calls": [], "groupcalls": [samples.groupcall()]})
    assert created.calls == []
    assert created.groupcalls[0].id == samples.GROUPCALL_ID
    assert created.call_ids == [samples.CALL_ID]
    tel = CallCreateResult.model_validate({"calls": [samples.call()], "groupcalls": None})
    assert tel.call_ids == [samples.CALL_ID]


def test_error_envelope() -> None:
    env = ErrorEnvelope.model_validate(
        {
            "error": {
                "status": "RESOURCE_EXHAUSTED",
                "reason": "RATE_LIMIT_EXCEEDED",
                "message": "Too many requests. Please try again later.",
                "request_id": "req_X",
                "details": [{"limited_by": "ip"}],
            }
        }
    )
    assert env.error.details == [{"limited_by": "ip"}]


def test_wrong_types_are_rejected_not_coerced_silently() -> None:
    with pytest.raises(ValidationError):
        Call.model_validate({"id": 5})
    with pytest.raises(ValidationError):
        Groupcall.model_validate({"call_ids": "x"})
    with pytest.raises(ValidationError):
        Call.model_validate({"source": "tel:+1"})


def test_wrong_type_in_time_field_is_tolerated() -> None:
    assert Call.model_validate({"tm_create": 12345}).tm_create is None
    assert Call.model_validate({"tm_create": {"x": 1}}).tm_create is None


def test_address_helpers_and_actions() -> None:
    assert Address.tel("+15551234567").to_request() == {"type": "tel", "target": "+15551234567"}
    assert Address.extension("2000").to_request() == {"type": "extension", "target_name": "2000"}
    assert Address.sip("a@b").display() == "sip:a@b"
    assert talk_action("Hi", language="en-US") == {
        "type": "talk",
        "option": {"text": "Hi", "language": "en-US"},
    }
    assert sleep_action(600000) == {"type": "sleep", "option": {"duration": 600000}}
    assert transcribe_start_action("ko-KR") == {"type": "transcribe_start", "option": {"language": "ko-KR"}}
    assert hangup_action() == {"type": "hangup", "option": {}}
    assert Action.model_validate({"type": "talk"}).type == "talk"


def test_prepare_models_is_idempotent() -> None:
    prepare_models()
    prepare_models()
    assert Page[Call].model_validate({"result": [samples.call()]}).result[0].id == samples.CALL_ID


def test_display_does_not_double_a_scheme_the_target_already_has() -> None:
    leg = Address(type="sip", target="sip:quickstart-phone@192.0.2.10:5060;transport=udp", target_name="x")
    assert leg.display() == "sip:quickstart-phone@192.0.2.10:5060;transport=udp"
    assert Address.tel("+15551234567").display() == "tel:+15551234567"
