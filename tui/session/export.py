"""Export a call's transcript as Markdown, JSONL or SRT.

The lines come from the session's transcript book; when the book has evicted old lines (very long
calls), the transcript entries are read back from the session record on disk so nothing is missing.

Transcript text is someone else's words, so each format gets it as data: line breaks are folded into
spaces (no line can start a heading, a list, a table row or a new SRT cue), control characters are
visible escapes (``tui.voipbin.safetext``), Markdown's inline metacharacters are backslash-escaped (no
emphasis, code, HTML, entity, link, image or autolink, ``javascript:`` or any other), and SRT's tag
openers become look-alikes (``<`` ``>`` ``{`` ``}`` → ``‹`` ``›`` ``❴`` ``❵``) since SRT has no escape.
JSONL keeps the exact text: JSON escapes what it must. Files are created readable by the owner only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tui.session.record import read_record
from tui.session.says import SayItem
from tui.voipbin.safetext import safe_line
from tui.voipbin.timeparse import parse_time

if TYPE_CHECKING:
    from tui.session.call_session import CallSession

ExportFormat = Literal["md", "jsonl", "srt"]
FORMATS: tuple[ExportFormat, ...] = ("md", "jsonl", "srt")

_WHO = {"in": "caller", "out": "voipbin"}


@dataclass(frozen=True, slots=True)
class ExportLine:
    at: datetime
    kind: str  # transcript | say | gap
    direction: str
    text: str
    id: str | None = None
    say_state: str | None = None
    latency_ms: float | None = None
    backfilled: bool = False


def collect_lines(session: CallSession) -> list[ExportLine]:
    lines: list[ExportLine] = []
    if session.book.evicted and session.recorder.path is not None and session.recorder.path.exists():
        session.recorder.flush()
        lines.extend(_from_record(session.recorder.path))
        lines.extend(_says(session.ledger.items))
    else:
        for ln in session.book:
            if ln.kind == "transcript":
                lines.append(
                    ExportLine(ln.at, "transcript", ln.direction, ln.text, ln.transcript_id, backfilled=ln.backfilled)
                )
            elif ln.kind == "gap":
                lines.append(ExportLine(ln.at, "gap", "", ln.text))
        lines.extend(_says(session.ledger.items))
    lines.sort(key=lambda x: x.at)
    return lines


def _says(items: Iterable[SayItem]) -> list[ExportLine]:
    out = []
    for item in items:
        at = datetime.fromtimestamp(item.sent_at or item.created_at, UTC)
        out.append(ExportLine(at, "say", "out", item.text, item.id, item.state, item.latency_ms))
    return out


def _from_record(path: Path) -> list[ExportLine]:
    out = []
    for entry in read_record(path):
        if entry.get("type") == "transcript":
            at = parse_time(entry.get("tm_create")) or parse_time(entry.get("t")) or datetime.now(UTC)
            out.append(
                ExportLine(
                    at,
                    "transcript",
                    str(entry.get("direction", "")),
                    str(entry.get("message", "")),
                    str(entry.get("id", "")),
                    backfilled=bool(entry.get("backfilled")),
                )
            )
        elif entry.get("type") == "gap":
            at = datetime.fromtimestamp(float(entry.get("started", 0.0)), UTC)
            out.append(ExportLine(at, "gap", "", f"connection gap, recovered {entry.get('recovered')}"))
    return out


def render(session: CallSession, fmt: ExportFormat, lines: list[ExportLine] | None = None) -> str:
    """One format's text; pass ``lines`` (from collect_lines) when rendering several formats."""
    if lines is None:
        lines = collect_lines(session)
    if fmt == "md":
        return _markdown(session, lines)
    if fmt == "jsonl":
        return _jsonl(lines)
    if fmt == "srt":
        return _srt(session, lines)
    raise ValueError(f"unknown export format {fmt!r}")


