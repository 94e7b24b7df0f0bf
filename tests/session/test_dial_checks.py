"""What the dial form refuses before anything is sent: a bad number, source or language never reaches VoIPBIN."""

from __future__ import annotations

import pytest

from tui.session.dial import DialRequest, destination_address, destination_type


@pytest.mark.parametrize("value", ["+12", "+1", "+15551234567", "+0123456789"])
def test_a_leading_plus_is_always_a_phone_number(value: str) -> None:
    assert destination_type(value) == "tel"
    assert destination_address(value)["type"] == "tel"


def test_a_short_plus_number_is_refused_as_e164_not_dialled_as_an_extension() -> None:
    problems = DialRequest(destination="+12").problems()
    assert any("'+12' is not E.164" in p for p in problems), problems


def test_a_source_without_plus_is_refused() -> None:
    problems = DialRequest(source="15551234567").problems()
    assert any("source '15551234567' is not E.164" in p for p in problems), problems


def test_a_sip_source_is_not_held_to_e164() -> None:
    assert DialRequest(source="sip:alice@example.com").problems() == []


@pytest.mark.parametrize("language", ["en-USK", "english", "en_US", "e", "en-"])
def test_a_malformed_language_is_refused(language: str) -> None:
    problems = DialRequest(language=language).problems()
    assert any("not a BCP 47 tag" in p for p in problems), problems


@pytest.mark.parametrize("language", ["en-US", "ko-KR", "cmn-Hans-CN", "es-419", "de"])
def test_well_formed_languages_pass(language: str) -> None:
    assert DialRequest(language=language).problems() == []


def test_the_seed_request_has_no_problems() -> None:
    assert DialRequest().problems() == []
