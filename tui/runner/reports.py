"""The run's reports: JSON (for agents), JUnit XML (for CI), pass rates and the failure summary."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from tui.runner.text import printable
from tui.voipbin.safetext import safe_xml_text

REPORT_VERSION = 1


def pass_rates(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    runs: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        runs[r["name"]].append(r["status"] == "passed")
    return {name: {"runs": len(v), "passed": sum(v), "rate": round(sum(v) / len(v), 4)} for name, v in runs.items()}


def json_report(results: list[dict[str, Any]]) -> dict[str, Any]:
    scenarios = []
    for r in results:
        entry: dict[str, Any] = {
            "name": r["name"],
            "run": r.get("run", 1),
            "file": r.get("file"),
            "status": r["status"],
            "duration_s": r.get("duration_s"),
            "target": r.get("target"),
            "artifacts": r.get("artifacts", {}),
            "trace": r.get("trace", []),
        }
        if r.get("failure"):
            f = r["failure"]
            entry["failure"] = {
                "kind": f["kind"],
                "step": f["step"],
                "verb": f.get("verb", ""),
                "message": f["message"],
            }
        if r.get("smells"):
            entry["smells"] = r["smells"]
        scenarios.append(entry)
    return {
        "version": REPORT_VERSION,
        "passed": sum(1 for r in results if r["status"] == "passed"),
        "failed": sum(1 for r in results if r["status"] == "failed"),
        "skipped": sum(1 for r in results if r["status"] == "skipped"),
        "pass_rates": pass_rates(results),
        "scenarios": scenarios,
    }


def _xml_text(text: str) -> str:
    # XML 1.0 cannot carry most control characters at all; they become visible escapes.
    return safe_xml_text(text)


def junit_xml(results: list[dict[str, Any]]) -> bytes:
    suite = ET.Element(
        "testsuite",
        name="voipbin-tui scenarios",
        tests=str(len(results)),
        failures=str(sum(1 for r in results if r["status"] == "failed")),
        errors="0",
        skipped=str(sum(1 for r in results if r["status"] == "skipped")),
        time=f"{sum(r.get('duration_s') or 0 for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_xml_text(str(r.get("file") or "scenarios")),
            name=_xml_text(r.get("item") or r["name"]),
            time=f"{r.get('duration_s') or 0:.3f}",
        )
        failure = r.get("failure")
        if r["status"] == "failed" and failure:
            node = ET.SubElement(
                case,
                "failure",
                type=failure["kind"],
                message=_xml_text(f"step {failure['step']} ({failure.get('verb', '')}): {failure['message']}"),
            )
            node.text = _xml_text(failure["message"])
        out = ["step trace:"]
        for row in r.get("trace", []):
            line = f"  [{row['started_s']:.3f}s → {row['ended_s']:.3f}s] {row['index']} {row['verb']} {row['detail']}"
            line += f" … {row['status']}" + (f": {row['message']}" if row.get("message") else "")
            out.append(line)
        out.append("transcript:")
        for row in r.get("transcript", []):
            out.append(f"  [{row['t']:.3f}s] {row['direction']}: {row['text']}")
        ET.SubElement(case, "system-out").text = _xml_text("\n".join(out))
    root = ET.Element("testsuites")
    root.append(suite)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def failure_lines(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in results:
        f = r.get("failure")
        if r["status"] == "failed" and f:
            where = f"step {f['step']} ({f.get('verb') or '?'})" if f["step"] >= 0 else (f.get("verb") or "set-up")
            out.append(printable(f"{r.get('item') or r['name']}: {where}: {f['kind']}: {f['message']}"))
    return out
