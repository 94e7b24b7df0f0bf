"""A widget's drawing must never take the console down: a failed render is logged and shown as such."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TypeVar

from textual.content import Content

log = logging.getLogger("tui.ui")

W = TypeVar("W")


def safe_render(render: Callable[[W], Content]) -> Callable[[W], Content]:
    @functools.wraps(render)
    def guarded(self: W) -> Content:
        try:
            return render(self)
        except Exception:
            log.exception("%s could not draw itself", type(self).__name__)
            return Content.styled("(could not draw this part; see the log)", "$error")

    return guarded
