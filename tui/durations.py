"""Durations as people type them: ``600s``, ``10m``, ``600000ms`` (the dial form, scenario files).

Standard library only: the console's first paint and the scenario runner both import it.
"""

from __future__ import annotations


def parse_sleep(text: str) -> int:
    """Sleep duration as typed in the dial form → milliseconds.

    ``600`` and ``600s`` are seconds, ``10m`` minutes, ``600000ms`` milliseconds; plain numbers of
    10 000 or more are taken as milliseconds (the API's unit), so a pasted ``600000`` works too.
    """
    value = text.strip().lower().replace(" ", "").replace("_", "")
    if not value:
        raise ValueError("sleep is empty")
    units = (("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000))
    for suffix, factor in units:
        if value.endswith(suffix) and value[: -len(suffix)].replace(".", "", 1).isdigit():
            return int(float(value[: -len(suffix)]) * factor)
    if value.replace(".", "", 1).isdigit():
        number = float(value)
        return int(number) if number >= 10_000 else int(number * 1000)
    raise ValueError(f"cannot read sleep {text!r}: use e.g. 600s, 10m or 600000ms")


def sleep_text(ms: int) -> str:
    if ms % 60_000 == 0 and ms >= 60_000:
        return f"{ms // 60_000}m"
    if ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms}ms"
