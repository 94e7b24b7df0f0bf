"""The theme names the console accepts, without importing Textual (``config check`` must stay light).

The built-in names are Textual's; ``tests/ui/test_theme_names.py`` fails when the pinned Textual's list
differs, so moving the pin updates this list on purpose.
"""

from __future__ import annotations

TEXTUAL_THEMES = frozenset(
    {
        "ansi-dark",
        "ansi-light",
        "atom-one-dark",
        "atom-one-light",
        "catppuccin-frappe",
        "catppuccin-latte",
        "catppuccin-macchiato",
        "catppuccin-mocha",
        "dracula",
        "flexoki",
        "gruvbox",
        "monokai",
        "nord",
        "rose-pine",
        "rose-pine-dawn",
        "rose-pine-moon",
        "solarized-dark",
        "solarized-light",
        "textual-dark",
        "textual-light",
        "tokyo-night",
    }
)
# Our own theme and the aliases ``tui.ui.theme.choose_theme`` understands.
OWN_THEMES = frozenset({"voipbin-dark", "auto", "ansi", "textual-ansi", "dark", "default", ""})
KNOWN_THEMES = TEXTUAL_THEMES | OWN_THEMES


def theme_problem(name: str) -> str | None:
    """Why the console would not use theme ``name`` (it would warn and fall back), or None."""
    if name.strip() in KNOWN_THEMES:
        return None
    known = ", ".join(sorted(n for n in KNOWN_THEMES if n and n not in ("textual-ansi", "dark", "default")))
    return f"ui.theme: unknown theme {name.strip()!r} (themes: {known})"
