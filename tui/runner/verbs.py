"""Step verbs → the operations they run. The only place that knows this mapping.

The verbs are the console's action ids (design §11); when the shared action registry lands, this table
becomes a lookup in it. ``wait`` and ``expect`` are the runner's own and live in the engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tui.session.call_session import CallSession


class Phone(Protocol):
    """The far end of a sandbox call (the sandbox control API)."""

    async def answer(self, call_id: str) -> None: ...
    async def reject(self, call_id: str) -> None: ...
    async def hangup(self, call_id: str) -> None: ...
    async def speak(self, call_id: str, text: str) -> None: ...
    async def faults(self, **faults: Any) -> None: ...


class StepError(Exception):
    """A verb that could not run (no call yet, no phone); the engine reports it as a failure."""


@dataclass(slots=True)
class VerbContext:
    session: CallSession
    phone: Phone | None

    def call_id(self) -> str:
        call = self.session.call
        if call is not None:
            return call.id
        ids = sorted(self.session.call_ids)
        if not ids:
            raise StepError("there is no call yet")
        return ids[0]

    def need_phone(self) -> Phone:
        if self.phone is None:
            raise StepError("this verb needs the sandbox's phone")
        return self.phone


Operation = Callable[[VerbContext, Any], Awaitable[None]]


async def _say(ctx: VerbContext, arg: Any) -> None:
    ctx.session.say(arg.text)


async def _flush(ctx: VerbContext, arg: Any) -> None:
    await ctx.session.flush()


async def _stop(ctx: VerbContext, arg: Any) -> None:
    await ctx.session.stop_speaking()


async def _open(ctx: VerbContext, arg: Any) -> None:
    await ctx.session.open_speaking()


async def _resend(ctx: VerbContext, arg: Any) -> None:
    ctx.session.resend()


async def _hangup(ctx: VerbContext, arg: Any) -> None:
    await ctx.session.hangup()


async def _phone_answer(ctx: VerbContext, arg: Any) -> None:
    await ctx.need_phone().answer(ctx.call_id())


async def _phone_reject(ctx: VerbContext, arg: Any) -> None:
    await ctx.need_phone().reject(ctx.call_id())


async def _phone_hangup(ctx: VerbContext, arg: Any) -> None:
    await ctx.need_phone().hangup(ctx.call_id())


async def _phone_say(ctx: VerbContext, arg: Any) -> None:
    await ctx.need_phone().speak(ctx.call_id(), arg.text)


async def _fault(ctx: VerbContext, arg: Any) -> None:
    await ctx.need_phone().faults(**arg.body())


OPERATIONS: dict[str, Operation] = {
    "say": _say,
    "flush": _flush,
    "stop_speaking": _stop,
    "open_speaking": _open,
    "resend": _resend,
    "hangup": _hangup,
    "phone.answer": _phone_answer,
    "phone.reject": _phone_reject,
    "phone.hangup": _phone_hangup,
    "phone.say": _phone_say,
    "sandbox.fault": _fault,
}

# Verbs that act on the sandbox's simulated far end: skipped, with a reason, on the real service.
SANDBOX_ONLY = frozenset({"phone.answer", "phone.reject", "phone.hangup", "phone.say", "sandbox.fault"})
RUNNER_VERBS = frozenset({"wait", "expect"})
