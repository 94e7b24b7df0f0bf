"""A scenario written from a session record: explore in the console, pin it in CI.

The dial becomes ``call``; every said line becomes a ``say`` step anchored after what was heard before
it; observed transcripts become fuzzy expectations; observed times and latencies, with a margin, become
the budgets (``within``, ``latency_max``); the hangup and how the call ended close the steps.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from tui.durations import sleep_text

MAX_TRANSCRIPT_STEPS = 60
MIN_WITHIN_S = 5.0
WITHIN_FACTOR = 3.0
LATENCY_FACTOR = 2.0
MIN_LATENCY_S = 1.0


def _budget(seconds: float, factor: float, minimum: float) -> str:
    value = max(minimum, seconds * factor)
    return f"{math.ceil(value)}s"


def _destination(body: dict[str, Any]) -> dict[str, str] | str:
    dests = body.get("destinations") or [{}]
    d = dests[0] if isinstance(dests[0], dict) else {}
    kind = d.get("type", "extension")
    target = d.get("target_name") or d.get("target") or ""
    return {"type": str(kind), "target": str(target)}


def _actions(body: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for action in body.get("actions") or []:
        if not isinstance(action, dict) or not isinstance(action.get("type"), str):
            continue
        raw = action.get("option")
        option: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if action["type"] == "sleep" and isinstance(option.get("duration"), int):
            out.append({"sleep": sleep_text(option["duration"])})
        else:
            out.append({action["type"]: option})
    return out


def scenario_from_record(entries: list[dict[str, Any]], name: str, *, speed: float | None = None) -> dict[str, Any]:
    dial = next((e for e in entries if e.get("type") == "dial" and isinstance(e.get("body"), dict)), None)
    scenario: dict[str, Any] = {"version": 1, "name": name, "tags": ["recorded"]}
    if speed is not None:
        scenario["sandbox"] = {"speed": speed}
    if dial is not None:
        body = dial["body"]
        source = body.get("source") if isinstance(body.get("source"), dict) else {}
        scenario["call"] = {
            "source": str(source.get("target") or "+15551234567"),
            "destination": _destination(body),
            "actions": _actions(body),
        }
    else:
        first = next((e for e in entries if e.get("type") == "call" and isinstance(e.get("id"), str)), None)
        if first is not None:
            scenario["attach"] = first["id"]
    steps: list[dict[str, Any]] = []
    anchor = 0.0
    seen_states: set[str] = set()
    transcripts = 0
    says: dict[str, str] = {}
    last_call: dict[str, Any] | None = None
    counts = {"in": 0, "out": 0}
    for e in entries:
        kind = e.get("type")
        t = float(e["mono"]) if isinstance(e.get("mono"), int | float) else anchor
        if kind == "call" and isinstance(e.get("status"), str):
            last_call = e
            if e["status"] == "progressing" and "progressing" not in seen_states:
                seen_states.add("progressing")
                steps.append({"expect": {"call": "progressing", "within": _budget(t - anchor, WITHIN_FACTOR, 15.0)}})
                anchor = t
        elif kind == "transcript" and not e.get("backfilled") and isinstance(e.get("message"), str):
            direction = e.get("direction")
            if direction not in ("in", "out"):
                continue
            counts[direction] += 1
            text = " ".join(re.sub(r"[^\w\s']", " ", e["message"]).split())
            if not text or transcripts >= MAX_TRANSCRIPT_STEPS:
                continue
            transcripts += 1
            within = _budget(t - anchor, WITHIN_FACTOR, MIN_WITHIN_S)
            steps.append({"expect": {"transcript": direction, "fuzzy": text, "score_min": 80, "within": within}})
        elif kind == "say" and isinstance(e.get("id"), str):
            if e.get("state") == "queued" and isinstance(e.get("text"), str) and e.get("part", 1) == 1:
                says[e["id"]] = e["text"]
                steps.append({"say": e["text"]})
                anchor = t
            elif e.get("state") == "heard" and isinstance(e.get("latency_ms"), int | float) and e["id"] in says:
                latency = float(e["latency_ms"]) / 1000.0
                steps.append(
                    {
                        "expect": {
                            "say": "last",
                            "state": "heard",
                            "within": _budget(latency, WITHIN_FACTOR, MIN_WITHIN_S),
                            "latency_max": _budget(latency, LATENCY_FACTOR, MIN_LATENCY_S),
                        }
                    }
                )
        elif kind == "hangup":
            steps.append({"hangup": {}})
            anchor = t
    if last_call is not None and last_call.get("status") == "hangup":
        expect: dict[str, Any] = {"call": "hangup", "within": "15s"}
        if last_call.get("hangup_by"):
            expect["by"] = last_call["hangup_by"]
        if last_call.get("hangup_reason"):
            expect["reason"] = last_call["hangup_reason"]
        steps.append({"expect": expect})
    elif not any("hangup" in s for s in steps):
        steps.append({"hangup": {}})
    scenario["steps"] = steps
    checks: list[dict[str, Any]] = [{"gaps": {"unrecovered_max": 0}}, {"frames": {"unrecognised_max": 0}}]
    for direction in ("in", "out"):
        if counts[direction]:
            checks.insert(0, {"transcripts": {"direction": direction, "count_min": counts[direction]}})
    scenario["checks"] = checks
    return scenario


def to_yaml(scenario: dict[str, Any], source: str) -> str:
    head = (
        f"# Written by `voipbin-tui test from-record` from {source}.\n"
        "# Budgets are the observed times with a margin; tighten or loosen them as the flow needs.\n"
    )
    return head + yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, width=110)


def safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "recorded"
    return name if name[0].isalnum() else "s" + name
