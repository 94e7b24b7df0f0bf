"""``voipbin-tui --script FILE``: a scenario run on screen, each step and its result a STEP line, the
verdict in the summary and the exit status, against the real embedded sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import AppFactory, rows, transcript_text, wait_until
from tui.session.export import collect_lines
from tui.session.transcript import TranscriptLine

HEAD = """version: 1
name: {name}
sandbox: {{speed: 25, random_seed: 7, caller_script: [], transcribe_stream_limit: 0}}
call:
  source: "+15551234567"
  destination: {{type: extension, target: quickstart-phone}}
  actions:
    - transcribe_start: {{language: en-US}}
    - talk: {{text: "Hello. This is the scripted test."}}
    - sleep: 600s
steps:
"""

PASSING = """  - expect: {call: progressing, within: 15s}
  - expect: {transcript: out, contains: "scripted test", within: 15s}
  - say: "Your order has shipped."
  - expect: {say: last, state: heard, within: 15s}
  - hangup: {}
  - expect: {call: hangup, by: local, within: 10s}
"""

FAILING = """  - expect: {call: progressing, within: 15s}
  - expect: {transcript: out, contains: "the scripted quiz", within: 1s}
  - hangup: {}
"""


def scenario(tmp_path: Path, name: str, steps: str) -> Path:
    path = tmp_path / f"{name}.scenario.yaml"
    path.write_text(HEAD.format(name=name) + steps, encoding="utf-8")
    return path


def step_lines(lines: list[TranscriptLine]) -> list[str]:
    return [ln.text for ln in lines if ln.kind == "step"]


async def test_a_passing_script_shows_every_step_and_exits_0(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app(script=scenario(tmp_path, "onscreen-pass", PASSING))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.call_screen
        await wait_until(pilot, lambda: app.runtime.script and app.runtime.script.finished, "the script to end", 40)
        await wait_until(pilot, lambda: "passed" in screen.summary.plain, "the verdict in the summary")
        steps = step_lines(screen.transcript.lines)
        assert len(steps) == 7, steps  # six steps and the verdict
        assert steps[0].startswith("STEP 0 expect call progressing ✓ ")
        assert steps[1].startswith('STEP 1 expect transcript out contains "scripted test" ✓ ')
        assert steps[2].startswith('STEP 2 say "Your order has shipped." ✓') or steps[2].startswith("STEP 2 say ")
        assert all(" ✓ " in s and s.endswith(" s") for s in steps[:6]), steps
        assert steps[6].startswith("SCRIPT onscreen-pass passed: 6 step(s) in ")
        # The lines are drawn, in order, between what was said and heard.
        shown = transcript_text(app)
        assert "STEP 1 expect transcript out" in shown, rows(app)
        assert shown.index("STEP 0") < shown.index("scripted test.") < shown.index("SCRIPT onscreen-pass"), rows(app)
        assert "✓ SCRIPT onscreen-pass passed" in screen.summary.plain
        assert app.notices[-1][0] == "information"
        # Step lines are ours: never in the exported transcript.
        session = app.session
        assert session is not None
        exported = collect_lines(session)
        assert any(ln.text == "Your order has shipped." for ln in exported)
        assert not [ln for ln in exported if "STEP" in ln.text or "SCRIPT" in ln.text]
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app.return_code is not None, "the console to quit")
    assert app.return_code == 0


async def test_a_failing_script_names_the_kind_and_exits_1(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app(script=scenario(tmp_path, "onscreen-fail", FAILING))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.call_screen
        await wait_until(pilot, lambda: app.runtime.script and app.runtime.script.finished, "the script to end", 40)
        await wait_until(pilot, lambda: "failed" in screen.summary.plain, "the verdict in the summary")
        steps = step_lines(screen.transcript.lines)
        assert steps[0].startswith("STEP 0 expect call progressing ✓ ")
        assert steps[1].startswith('STEP 1 expect transcript out contains "the scripted quiz" within 1s ✗ timeout: ')
        assert "closest" in steps[1], steps[1]
        assert "This is the scripted test." in steps[1], steps[1]
        assert not any(s.startswith("STEP 2") for s in steps), "nothing runs after the failed step"
        assert steps[-1].startswith("SCRIPT onscreen-fail failed at step 1 (expect): timeout: not met within 1s")
        assert "✗ SCRIPT onscreen-fail failed at step 1 (expect): timeout" in screen.summary.plain
        assert app.notices[-1][0] == "error"
        # The scenario's clean-up hung the call up, as `voipbin-tui test` does.
        session = app.session
        assert session is not None
        assert not session.is_live
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app.return_code is not None, "the console to quit")
    assert app.return_code == 1


def test_a_bad_script_is_refused_before_the_screen_opens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import main

    bad = tmp_path / "bad.scenario.yaml"
    bad.write_text(HEAD.format(name="bad") + "  - expect: {call: flying}\n", encoding="utf-8")
    assert main(["--script", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"voipbin-tui --script: {bad}:12:14: steps[0].expect.call" in err, err
    assert "progressing" in err
