"""Scenario files: the schema, its JSON Schema export, located errors, ${VAR} substitution."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tui.runner.loader import ScenarioError, load_scenario, load_scenario_text, substitute
from tui.runner.schema import json_schema

EXAMPLES = sorted((Path(__file__).parents[2] / "examples" / "scenarios").glob("*.scenario.*"))


def problems_of(text: str, *, toml: bool = False) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, toml=toml, path="s.yaml")
    return [str(p) for p in info.value.problems]


def test_examples_exist_and_validate_against_model_and_json_schema() -> None:
    assert len(EXAMPLES) >= 3
    schema = json_schema()
    for path in EXAMPLES:
        scenario = load_scenario(path)
        assert scenario.steps, path
        if path.suffix == ".yaml":
            jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_issue_vocabulary_reads_with_durations_and_short_action_forms() -> None:
    s = load_scenario_text(
        """
version: 1
name: seed
call:
  actions:
    - transcribe_start: {language: en-US}
    - {type: talk, option: {text: hi}}
    - sleep: 10m
steps:
  - expect: {call: progressing, within: 600000ms}
  - expect: {transcript: in, regex: "(?i)refund", absent: true, for: 2s}
  - phone.say: "Thank you"
  - sandbox.fault: {drop_websockets: true}
  - hangup:
  - wait: 1.5
"""
    )
    assert s.call is not None
    assert [a.model_dump() for a in s.call.actions] == [
        {"type": "transcribe_start", "option": {"language": "en-US"}},
        {"type": "talk", "option": {"text": "hi"}},
        {"type": "sleep", "option": {"duration": 600_000}},
    ]
    assert [st.verb for st in s.steps] == ["expect", "expect", "phone.say", "sandbox.fault", "hangup", "wait"]
    assert s.steps[0].expect is not None
    assert s.steps[0].expect.within == 600.0
    assert s.steps[1].expect is not None
    assert s.steps[1].expect.for_ == 2.0
    assert s.steps[5].wait == 1.5


def test_yaml_errors_name_line_and_column() -> None:
    text = "version: 1\nname: x\nsteps:\n  - say: hi\n  - shout: hello\n"
    (problem,) = problems_of(text)
    assert problem.startswith("s.yaml:5:5: steps[1]")


def test_yaml_syntax_error_is_located() -> None:
    (problem,) = problems_of("name: x\nsteps: [\n  - say: hi\n")
    assert problem.startswith("s.yaml:3:")
    assert "YAML" in problem


def test_toml_errors_are_located() -> None:
    (problem,) = problems_of('version = 1\nname = "x"\n\n[[steps]]\nexpect = {call = "answered"}\n', toml=True)
    assert problem.startswith("s.yaml:5:11: steps[0].expect.call")
    (syntax,) = problems_of('name = "x"\nsteps = [\n', toml=True)
    assert syntax.startswith("s.yaml:3:")


def test_toml_scenario_reads() -> None:
    s = load_scenario_text(
        'version = 1\nname = "t"\n[sandbox]\nspeed = 20\n[[steps]]\nexpect = {call = "progressing", within = "5s"}\n'
        "[[steps]]\nhangup = {}\n",
        toml=True,
    )
    assert s.sandbox.speed == 20
    assert [st.verb for st in s.steps] == ["expect", "hangup"]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("{say: hi, hangup: {}}", "exactly one verb"),
        ("{expect: {within: 5s}}", "exactly one of call, transcript"),
        ("{expect: {transcript: in, contains: a, regex: b}}", "use one of contains"),
        ("{expect: {transcript: in, contains: a, absent: true}}", "absent needs `for`"),
        ("{expect: {transcript: in, regex: '('}}", "bad regex"),
        ("{wait: soon}", "600s, 10m or 600000ms"),
        ("{sandbox.fault: {explode: true}}", "explode"),
    ],
)
def test_bad_steps_say_what_is_wrong(step: str, message: str) -> None:
    problems = problems_of(f"name: x\nsteps:\n  - {step}\n")
    assert any(message in p and p.startswith("s.yaml:3:") for p in problems), problems


def test_variables_substitute_with_defaults_and_missing_ones_are_errors() -> None:
    env = {"DEST": "2000", "EMPTY": ""}
    data: Any = {"a": "${DEST}", "b": ["x-${MISSING:-fallback}", "${EMPTY:-d}"], "c": "$$5", "d": 3}
    assert substitute(data, env) == {"a": "2000", "b": ["x-fallback", "d"], "c": "$5", "d": 3}
    problems = problems_of("name: x\ncall:\n  source: '+1555'\n  destination: ${NOPE_NOT_SET}\n")
    assert problems == ["s.yaml:4:16: ${NOPE_NOT_SET} is not set (use ${NOPE_NOT_SET:-default})"]


def test_json_schema_rejects_what_the_model_rejects() -> None:
    schema = json_schema()
    jsonschema.validate({"name": "ok", "steps": [{"phone.say": "hi"}, {"expect": {"call": "hangup"}}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "ok", "steps": [{"say": "a", "hangup": {}}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "ok", "steps": [{"dance": {}}]}, schema)
