"""The session record: written through, valid JSON whatever the values, one file per process, floods
summarised, and a failed write reported (never a torn last line)."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.session.record import SessionRecorder, read_record, record_path
from tui.session.updates import CallSummary

SECRET = "vb_RECORDsecretKEY0123456789"
HOSTILE_VALUES = [
    'token=a"b',
    'the caller said "token=' + SECRET + '" and \\ left',
    'password=hunter2"}\n{"type":"forged"}',
    "\x1b]52;c;Zm9v\x07 \u202e bidi \x00 nul",
    SECRET,
]


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_values_are_redacted_before_encoding_so_every_line_stays_json(tmp_path: Path) -> None:
    rec = SessionRecorder(tmp_path / "r.jsonl", [SECRET])
    for value in HOSTILE_VALUES:
        rec.write("transcript", text=value, nested={"token": "plain-token-value", "list": [value]})
    rec.close()
    assert rec.path is not None
    raw = lines_of(rec.path)
    assert len(raw) == 2 + len(HOSTILE_VALUES)
    entries = [json.loads(line) for line in raw]  # every line parses
    assert [e["type"] for e in entries] == ["record", *["transcript"] * len(HOSTILE_VALUES), "end"]
    text = rec.path.read_text(encoding="utf-8")
    assert SECRET not in text
    assert "plain-token-value" not in text
    assert "hunter2" not in text
    assert not any(e.get("type") == "forged" for e in entries)
    assert entries[1]["text"].startswith("token=")


def test_each_line_reaches_the_file_as_it_is_written(tmp_path: Path) -> None:
    rec = SessionRecorder(tmp_path / "r.jsonl")
    rec.write("say", id="say-1", text="hello")
    assert rec.path is not None
    # Read by another handle without flush or close: the line is already there.
    assert json.loads(lines_of(rec.path)[-1])["text"] == "hello"
    rec.close()


def test_two_recorders_given_the_same_name_write_two_private_files(tmp_path: Path) -> None:
    path = record_path(tmp_path, "callhint")
    first = SessionRecorder(path)
    second = SessionRecorder(path)
    assert first.path is not None
    assert second.path is not None
    assert first.path != second.path
    for rec in (first, second):
        rec.write("x", who=str(rec.path))
        rec.close()
        assert rec.path is not None
        assert stat.S_IMODE(rec.path.stat().st_mode) == 0o600
        assert [e["type"] for e in read_record(rec.path)] == ["record", "x", "end"]


def test_a_flood_of_unrecognised_and_duplicate_frames_is_summarised(tmp_path: Path) -> None:
    rec = SessionRecorder(tmp_path / "r.jsonl")
    raw = "x" * 4000
    frames = 20_000
    for i in range(frames):
        if i % 2:
            rec.write("frame", kind="unrecognised", event="unrecognised", reason="not JSON", raw=raw)
        else:
            rec.write("frame", kind="call", event="call_updated", id=f"c{i % 7}", duplicate=True)
    rec.close()
    assert rec.path is not None
    size = rec.path.stat().st_size
    # Written one by one this would be about 20_000 * 2 KB = 40 MB.
    assert size < 200_000, size
    entries = list(read_record(rec.path))
    written = sum(1 for e in entries if e["type"] == "frame")
    counted = sum(e["count"] for e in entries if e["type"] == "frames_suppressed")
    assert written + counted == frames
    assert rec.suppressed == counted


def test_identical_frames_are_counted_even_below_the_rate_limit(tmp_path: Path) -> None:
    rec = SessionRecorder(tmp_path / "r.jsonl")
    for _ in range(5):
        rec.write("frame", kind="unrecognised", event="unrecognised", reason="r", raw="same")
    rec.close()
    assert rec.path is not None
    entries = list(read_record(rec.path))
    assert sum(1 for e in entries if e["type"] == "frame") == 1
    summary = next(e for e in entries if e["type"] == "frames_suppressed")
    assert (summary["count"], summary["identical_repeats"]) == (4, 4)


def test_a_full_disk_stops_the_record_reports_once_and_leaves_no_torn_line(tmp_path: Path) -> None:
    rec = SessionRecorder(tmp_path / "r.jsonl")
    reports: list[str] = []
    rec.on_failure = reports.append
    rec.write("a", n=1)
    assert rec._fd is not None
    # The kernel's own "no space left": /dev/full put under the record's descriptor.
    full = os.open("/dev/full", os.O_WRONLY)
    os.dup2(full, rec._fd)
    os.close(full)
    rec.write("b", n=2)
    rec.write("c", n=3)
    assert rec.failed is not None
    assert "No space left" in rec.failed
    assert rec.incomplete
    assert not rec.active
    assert len(reports) == 1


def test_a_write_torn_halfway_is_cut_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = SessionRecorder(tmp_path / "r.jsonl")
    rec.write("whole", text="one")
    real_write = os.write
    calls = {"n": 0}

    def half_then_enospc(fd: int, data: bytes | memoryview) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_enospc)
    rec.write("torn", text="two" * 100)
    monkeypatch.undo()
    assert rec.failed is not None
    assert rec.path is not None
    text = rec.path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert [json.loads(line)["type"] for line in text.splitlines()] == ["record", "whole"]


def test_the_summary_says_when_the_record_is_incomplete() -> None:
    from tui.ui.widgets.summary import summary_lines

    summary = CallSummary(
        call_id="c",
        duration_s=1.0,
        hangup_by="local",
        hangup_reason="normal",
        lines_in=0,
        lines_out=0,
        says_sent=0,
        says_heard=0,
        says_failed=0,
        say_heard_p50_ms=None,
        say_heard_p95_ms=None,
        record_path=None,
        gaps=0,
        record_incomplete="session record stopped after 3 lines: No space left on device",
    )
    assert any(line.startswith("record incomplete: ") for line in summary_lines(summary))
    assert summary.as_dict()["record_incomplete"]


_WRITER = """
import sys, time
from pathlib import Path
from tui.session.record import SessionRecorder
rec = SessionRecorder(Path(sys.argv[1]), [sys.argv[2]])
print(rec.path, flush=True)
n = 0
while True:
    n += 1
    rec.write("transcript", n=n, text='token=a"b ' + sys.argv[2] + ' \\x1b[2J "quoted" ' + "w" * (n % 300))
    if n % 50 == 0:
        print(n, flush=True)
"""


def test_the_record_stays_valid_json_up_to_kill_9(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path / "k.jsonl"), SECRET],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        path = Path(proc.stdout.readline().strip())
        reported = 0
        deadline = time.monotonic() + 20
        while reported < 2000 and time.monotonic() < deadline:
            reported = int(proc.stdout.readline())
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert reported >= 2000
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    complete, last = lines[:-1], lines[-1]
    # Only the line being written at the kill may be partial; everything before it parses.
    numbers = [json.loads(line)["n"] for line in complete[1:]]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) >= reported
    assert SECRET.encode() not in raw
    assert len(last) < 2000
