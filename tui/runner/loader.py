"""Reading scenario files: YAML (``yaml.safe_load``) or TOML, ``${VAR}`` substitution, located errors.

A scenario file is someone else's text: it is parsed as data only, and every problem is reported as
``file:line:column: message`` so a person (or an agent) can go straight to it.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tui.runner.schema import Scenario
from tui.runner.toml_positions import KeyPath, toml_position, toml_positions

SUFFIXES = (".yaml", ".yml", ".toml")
# The names the pytest plugin collects by itself; a file named on the command line is read whatever its name.
SCENARIO_SUFFIXES = tuple(f".scenario{s}" for s in SUFFIXES)
MAX_FILE_BYTES = 1_000_000
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class ScenarioError(Exception):
    """A file that is not a valid scenario; ``problems`` has one entry per mistake."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def is_scenario_name(path: Path) -> bool:
    return path.name.endswith(SCENARIO_SUFFIXES)


def substitute(value: Any, env: dict[str, str] | None = None, *, where: list[str] | None = None) -> Any:
    """``${VAR}`` and ``${VAR:-default}`` in every string; ``$$`` is a literal ``$``. Unset without a
    default is an error (a scenario that silently dials an empty number helps nobody)."""
    environ = os.environ if env is None else env
    missing = where if where is not None else []

    def one(text: str) -> str:
        def repl(m: re.Match[str]) -> str:
            if m.group(0) == "$$":
                return "$"
            name, default = m.group(1), m.group(2)
            found = environ.get(name)
            if found is None or (found == "" and default is not None):
                if default is None:
                    missing.append(name)
                    return ""
                return default
            return found

        return _VAR.sub(repl, text)

    if isinstance(value, str):
        return one(value)
    if isinstance(value, list):
        return [substitute(v, env, where=missing) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, env, where=missing) for k, v in value.items()}
    return value


def read_text(path: Path) -> str:
    if path.suffix not in SUFFIXES:
        raise ScenarioError([Problem(str(path), 1, 1, "a scenario file ends in .yaml, .yml or .toml")])
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError([Problem(str(path), 1, 1, f"cannot read: {exc.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([Problem(str(path), 1, 1, f"larger than {MAX_FILE_BYTES} bytes")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(str(path), 1, 1, f"not UTF-8 ({exc.reason} at byte {exc.start})")]) from None


def parse_text(text: str, path: str, *, toml: bool) -> tuple[Any, Any]:
    """The data and a position index (a YAML node tree, or None for TOML)."""
    if toml:
        try:
            return tomllib.loads(text), None
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
            if m:
                line, col = int(m.group(1)), int(m.group(2))
            elif "end of document" in str(exc):
                line, col = text.count("\n") + 1, len(text.rsplit("\n", 1)[-1]) + 1
            else:
                line, col = 1, 1
            message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc)) or "TOML syntax error"
            raise ScenarioError([Problem(path, line, col, message)]) from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = getattr(exc, "problem", None) or "YAML syntax error"
        raise ScenarioError([Problem(path, line, col, f"YAML: {problem}")]) from None
    return data, node


def _yaml_position(node: Any, loc: tuple[int | str, ...]) -> tuple[int, int]:
    best = (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for key, value in node.value:
                if key.value == part:
                    best = (key.start_mark.line + 1, key.start_mark.column + 1)
                    nxt = value
                    break
            if nxt is None:
                return best
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            best = (node.start_mark.line + 1, node.start_mark.column + 1)
        else:
            return best
    return best


def _toml_position(text: str, positions: dict[KeyPath, tuple[int, int]], loc: tuple[int | str, ...]) -> tuple[int, int]:
    found = toml_position(positions, loc)
    if found is not None:
        return found
    # The scanner did not follow this document: the last named key's first definition is close enough.
    for part in reversed(loc):
        if isinstance(part, str):
            pattern = re.compile(rf'^\s*(\[+\s*)?([\w.-]*\.)?"?{re.escape(part)}"?\s*(=|\]|\.)', re.MULTILINE)
            m = pattern.search(text)
            if m:
                line = text.count("\n", 0, m.start()) + 1
                col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
                return line, col + len(m.group(0)) - len(m.group(0).lstrip())
    return 1, 1


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # pydantic adds the names of validators and union members ("function-after[...]", "str"); the file has none.
    return tuple(p for p in loc if isinstance(p, int) or (not any(c in p for c in "[]()") and p != "str"))


def _loc_text(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate(data: Any, path: str, *, text: str, node: Any, toml: bool) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError([Problem(path, 1, 1, "a scenario file is a mapping (name, call, steps, …)")])
    missing: list[str] = []
    data = substitute(data, where=missing)
    problems: list[Problem] = []
    for name in dict.fromkeys(missing):
        problems.append(Problem(path, *_var_position(text, name), f"${{{name}}} is not set (use ${{{name}:-default}})"))
    if problems:
        raise ScenarioError(problems)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        # Scanned once for all of the file's problems.
        positions = toml_positions(text) if toml else {}
        for err in exc.errors():
            loc = _clean_loc(tuple(err["loc"]))
            line, col = _toml_position(text, positions, loc) if toml else _yaml_position(node, loc)
            where = _loc_text(loc)
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(Problem(path, line, col, f"{where}: {msg}" if where else msg))
        raise ScenarioError(_unique(problems)) from None


def _var_position(text: str, name: str) -> tuple[int, int]:
    idx = text.find("${" + name)
    if idx < 0:
        return 1, 1
    return text.count("\n", 0, idx) + 1, idx - (text.rfind("\n", 0, idx) + 1) + 1


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def load_scenario(path: Path) -> Scenario:
    text = read_text(path)
    toml = path.suffix == ".toml"
    data, node = parse_text(text, str(path), toml=toml)
    return validate(data, str(path), text=text, node=node, toml=toml)


def load_scenario_text(text: str, *, toml: bool = False, path: str = "<text>") -> Scenario:
    data, node = parse_text(text, path, toml=toml)
    return validate(data, path, text=text, node=node, toml=toml)


def scenario_files(paths: Sequence[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_scenario_name(p)))
        elif path.suffix in SUFFIXES:
            found.append(path)
    return found
