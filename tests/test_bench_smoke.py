"""The benchmark still runs: a tiny plan of every measurement, no goals asserted (those are bench/'s)."""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.timeout(180)


def test_every_measurement_runs_and_reports_every_key() -> None:
    from bench.__main__ import GOALS, Plan, run, table

    tiny = Plan(
        startup_pairs=1,
        latency_events=20,
        burst_seconds=0.5,
        memory_lines=300,
        memory_rate=1000.0,
        says=2,
        calls=2,
        calls_duration=3.0,
        search=False,
        calls_speed=20.0,
        runner_pairs=1,
        runner_calls=3,
        sip_calls=2,
        sip_seconds=1.5,
        search_lines=3000,
        search_finds=3,
        say_audible_says=1,
    )
    figures, details = run(tiny)
    assert list(figures) == [g.key for g in GOALS]
    for key, value in figures.items():
        assert isinstance(value, float), key
        assert not math.isnan(value), key
    assert figures["startup_ratio"] > 0
    assert details["latency"]["drawn"] == 20
    assert details["burst"]["sent"] == 250
    assert details["memory"]["through"] == 300
    # Whether the deadlines were met is a timing goal (bench/'s); that the calls ran to the end is not.
    assert details["sandbox"]["calls_ok"] == 2, details["sandbox"]
    assert details["sandbox"]["say_errors"] == 0
    assert details["sandbox"]["frames_sent"] > 0
    assert figures["sandbox_concurrent_calls"] in (0.0, 2.0)
    assert figures["runner_overhead_ratio"] > 0
    assert details["runner_concurrent"]["failures"] == 0, details["runner_concurrent"]
    assert details["runner_concurrent"]["resolutions"] == 3 * 4  # phone.say and its expectation are skipped
    assert figures["runner_concurrent_calls"] in (0.0, 3.0)
    assert details["sip"]["packets_received"] > 0
    assert details["sip"]["packets_lost"] == 0
    assert details["search"]["finds"] == 3
    assert "startup_ratio" in table(figures)
    # POST /say → audible at a real phone, reported beside the sandbox's own TTS time.
    assert details["say_audible"]["says"] == 1
    assert details["reported"]["say_audible_latency_ms"] > details["reported"]["say_audible_baseline_tts_ms"] > 0
