"""Remote text on screen: always plain (never markup), always through ``tui.voipbin.safetext``.

Every widget that shows text someone else wrote builds it here:

- ``plain(text)`` – a ``Content`` of one line; markup is never parsed, controls are visible escapes;
- ``plain_text(text)`` – the same as a Rich ``Text`` (what ``Select`` options and line views draw);
- ``one_line(text, limit)`` – a bounded single line (whitespace folded) for notices and last words;
- ``assemble(*parts)`` – ``Content.assemble`` with every string part made safe (a part made only of
  newlines is our own line break and is kept);
- ``markup(template, **values)`` – our own markup with ``$name`` placeholders: the values are put in
  after the tags are parsed, so no value can open or close a tag, and they are made safe first.
"""

from __future__ import annotations

from typing import Final

from rich.text import Text
from textual.content import Content

from tui.voipbin.safetext import TRUNCATION_MARK, safe_line, safe_prefix, safe_text

Part = str | tuple[str, str] | Content

# What one piece of remote text may take on screen: enough for any real message, and a 5 MB error text
# costs no more to draw than this.
SHOWN_LIMIT: Final[int] = 2000


def clean(text: object, limit: int | None = SHOWN_LIMIT) -> str:
    return safe_line(text if isinstance(text, str) else str(text), limit)


def plain(text: object, style: str = "", *, limit: int | None = SHOWN_LIMIT) -> Content:
    content = Content(clean(text, limit))
    return content.stylize(style) if style else content


def plain_text(text: object, style: str = "", *, limit: int | None = SHOWN_LIMIT) -> Text:
    return Text(clean(text, limit), style=style, end="")


def _part(part: Part) -> Part:
    if isinstance(part, Content):
        return part
    if isinstance(part, str):
        return part if part and not part.strip("\n") else clean(part)
    text, style = part
    return (clean(text), style)


def assemble(*parts: Part) -> Content:
    return Content.assemble(*[_part(p) for p in parts])


def multiline(text: object, style: str = "", *, limit: int | None = SHOWN_LIMIT) -> Content:
    """Remote text whose own line breaks are kept (and only those)."""
    value = text if isinstance(text, str) else str(text)
    content = Content(safe_text(value, newlines=True, limit=limit))
    return content.stylize(style) if style else content


def one_line(text: object, limit: int = SHOWN_LIMIT) -> str:
    """Remote text as one line of at most about ``limit`` characters: runs of whitespace (line breaks
    included) become one space, controls are escaped, a cut ends with ``… (N more chars)``."""
    value = text if isinstance(text, str) else str(text)
    # Folding only needs the part that can be shown; a 5 MB message is never split whole.
    head = value[: limit * 4 + 16]
    folded = " ".join(head.split())
    shown, consumed = safe_prefix(folded, limit)
    more = len(value) - len(head) + len(folded) - consumed
    return shown + TRUNCATION_MARK.format(more=more) if more > 0 else shown


def markup(template: str, **values: object) -> Content:
    return Content.from_markup(template, **{name: clean(value) for name, value in values.items()})
