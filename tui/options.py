"""What the command line asked for, the exit codes, and the one rule that picks sandbox or service.

A leaf module (standard library only): the CLI, the console, ``watch`` and the start-up probe import it,
and it imports nothing from ``tui``, so none of them form a cycle through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

Mode = Literal["sandbox", "service"]


def decide_mode(use_sandbox: str, has_credentials: bool, *, force_sandbox: bool = False) -> Mode:
    """Sandbox or service: ``always``/``never`` win, ``auto`` means the sandbox when no credential is set."""
    if force_sandbox or use_sandbox == "always":
        return "sandbox"
    if use_sandbox == "never":
        return "service"
    return "service" if has_credentials else "sandbox"


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    """What the console was asked to do on the command line."""

    config: str | None = None
    profile: str | None = None
    sandbox: bool = False
    dial: bool = False
    attach: str | None = None
    theme: str | None = None
    api_url: str | None = None
    # --script FILE: run that scenario on screen; --allow-real lets it place calls on the real service.
    script: str | None = None
    allow_real: bool = False

    def overrides(self) -> dict[str, object]:
        """Flags as settings overrides (flags beat environment and file)."""
        out: dict[str, object] = {}
        if self.api_url:
            out["api_url"] = self.api_url
        if self.theme:
            out["ui.theme"] = self.theme
        if self.sandbox:
            out["use_sandbox"] = "always"
        return out
