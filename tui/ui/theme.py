"""Themes: a dark default, and the terminal's own ANSI colours for SSH sessions that lost truecolor."""

from __future__ import annotations

from collections.abc import Mapping

from textual.theme import Theme

DEFAULT_THEME = "voipbin-dark"
ANSI_THEME = "ansi-dark"

VOIPBIN_DARK = Theme(
    name=DEFAULT_THEME,
    primary="#4FA3F7",
    secondary="#B48EF0",
    accent="#3CC8D8",
    warning="#F2B33D",
    error="#F0605D",
    success="#5CCB7C",
    foreground="#E3E6EB",
    background="#14171C",
    surface="#1C2027",
    panel="#252B34",
    dark=True,
)


def has_truecolor(environ: Mapping[str, str]) -> bool:
    return environ.get("COLORTERM", "").lower() in ("truecolor", "24bit")


def wants_terminal_colors(environ: Mapping[str, str]) -> bool | None:
    """True under NO_COLOR: draw in the terminal's own default colours, whatever the theme.

    Textual picks its NO_COLOR filter once, from the theme in force when the App is built (the default,
    truecolor one): it then maps every colour to grey, and the ANSI theme's "default" colours to black, so
    an SSH session drew black on black. Declaring the terminal's own colours up front makes Textual strip
    colours instead. ``None`` leaves the choice to the theme.
    """
    return True if environ.get("NO_COLOR") is not None else None


def choose_theme(requested: str | None, environ: Mapping[str, str], available: set[str]) -> tuple[str, str | None]:
    """The theme to use and, when the request could not be honoured, why.

    ``auto`` (or nothing) picks the ANSI theme when the terminal does not announce truecolor, which is
    what an SSH session usually looks like: the terminal's own palette beats colours approximated to 256.
    """
    name = (requested or "auto").strip()
    if name in ("", "auto"):
        return (DEFAULT_THEME if has_truecolor(environ) else ANSI_THEME), None
    if name in ("ansi", "textual-ansi"):
        return ANSI_THEME, None
    if name in ("dark", "default"):
        return DEFAULT_THEME, None
    if name in available:
        return name, None
    fallback = DEFAULT_THEME if has_truecolor(environ) else ANSI_THEME
    known = ", ".join(sorted(available | {"auto", "ansi"}))
    return fallback, f"unknown theme {name!r}; using {fallback} (themes: {known})"
