"""Finding a call to attach to: a unique id prefix, or a short list of live and recent calls.

``/attach`` takes what a person can read off a screen (the first characters of an id) as well as the
full UUID. A prefix is resolved against ``GET /calls`` and, when the client offers it, ``GET /groupcalls``;
a prefix that matches nothing or more than one id is refused with words that say what to type instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tui.voipbin.errors import VoipbinError

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# One page each is plenty for a person picking a call; more would only slow the list down.
PAGE_SIZE = 100
LIVE_STATUSES = ("dialing", "ringing", "progressing", "terminating", "canceling")
NEED = "give the full call id (a UUID) or a longer prefix"


class CallLookupError(Exception):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class CallChoice:
    """One line of the pick list: a call or a groupcall."""

    id: str
    kind: str  # "call" or "groupcall"
    status: str
    destination: str
    created: datetime | None

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES or (self.kind == "groupcall" and self.status == "progressing")


def is_full_id(text: str) -> bool:
    return bool(UUID_RE.match(text.strip().lower()))


async def list_choices(client: Any) -> list[CallChoice]:
    """Live calls first, then the most recent; groupcalls too when the client can list them."""
    choices: list[CallChoice] = []
    page = await client.list_calls(page_size=PAGE_SIZE)
    for call in page.result:
        if not call.id:
            continue
        dest = call.destination.display() if call.destination is not None else ""
        choices.append(CallChoice(call.id, "call", call.status or "?", dest, call.tm_create))
    list_groupcalls = getattr(client, "list_groupcalls", None)
    if callable(list_groupcalls):
        try:
            gpage = await list_groupcalls(page_size=PAGE_SIZE)
        except VoipbinError:
            gpage = None  # an older service without the list: calls alone still work
        for gc in getattr(gpage, "result", None) or []:
            if not gc.id:
                continue
            dest = ", ".join(d.display() for d in gc.destinations[:2])
            choices.append(CallChoice(gc.id, "groupcall", gc.status or "?", dest, gc.tm_create))
    stamp = {c.id: (c.created.timestamp() if c.created is not None else 0.0) for c in choices}
    choices.sort(key=lambda c: (not c.live, -stamp[c.id]))
    return choices


async def resolve_call_id(client: Any, text: str) -> str:
    """The full id that ``text`` names: itself when it is a UUID, else the one id that starts with it."""
    wanted = text.strip().lower()
    if not wanted:
        raise CallLookupError("no call id given", NEED)
    if is_full_id(wanted):
        return wanted
    if not re.fullmatch(r"[0-9a-f-]+", wanted):
        raise CallLookupError(f"{text.strip()!r} is not a call id", NEED)
    try:
        choices = await list_choices(client)
    except VoipbinError as exc:
        raise CallLookupError(f"cannot look up calls starting with {wanted}: {exc}", NEED) from exc
    matches = sorted({c.id for c in choices if c.id.lower().startswith(wanted)})
    if not matches:
        raise CallLookupError(f"no call or groupcall id starts with {wanted}", NEED)
    if len(matches) > 1:
        shown = ", ".join(m[: len(wanted) + 4] + "…" for m in matches[:4])
        more = f" and {len(matches) - 4} more" if len(matches) > 4 else ""
        raise CallLookupError(f"{wanted} matches {len(matches)} calls ({shown}{more})", NEED)
    return matches[0]
