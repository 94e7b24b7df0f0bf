"""Exports: every transcript line, in each format, also when the screen's book has forgotten old lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.session.conftest import CALLER_LINES, server_transcripts, wait_for
from tui.session.account import Account
from tui.session.call_session import CallSession
from tui.session.dial import DialRequest
from tui.session.export import export, md_inline
from tui.session.record import SessionRecorder


@pytest.mark.sandbox(caller_script=CALLER_LINES, caller_delay=0.5)
@pytest.mark.parametrize("max_lines", [1000, 3])
async def test_export_has_every_transcript_in_every_format(account: Account, tmp_path: Path, max_lines: int) -> None:
    s = CallSession(account, recorder=SessionRecorder(tmp_path / "rec.jsonl"), max_lines=max_lines)
    try:
        await s.dial(DialRequest())
        await wait_for(lambda: s.speech.phase == "active", what="speaking")
        s.say("A line said from the console.")
        await wait_for(lambda: s.book.final_count["in"] >= len(CALLER_LINES), timeout=20, what="caller lines")
        await s.hangup()
        await wait_for(lambda: s.phase == "ended" and all(t.status == "done" for t in s.transcribes.values()))
        if max_lines == 3:
            assert s.book.evicted > 0, "the book forgot lines: the export must read the record"
        paths = {p.suffix: p for p in export(s, tmp_path / "out")}
    finally:
        await s.close()
    assert set(paths) == {".md", ".jsonl", ".srt"}
    for path in paths.values():
        assert path.stat().st_mode & 0o777 == 0o600, f"{path.name} is owner-only, like the record"
    (tid,) = s.transcribes
    server = await server_transcripts(account, tid)

    rows = [json.loads(line) for line in paths[".jsonl"].read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in rows if r["kind"] == "transcript"} == set(server)
    assert any(r["kind"] == "say" and r["text"] == "A line said from the console." for r in rows)

    md = paths[".md"].read_text(encoding="utf-8")
    assert md.startswith("# Call ")
    for message in server.values():
        assert md_inline(message) in md
    assert "Call ended after" in md
    # Every line carries its date and zone (UTC, to the millisecond).
    lines = [ln for ln in md.splitlines() if ln.startswith("- `")]
    assert lines
    assert all(re.match(r"^- `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z` ", ln) for ln in lines), lines[:3]

    srt = paths[".srt"].read_text(encoding="utf-8")
    blocks = [b for b in srt.strip().split("\n\n") if b]
    assert len(blocks) == len(server)
    stamp = re.compile(r"^\d+\n\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d\n\[(caller|voipbin)\] .+", re.S)
    assert all(stamp.match(b) for b in blocks)
    assert [int(b.split("\n", 1)[0]) for b in blocks] == list(range(1, len(blocks) + 1))
