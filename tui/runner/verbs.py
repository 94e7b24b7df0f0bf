"""Step verbs → the action registry's operations. The only place that knows how a step becomes an action.

The verbs are the registry's action ids (design §11), so a scenario step runs exactly what the console's
key or slash command runs; ``wait`` and ``expect`` are the runner's own and live in the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.actions.context import ActionContext, ActionError, Need, PhoneOps
from tui.actions.registry import action

if TYPE_CHECKING:
    from tui.actions.registry import ActionArg
    from tui.runner.failures import FailureKind
    from tui.sandbox_control import SandboxControl
    from tui.session.call_session import CallSession

STEP_VERBS = (
    "say",
    "flush",
    "stop_speaking",
    "open_speaking",
    "resend",
    "hangup",
    "phone.answer",
    "phone.reject",
    "phone.hangup",
    "phone.say",
    "sandbox.fault",
)
# Verbs that act on the sandbox's simulated far end: skipped, with a reason, on the real service.
SANDBOX_ONLY = frozenset(v for v in STEP_VERBS if action(v).needs & {Need.SANDBOX_PHONE, Need.SANDBOX})
# A step that cannot run because the call is not where the scenario thinks it is.
_STATE_NEEDS = (Need.CALL, Need.LIVE_CALL, Need.SPEAKING)


class StepError(Exception):
    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind


def step_arg(verb: str, arg: Any) -> ActionArg:
    """The schema's argument as the registry's operations take it."""
    if verb in ("say", "phone.say"):
        return str(arg.text)
    if verb == "sandbox.fault":
        body: dict[str, object] = arg.body()
        return body
    return None


async def run_verb(
    verb: str, arg: Any, session: CallSession, control: SandboxControl | None, *, phone: PhoneOps | None = None
) -> object:
    """``phone`` is the headless phone when the scenario has one; otherwise the sandbox's simulated phone."""
    run = action(verb).run
    if run is None:  # pragma: no cover - every step verb has an operation
        raise StepError("error", f"{verb} has no operation")
    context = ActionContext(session=session, phone=phone or control, sandbox=control)
    try:
        return await run(context, step_arg(verb, arg))
    except ActionError as exc:
        kind: FailureKind = "state_mismatch" if exc.missing in _STATE_NEEDS else "error"
        hint = f" ({exc.hint})" if exc.hint else ""
        raise StepError(kind, f"{verb}: {exc.message}{hint}") from None
