"""The command palette's entries: the registry's actions, by title, with their key and slash command."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.actions.keys import how_to
from tui.actions.registry import ACTIONS, ActionState
from tui.ui.keymap import textual_action


@dataclass(frozen=True, slots=True)
class PaletteEntry:
    title: str
    help: str
    action: str


def palette_entries(state: ActionState, keys: Mapping[str, str]) -> list[PaletteEntry]:
    """Every action a person can invoke on this target, for the palette (ctrl+p)."""
    entries = []
    for decl in ACTIONS:
        if (decl.widget and not decl.slash) or decl.id in ("scroll_up", "scroll_down", "say"):
            continue
        if decl.availability(state) == "hidden":
            continue
        if decl.arg:
            # An action that needs an argument is typed: the palette starts the command in the say box.
            entries.append(
                PaletteEntry(decl.title, f"{decl.description} ({decl.usage})", f"prefill({decl.slash[0] + ' '!r})")
            )
            continue
        how = how_to(decl.id, keys)
        entries.append(
            PaletteEntry(decl.title, f"{decl.description}" + (f" ({how})" if how else ""), textual_action(decl))
        )
    return entries


@runtime_checkable
class _PaletteHost(Protocol):
    def palette_entries(self) -> list[PaletteEntry]: ...


class ConsoleCommands(Provider):
    """The console's actions in Textual's command palette (ctrl+p)."""

    def _entries(self) -> list[PaletteEntry]:
        app = self.app
        return app.palette_entries() if isinstance(app, _PaletteHost) else []

    async def discover(self) -> Hits:
        for entry in self._entries():
            yield DiscoveryHit(entry.title, partial(self.app.run_action, entry.action), help=entry.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self._entries():
            score = max(matcher.match(entry.title), matcher.match(entry.help) * 0.5)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(entry.title),
                    partial(self.app.run_action, entry.action),
                    text=entry.title,
                    help=entry.help,
                )
