"""Schema errors in a TOML scenario point at the table or inline key that is wrong, not the first of its name."""

from __future__ import annotations

import pytest

from tui.runner.loader import ScenarioError, load_scenario_text
from tui.runner.toml_positions import toml_positions

SCENARIO = """\
version = 1
name = "positions"

[call]
destination = { type = "extension", target = "quickstart-phone" }
actions = [
  { transcribe_start = { language = "en-US" } },   # a comment with [brackets] and "quotes"
  { talk = { text = "a \\"quoted\\" line, with ] and }" } },
]

[[steps]]
expect = { call = "progressing", within = "10s" }

[[steps]]
say = '''
several lines
'''

[[steps]]
expect = { say = "last", state = "heard", within = "soon" }
"""


def test_scanner_finds_tables_inline_keys_and_array_elements() -> None:
    pos = toml_positions(SCENARIO)
    assert pos[("call", "destination", "target")] == (5, 37)
    assert pos[("call", "actions", 1)] == (8, 3)
    assert pos[("call", "actions", 1, "talk", "text")] == (8, 14)
    assert pos[("steps", 0, "expect", "within")] == (12, 34)
    assert pos[("steps", 1, "say")] == (15, 1)
    assert pos[("steps", 2)] == (19, 1)
    assert pos[("steps", 2, "expect", "within")] == (20, 43)


def test_a_bad_value_in_the_third_steps_table_is_reported_there() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(SCENARIO, toml=True, path="s.toml")
    [problem] = info.value.problems
    assert (problem.line, problem.column) == (20, 43), str(problem)
    assert "steps[2].expect.within" in str(problem)


def test_nested_array_of_tables_and_dotted_keys() -> None:
    text = '[[a]]\nx = 1\n[[a]]\n[[a.b]]\nc.d = 2\n[[a.b]]\nc.d = 3\n"quoted key" = 4\n'
    pos = toml_positions(text)
    assert pos[("a", 1, "b", 0, "c", "d")] == (5, 1)
    assert pos[("a", 1, "b", 1, "c", "d")] == (7, 1)
    assert pos[("a", 1, "b", 1, "quoted key")] == (8, 1)
