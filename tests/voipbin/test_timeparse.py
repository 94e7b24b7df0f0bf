from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tui.voipbin.timeparse import format_go_time, is_unset_time, offset_seconds, parse_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-21T10:05:02Z", datetime(2026, 2, 21, 10, 5, 2, tzinfo=UTC)),
        ("2026-02-21T10:05:02.2Z", datetime(2026, 2, 21, 10, 5, 2, 200000, tzinfo=UTC)),
        ("2026-02-21T10:05:02.23Z", datetime(2026, 2, 21, 10, 5, 2, 230000, tzinfo=UTC)),
        ("2026-02-21T10:05:02.233415Z", datetime(2026, 2, 21, 10, 5, 2, 233415, tzinfo=UTC)),
        ("2026-02-21T10:05:02.2334159Z", datetime(2026, 2, 21, 10, 5, 2, 233415, tzinfo=UTC)),
        ("2026-02-21T10:05:02.233415999Z", datetime(2026, 2, 21, 10, 5, 2, 233415, tzinfo=UTC)),
        ("2026-02-21T12:05:02.5+02:00", datetime(2026, 2, 21, 10, 5, 2, 500000, tzinfo=UTC)),
        ("2026-02-21T05:05:02-05:00", datetime(2026, 2, 21, 10, 5, 2, tzinfo=UTC)),
        ("2026-02-21T10:05:02+0000", datetime(2026, 2, 21, 10, 5, 2, tzinfo=UTC)),
        ("2026-02-21 10:05:02.000000", datetime(2026, 2, 21, 10, 5, 2, tzinfo=UTC)),
        ("2026-02-21t10:05:02z", datetime(2026, 2, 21, 10, 5, 2, tzinfo=UTC)),
        ("2026-02-21", datetime(2026, 2, 21, tzinfo=UTC)),
        ("0001-01-01T00:00:03.512Z", datetime(1, 1, 1, 0, 0, 3, 512000, tzinfo=UTC)),
        ("1-01-01T00:00:03.512Z", datetime(1, 1, 1, 0, 0, 3, 512000, tzinfo=UTC)),
    ],
)
def test_parse_time_formats(text: str, expected: datetime) -> None:
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is not None
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "9999-01-01 00:00:00.000000",
        "9999-01-01T00:00:00Z",
        "not a time",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-02-21T25:00:00Z",
        "2026-02-21T10:05:02+99:00",
        "0001-01-01T00:00:00+05:00",  # would underflow year 1
        "x" * 10_000,
        12345,
        12.5,
        True,
        [],
        {},
    ],
)
def test_parse_time_unset_or_unreadable_is_none(value: object) -> None:
    assert parse_time(value) is None


def test_parse_time_datetime_input() -> None:
    naive = datetime(2026, 1, 1, 12, 0, 0)
    assert parse_time(naive) == datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    aware = datetime(2026, 1, 1, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert parse_time(aware) == datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_time(datetime(9999, 1, 1)) is None


def test_leap_second_is_clamped() -> None:
    assert parse_time("2016-12-31T23:59:60Z") == datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0001-01-01T00:00:03.512Z", 3.512),
        ("0001-01-01T00:00:12.904Z", 12.904),
        ("0001-01-01T00:00:00Z", 0.0),
        ("0001-01-01T01:02:03Z", 3723.0),
        ("0001-01-02T00:00:01Z", 86401.0),
        (datetime(1, 1, 1, 0, 0, 5, tzinfo=UTC), 5.0),
        (2.5, 2.5),
        (3, 3.0),
        ("2026-01-15T09:31:15.000000Z", None),  # a wall time, not an offset
        ("", None),
        (None, None),
        ("garbage", None),
        (True, None),
        (-1, None),
        (float("nan"), None),
    ],
)
def test_offset_seconds(value: object, expected: float | None) -> None:
    result = offset_seconds(value)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_is_unset_time() -> None:
    assert is_unset_time(None)
    assert is_unset_time("")
    assert is_unset_time("9999-01-01 00:00:00.000000")
    assert not is_unset_time("2026-01-01T00:00:00Z")


def test_format_go_time_matches_page_token_layout() -> None:
    dt = datetime(2026, 2, 21, 10, 5, 0, 123456, tzinfo=UTC)
    assert format_go_time(dt) == "2026-02-21T10:05:00.123456Z"
    assert parse_time(format_go_time(dt)) == dt
    assert format_go_time(datetime(2026, 2, 21, 10, 5)) == "2026-02-21T10:05:00.000000Z"
