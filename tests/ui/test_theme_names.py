"""The Textual-free theme list that ``config check`` uses matches the pinned Textual."""

from __future__ import annotations

from textual.theme import BUILTIN_THEMES

from tui.theme_names import KNOWN_THEMES, TEXTUAL_THEMES
from tui.ui.theme import DEFAULT_THEME, choose_theme


def test_the_list_is_textuals() -> None:
    assert set(BUILTIN_THEMES) == TEXTUAL_THEMES


def test_every_known_name_is_used_without_a_warning() -> None:
    available = set(BUILTIN_THEMES) | {DEFAULT_THEME}
    for name in KNOWN_THEMES:
        assert choose_theme(name, {}, available)[1] is None, name
