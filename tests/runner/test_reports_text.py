"""Reports quote text someone else wrote: the JUnit XML must still parse, and show it as visible escapes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from tui.runner.reports import failure_lines, junit_xml
from tui.runner.text import printable
from tui.voipbin.safetext import safe_xml_text

HOSTILE = "bye\x1b]52;c;QQ==\x07 \u202eevil \ufffe\uffff\x00end"


def _failed_result(text: str) -> dict[str, Any]:
    return {
        "name": "hostile",
        "item": "hostile.yaml::hostile",
        "file": "hostile.yaml",
        "status": "failed",
        "duration_s": 1.5,
        "failure": {"kind": "text_mismatch", "step": 2, "verb": "expect", "message": f"heard {text!s}"},
        "trace": [{"index": 0, "verb": "say", "detail": text, "started_s": 0.0, "ended_s": 0.1, "status": "passed"}],
        "transcript": [{"t": 0.5, "direction": "in", "text": text}],
    }


def test_junit_report_with_hostile_transcripts_parses_and_shows_escapes() -> None:
    root = ET.fromstring(junit_xml([_failed_result(HOSTILE)]))
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None
    assert failure.text is not None
    assert "\\x1b]52;c;QQ==\\x07" in failure.text
    assert "\\u202eevil" in failure.text
    assert "\\ufffe\\uffff\\x00end" in failure.text
    system_out = root.find("./testsuite/testcase/system-out")
    assert system_out is not None
    assert system_out.text is not None
    assert "\n" in system_out.text  # line structure kept
    assert "\x1b" not in system_out.text
    assert "\ufffe" not in system_out.text


def test_terminal_lines_use_the_one_rule_for_remote_text() -> None:
    [line] = failure_lines([_failed_result(HOSTILE)])
    assert "\x1b" not in line
    assert "\u202e" not in line
    assert "\\x1b]52" in line
    # The runner's terminal text follows safetext: private-use and unassigned characters are harmless.
    assert printable("a\ue000b\n", keep_newlines=True) == "a\ue000b\n"
    assert printable("tab\there") == "tab\\x09here"


def test_xml_form_keeps_tabs_and_newlines() -> None:
    assert safe_xml_text("a\tb\nc\rd\ufffe") == "a\tb\nc\\x0dd\\ufffe"
