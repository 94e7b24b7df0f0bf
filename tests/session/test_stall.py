"""The quiet-transcription check on its own (times are given, nothing sleeps)."""

from __future__ import annotations

from tui.session.stall import StallWatch


def test_no_warning_without_expected_speech_or_before_the_quiet_time() -> None:
    watch = StallWatch(quiet_after=30.0)
    assert watch.check(100.0, progressing=True, stream_age=400.0, provider="") is None  # nothing expected
    watch.expect(100.0, "a line was said")
    watch.expect(120.0, "a line was said")  # the first expectation counts
    assert watch.check(129.0, progressing=True, stream_age=400.0, provider="") is None
    assert watch.check(131.0, progressing=False, stream_age=400.0, provider="") is None  # transcribe ended


def test_names_the_stream_limit_for_an_old_default_or_gcp_stream_once() -> None:
    for provider in ("", "gcp"):
        watch = StallWatch(quiet_after=30.0)
        watch.expect(0.0, "the greeting is playing")
        warning = watch.check(31.0, progressing=True, stream_age=320.0, provider=provider)
        assert warning is not None
        assert warning.likely_limit
        assert "5-minute" in warning.hint
        assert "aws" in warning.hint
        assert "the greeting is playing" in warning.text
        assert watch.check(60.0, progressing=True, stream_age=350.0, provider=provider) is None  # once
        assert watch.heard() is True  # cleared by the next result
        assert watch.heard() is False


def test_other_causes_for_a_young_stream_or_aws() -> None:
    young = StallWatch(quiet_after=10.0)
    young.expect(0.0, "a line was said")
    warning = young.check(11.0, progressing=True, stream_age=40.0, provider="")
    assert warning is not None
    assert not warning.likely_limit
    assert "language" in warning.hint
    aws = StallWatch(quiet_after=10.0)
    aws.expect(0.0, "a line was said")
    warning = aws.check(11.0, progressing=True, stream_age=900.0, provider="aws")
    assert warning is not None
    assert not warning.likely_limit


def test_a_faster_sandbox_scales_the_limit() -> None:
    watch = StallWatch(quiet_after=1.0, stream_limit=0.8)
    watch.expect(0.0, "a line was said")
    warning = watch.check(1.5, progressing=True, stream_age=1.2, provider="")
    assert warning is not None
    assert warning.likely_limit
