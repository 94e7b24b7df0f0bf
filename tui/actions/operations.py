"""The session operations behind the declared actions (see ``tui.actions.registry``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from tui.actions.context import ActionContext, ActionError, Need, PhoneOps, SessionOps

if TYPE_CHECKING:
    from tui.actions.registry import ActionArg, Operation

PHONE_HINT = "answer and reject work while it rings; speaking and hanging up once answered"


def _session(ctx: ActionContext, *, live: bool = False) -> SessionOps:
    session = ctx.session
    if session is None:
        raise ActionError("no call", missing=Need.CALL)
    if live and not session.is_live:
        raise ActionError("the call is not live", missing=Need.LIVE_CALL)
    return session


def _text(arg: ActionArg, what: str) -> str:
    if not isinstance(arg, str) or not arg.strip():
        raise ActionError(f"{what} needs text")
    return arg


async def say(ctx: ActionContext, arg: ActionArg) -> object:
    text = _text(arg, "say")
    session = _session(ctx)
    if session.phase == "ended":
        raise ActionError("the call has ended")
    if session.phase != "live" and session.phase != "dialing":
        raise ActionError("no call to speak into")
    return session.say(text)


async def resend(ctx: ActionContext, arg: ActionArg) -> object:
    return _session(ctx, live=True).resend()


async def flush(ctx: ActionContext, arg: ActionArg) -> object:
    await _session(ctx, live=True).flush()
    return None


async def stop_speaking(ctx: ActionContext, arg: ActionArg) -> object:
    await _session(ctx, live=True).stop_speaking()
    return None


async def open_speaking(ctx: ActionContext, arg: ActionArg) -> object:
    await _session(ctx, live=True).open_speaking()
    return None


async def hangup(ctx: ActionContext, arg: ActionArg) -> object:
    await _session(ctx, live=True).hangup()
    return None


async def attach(ctx: ActionContext, arg: ActionArg) -> object:
    """Follow ``arg`` (a call or groupcall id) with the context's fresh session."""
    call_id = _text(arg, "attach").strip()
    await _session(ctx).attach(call_id)
    return None


async def new_call(ctx: ActionContext, arg: ActionArg) -> object:
    """Dial the context's request (the configured defaults when the driver gives none)."""
    from tui.session.dial import DialRequest

    await _session(ctx).dial(ctx.dial_request or DialRequest())
    return None


async def export(ctx: ActionContext, arg: ActionArg) -> object:
    """Write the transcript exports; returns their paths."""
    from tui.session.call_session import CallSession
    from tui.session.export import export as write_exports

    session = _session(ctx)
    if session.phase not in ("live", "ended"):
        raise ActionError("nothing to export yet")
    if ctx.export_dir is None:
        raise ActionError("no export directory configured")
    return write_exports(cast(CallSession, session), ctx.export_dir)


def _phone(ctx: ActionContext) -> tuple[PhoneOps, str]:
    if ctx.phone is None:
        raise ActionError(
            "there is no phone: this is not the sandbox and no [phone] table is configured",
            missing=Need.SANDBOX_PHONE,
        )
    call = ctx.session.call if ctx.session is not None else None
    if call is None:
        raise ActionError("no call for the phone yet")
    return ctx.phone, call.id


async def _phone_do(ctx: ActionContext, what: str, text: str | None = None) -> object:
    phone, call_id = _phone(ctx)
    try:
        if what == "answer":
            await phone.answer(call_id)
        elif what == "reject":
            await phone.reject(call_id)
        elif what == "hang up":
            await phone.hangup(call_id)
        else:
            await phone.speak(call_id, text or "")
    except Exception as exc:
        raise ActionError(f"the phone could not {what}: {exc}", hint=PHONE_HINT) from exc
    return None


async def phone_answer(ctx: ActionContext, arg: ActionArg) -> object:
    return await _phone_do(ctx, "answer")


async def phone_reject(ctx: ActionContext, arg: ActionArg) -> object:
    return await _phone_do(ctx, "reject")


async def phone_hangup(ctx: ActionContext, arg: ActionArg) -> object:
    return await _phone_do(ctx, "hang up")


async def phone_say(ctx: ActionContext, arg: ActionArg) -> object:
    return await _phone_do(ctx, "speak", _text(arg, "the phone's line"))


def parse_faults(text: str) -> dict[str, object]:
    """``drop_websockets latency_ms=200 frame_shape=bare`` → the control API's fault object."""
    faults: dict[str, object] = {}
    for word in text.split():
        name, eq, raw = word.partition("=")
        if not name:
            raise ActionError(f"cannot read fault {word!r}", hint="NAME or NAME=VALUE, e.g. latency_ms=200")
        if not eq:
            faults[name] = True
            continue
        value: object
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        else:
            try:
                value = int(raw)
            except ValueError:
                try:
                    value = float(raw)
                except ValueError:
                    value = raw
        faults[name] = value
    return faults


async def sandbox_fault(ctx: ActionContext, arg: ActionArg) -> object:
    """Set faults (a mapping, or ``NAME[=VALUE]`` words); none resets them. Returns the sandbox's reply."""
    if ctx.sandbox is None:
        raise ActionError("fault injection needs the sandbox", missing=Need.SANDBOX)
    faults = dict(arg) if isinstance(arg, Mapping) else parse_faults(arg or "")
    try:
        return await ctx.sandbox.faults(**faults)
    except Exception as exc:
        raise ActionError(f"the sandbox refused the fault: {exc}") from exc


OPERATIONS: dict[str, Operation] = {
    "say": say,
    "resend": resend,
    "flush": flush,
    "stop_speaking": stop_speaking,
    "open_speaking": open_speaking,
    "hangup": hangup,
    "attach": attach,
    "new_call": new_call,
    "export": export,
    "phone.answer": phone_answer,
    "phone.reject": phone_reject,
    "phone.hangup": phone_hangup,
    "phone.say": phone_say,
    "sandbox.fault": sandbox_fault,
}
