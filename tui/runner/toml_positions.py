"""Where each key and array element of a TOML document starts, for located schema errors.

``tomllib`` keeps no positions, and a schema problem in the sixth ``[[steps]]`` table must point at that
table, not at the first ``expect`` in the file. The document has already parsed (this runs only after
``tomllib.loads`` succeeded), so the scanner can be small: it follows tables, arrays of tables, dotted
keys, inline tables and arrays (over several lines too) and skips strings and comments.
"""

from __future__ import annotations

import bisect
import re

KeyPath = tuple[int | str, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.positions: dict[KeyPath, tuple[int, int]] = {}
        # Arrays of tables: how many elements each has so far (their paths are resolved, indices included).
        self.table_arrays: dict[KeyPath, int] = {}

    def where(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def note(self, path: KeyPath, offset: int) -> None:
        self.positions.setdefault(path, self.where(offset))

    def peek(self, n: int = 1) -> str:
        return self.text[self.i : self.i + n]

    def skip_blank(self, *, newlines: bool) -> None:
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self.i += 1
            elif ch == "#":
                end = self.text.find("\n", self.i)
                self.i = len(self.text) if end < 0 else end
            else:
                return

    def key(self) -> tuple[list[str], int]:
        """A dotted key and the offset of its first part."""
        parts: list[str] = []
        start = self.i
        while True:
            self.skip_blank(newlines=False)
            if self.peek() in ('"', "'"):
                parts.append(self.string())
            else:
                m = _BARE_KEY.match(self.text, self.i)
                if m is None:
                    raise ValueError(f"no key at offset {self.i}")
                parts.append(m.group())
                self.i = m.end()
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return parts, start
            self.i += 1

    def string(self) -> str:
        for quote in ('"""', "'''", '"', "'"):
            if self.text.startswith(quote, self.i):
                break
        begin = self.i + len(quote)
        j = begin
        while True:
            end = self.text.find(quote, j)
            if end < 0:
                raise ValueError("unterminated string")
            if quote[0] == '"' and _escaped(self.text, begin, end):
                j = end + 1
                continue
            # A multi-line string may end with up to two extra quote characters before its delimiter.
            while len(quote) == 3 and self.text.startswith(quote[0], end + 3):
                end += 1
            self.i = end + len(quote)
            return self.text[begin:end]

    def resolve(self, parts: list[str]) -> KeyPath:
        """A header's key path with the current element of every array of tables it passes through."""
        path: KeyPath = ()
        for part in parts:
            path = (*path, part)
            if path in self.table_arrays:
                path = (*path, self.table_arrays[path] - 1)
        return path

    def document(self) -> dict[KeyPath, tuple[int, int]]:
        table: KeyPath = ()
        while True:
            self.skip_blank(newlines=True)
            if self.i >= len(self.text):
                return self.positions
            start = self.i
            if self.peek(2) == "[[":
                self.i += 2
                parts, _ = self.key()
                self.i = self.text.index("]]", self.i) + 2
                parent = self.resolve(parts[:-1])
                array = (*parent, parts[-1])
                self.table_arrays[array] = self.table_arrays.get(array, 0) + 1
                table = (*array, self.table_arrays[array] - 1)
                self.note(array, start)
                self.note(table, start)
            elif self.peek() == "[":
                self.i += 1
                parts, _ = self.key()
                self.i = self.text.index("]", self.i) + 1
                table = self.resolve(parts)
                self.note(table, start)
            else:
                self.pair(table)

    def pair(self, table: KeyPath) -> None:
        parts, start = self.key()
        path = (*table, *parts)
        for n in range(1, len(parts) + 1):
            self.note((*table, *parts[:n]), start)
        self.skip_blank(newlines=False)
        if self.peek() != "=":
            raise ValueError(f"expected '=' at offset {self.i}")
        self.i += 1
        self.skip_blank(newlines=False)
        self.value(path)

    def value(self, path: KeyPath) -> None:
        ch = self.peek()
        if ch in ('"', "'"):
            self.string()
        elif ch == "{":
            self.i += 1
            while True:
                self.skip_blank(newlines=True)
                if self.peek() == "}":
                    self.i += 1
                    return
                if self.peek() == ",":
                    self.i += 1
                    continue
                self.pair(path)
        elif ch == "[":
            self.i += 1
            index = 0
            while True:
                self.skip_blank(newlines=True)
                if self.peek() == "]":
                    self.i += 1
                    return
                if self.peek() == ",":
                    self.i += 1
                    index += 1
                    continue
                self.note((*path, index), self.i)
                self.value((*path, index))
        else:
            m = re.compile(r"[^,\]}\n#]*").match(self.text, self.i)
            self.i = m.end() if m else self.i + 1


def _escaped(text: str, begin: int, end: int) -> bool:
    backslashes = 0
    k = end - 1
    while k >= begin and text[k] == "\\":
        backslashes += 1
        k -= 1
    return backslashes % 2 == 1


def toml_positions(text: str) -> dict[KeyPath, tuple[int, int]]:
    """Each key path (array indices included) → (line, column) where it is first written; {} if unreadable."""
    try:
        return _Scanner(text).document()
    except (ValueError, IndexError):
        return {}


def toml_position(positions: dict[KeyPath, tuple[int, int]], loc: KeyPath) -> tuple[int, int] | None:
    """The position (from ``toml_positions``) of the deepest prefix of ``loc`` the document writes, or None."""
    for n in range(len(loc), 0, -1):
        found = positions.get(loc[:n])
        if found is not None:
            return found
    return None