def export(session: CallSession, directory: Path, formats: Iterable[ExportFormat] = FORMATS) -> list[Path]:
    """Write the transcript in each format; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    call = session.call
    stem = "call-" + datetime.now().strftime("%Y%m%d-%H%M%S") + (f"-{call.id[:8]}" if call else "")
    paths = []
    lines = collect_lines(session)  # once: it may read the whole record from disk
    for fmt in formats:
        path = directory / f"{stem}.{fmt}"
        _write_private(path, render(session, fmt, lines))
        paths.append(path)
    return paths


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with open(fd, "w", encoding="utf-8") as out:
        out.write(text)


_LINE_BREAKS = re.compile(r"[ \t]*(?:\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029])[ \t]*")
# Every ASCII punctuation character that opens an inline construct (CommonMark and GFM: emphasis, code,
# HTML, entities, links, images, strikethrough, math, table cells) or starts a scheme (``:``) or an email
# autolink (``@``); ``www.`` loses its autolink through its dot. A backslash makes each one literal.
_MD_SPECIAL = re.compile(r"[\\`*_\[\]()<>&!~|#$:@]|(?i:(?<=www)\.)")
_SRT_LOOKALIKES = str.maketrans({"<": "‹", ">": "›", "{": "❴", "}": "❵"})


def flat_text(text: str) -> str:
    """One line: line breaks folded into a space, controls shown as escapes."""
    return safe_line(_LINE_BREAKS.sub(" ", text))


def md_inline(text: str) -> str:
    """Text that Markdown shows literally, on one line."""
    return _MD_SPECIAL.sub(r"\\\g<0>", flat_text(text))


def srt_text(text: str) -> str:
    """Text that an SRT player shows literally, on one line (so it cannot end its cue)."""
    return flat_text(text).translate(_SRT_LOOKALIKES)


def _markdown(session: CallSession, lines: list[ExportLine]) -> str:
    call = session.call
    out = [f"# Call {md_inline(call.id) if call else '(not placed)'}", ""]
    req = session.dial_request
    meta: list[tuple[str, str]] = []
    if req is not None:
        meta += [("Source", req.source), ("Destination", f"{req.destination} ({req.kind})"), ("Language", req.language)]
    if call is not None:
        meta.append(
            ("Status", call.status + (f" — {call.hangup_by} {call.hangup_reason}".rstrip() if call.is_hungup else ""))
        )
    if session.summary is not None:
        s = session.summary
        meta.append(("Summary", s.headline()))
        meta.append(("Lines", f"{s.lines_in} in, {s.lines_out} out; says {s.says_sent} sent, {s.says_heard} heard"))
        if s.say_heard_p50_ms is not None:
            meta.append(("Say→heard", f"p50 {s.say_heard_p50_ms:.0f} ms, p95 {s.say_heard_p95_ms or 0:.0f} ms"))
    if meta:
        out += ["| | |", "|---|---|", *[f"| {k} | {_md_cell(v)} |" for k, v in meta], ""]
    out += ["## Transcript", ""]
    for ln in lines:
        # The date and the zone too: an export is read later, elsewhere.
        stamp = ln.at.astimezone(UTC).isoformat(sep=" ", timespec="milliseconds").replace("+00:00", "Z")
        text = md_inline(ln.text)
        if ln.kind == "gap":
            out.append(f"- `{stamp}` — *{text}*")
        elif ln.kind == "say":
            lat = f", heard after {ln.latency_ms / 1000:.1f}s" if ln.latency_ms is not None else ""
            out.append(f"- `{stamp}` **SAY** ({md_inline(ln.say_state or '')}{lat}): {text}")
        else:
            arrow = "←" if ln.direction == "in" else "→"
            out.append(f"- `{stamp}` {arrow} **{md_inline(_WHO.get(ln.direction, ln.direction))}**: {text}")
    return "\n".join(out) + "\n"


def _md_cell(value: str) -> str:
    return md_inline(value)


def _jsonl(lines: list[ExportLine]) -> str:
    rows = []
    for ln in lines:
        row: dict[str, object] = {
            "t": ln.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "kind": ln.kind,
            "direction": ln.direction,
            "text": ln.text,
        }
        if ln.id:
            row["id"] = ln.id
        if ln.say_state:
            row["say_state"] = ln.say_state
        if ln.latency_ms is not None:
            row["latency_ms"] = round(ln.latency_ms, 1)
        if ln.backfilled:
            row["backfilled"] = True
        rows.append(json.dumps(row, ensure_ascii=False))
    return "\n".join(rows) + ("\n" if rows else "")


def _srt(session: CallSession, lines: list[ExportLine]) -> str:
    spoken = [ln for ln in lines if ln.kind == "transcript"]
    if not spoken:
        return ""
    call = session.call
    t0 = call.tm_progressing if call is not None and call.tm_progressing is not None else spoken[0].at
    t0 = min(t0, spoken[0].at)
    blocks = []
    for n, ln in enumerate(spoken, 1):
        start = ln.at - t0
        # A subtitle lasts about as long as the words take to say, within sane bounds.
        length = timedelta(seconds=min(8.0, max(1.5, len(ln.text) * 0.06)))
        end = start + length
        if n < len(spoken):
            end = min(end, max(start + timedelta(milliseconds=500), spoken[n].at - t0))
        who = srt_text(_WHO.get(ln.direction, ln.direction))
        blocks.append(f"{n}\n{_srt_time(start)} --> {_srt_time(end)}\n[{who}] {srt_text(ln.text)}\n")
    return "\n".join(blocks)


def _srt_time(delta: timedelta) -> str:
    ms = max(0, int(delta.total_seconds() * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"
