"""Slash commands of the say box, and the command palette entries (the same actions, by name)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Literal, Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.ui.keymap import SPECS_BY_ID, key_label


@dataclass(frozen=True, slots=True)
class SlashCommand:
    name: str
    help: str
    action: str | None = None
    arg: str = ""
    sandbox_only: bool = False
    binding: str | None = None

    @property
    def usage(self) -> str:
        return f"/{self.name}" + (f" {self.arg}" if self.arg else "")


SLASH_COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("flush", "cut what is being spoken and clear the queue", "flush", binding="flush"),
    SlashCommand(
        "stop", "stop the speaking stream (VoIPBIN cannot resume it)", "stop_speaking", binding="stop_speaking"
    ),
    SlashCommand("speak", "open a new speaking stream (reopen after /stop)", "open_speaking", binding="open_speaking"),
    SlashCommand("resend", "say the last failed or flushed line again", "resend", binding="resend"),
    SlashCommand("hangup", "hang up the call", "hangup", binding="hangup"),
    SlashCommand("dial", "open the dial form for a new call", "new_call", binding="new_call"),
    SlashCommand("attach", "follow an existing call or groupcall", arg="CALL_ID"),
    SlashCommand("export", "save the transcript as Markdown, JSONL and SRT", "export", binding="export"),
    SlashCommand("log", "show or hide the raw event log", "toggle_log", binding="toggle_log"),
    SlashCommand("help", "keys and commands", "help", binding="help"),
    SlashCommand("quit", "quit (asks first while a call is live)", "request_quit", binding="quit"),
    SlashCommand("caller", "the sandbox phone says TEXT (an `in` line)", arg="TEXT", sandbox_only=True),
    SlashCommand("answer", "the sandbox phone answers", "phone_answer", sandbox_only=True, binding="phone_answer"),
    SlashCommand("reject", "the sandbox phone declines", "phone_reject", sandbox_only=True, binding="phone_reject"),
    SlashCommand(
        "phonehangup", "the sandbox phone hangs up", "phone_hangup", sandbox_only=True, binding="phone_hangup"
    ),
)

COMMANDS_BY_NAME: dict[str, SlashCommand] = {c.name: c for c in SLASH_COMMANDS}


@dataclass(frozen=True, slots=True)
class ParsedLine:
    kind: Literal["empty", "say", "command"]
    text: str = ""
    name: str = ""
    arg: str = ""


def parse_line(raw: str) -> ParsedLine:
    """What the user typed: text to say, a ``/command [arg]``, or nothing. ``//x`` says ``/x``."""
    text = raw.strip()
    if not text:
        return ParsedLine("empty")
    if text.startswith("//"):
        return ParsedLine("say", text[1:])
    if text.startswith("/"):
        name, _, arg = text[1:].partition(" ")
        return ParsedLine("command", text, name.lower(), arg.strip())
    return ParsedLine("say", text)


def available_commands(sandbox: bool) -> list[SlashCommand]:
    return [c for c in SLASH_COMMANDS if sandbox or not c.sandbox_only]


@dataclass(frozen=True, slots=True)
class PaletteEntry:
    title: str
    help: str
    action: str


def palette_entries(sandbox: bool, keys: Mapping[str, str]) -> list[PaletteEntry]:
    """Every console action for the command palette, with its key and slash command in the help."""
    entries = []
    for spec in SPECS_BY_ID.values():
        if spec.sandbox_only and not sandbox:
            continue
        if spec.id in ("scroll_up", "scroll_down"):
            continue
        how = [key_label(keys.get(spec.id, spec.keys))]
        if spec.slash:
            how.append(spec.slash)
        entries.append(PaletteEntry(spec.description, f"{spec.tooltip} ({' · '.join(how)})", spec.action))
    if sandbox:
        entries.append(
            PaletteEntry(
                "Caller line", "Type a line for the sandbox phone to say (/caller TEXT)", "prefill('/caller ')"
            )
        )
    entries.append(
        PaletteEntry("Attach to a call", "Follow an existing call by id (/attach CALL_ID)", "prefill('/attach ')")
    )
    entries.append(
        PaletteEntry("Follow the transcript", "Jump to the newest line and keep following", "follow_transcript")
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
