"""Request decoding with Go ``encoding/json`` semantics, as gin's ``BindJSON`` applies them.

- only the first JSON value of the body is read (trailing bytes are ignored); an empty body fails;
- object keys match struct fields case-insensitively, the last duplicate wins;
- ``null`` leaves a field at its zero value; a value of the wrong JSON type fails the whole body.
"""

from __future__ import annotations

import json
from typing import Any

from tui.sandbox import errors


def _reject_constant(name: str) -> Any:
    # Go has no NaN/Infinity literals in JSON.
    raise ValueError(name)


_decoder = json.JSONDecoder(parse_constant=_reject_constant)


def decode_body(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.invalid_json_body() from exc
    text = text.lstrip(" \t\r\n")
    if not text:
        raise errors.invalid_json_body()
    try:
        value, _ = _decoder.raw_decode(text)
    except (ValueError, RecursionError) as exc:
        # Go's decoder stops at 10000 levels of nesting with a syntax error; Python's recursion limit
        # comes first, and must be a 400 as well, never a crash.
        raise errors.invalid_json_body() from exc
    return value


def decode_object(raw: bytes) -> dict[str, Any]:
    """A body bound to a struct: must be an object (``null`` binds nothing)."""
    value = decode_body(raw)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.invalid_json_body()
    return value


def field_value(data: dict[str, Any], key: str) -> Any:
    found: Any = None
    for name, value in data.items():
        if name == key or name.lower() == key:
            found = value
    return found


def opt_str(data: dict[str, Any], key: str) -> str | None:
    value = field_value(data, key)
    if value is None or isinstance(value, str):
        return value
    raise errors.invalid_json_body()
