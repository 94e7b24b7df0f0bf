"""Driving a scenario's call step by step from Python (the ``voipbin_call`` pytest fixture uses this).

    async with scenario_call({"sandbox": {"speed": 20}}) as call:
        await call.expect_call("progressing")
        await call.say("Your order has shipped.")
        await call.expect_transcript("out", contains="order has shipped")

Each method is one step through the same engine as a scenario file; a failed expectation raises
``ScenarioFailure`` with its kind. Leaving the block hangs up and cleans up whatever happened.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tui.runner.engine import Outcome
from tui.runner.live import LiveCall, run_to_completion
from tui.runner.schema import Scenario, Step
from tui.runner.target import TargetOptions


class CallDriver:
    def __init__(self, live: LiveCall) -> None:
        self._live = live

    @property
    def outcome(self) -> Outcome:
        return self._live.outcome

    @property
    def session(self) -> Any:
        """The underlying CallSession, for assertions beyond the expectation vocabulary."""
        return self._live.session

    async def _step(self, verb: str, arg: Any) -> None:
        await self._live.step(Step.model_validate({verb: arg}))

    async def say(self, text: str) -> None:
        await self._step("say", text)

    async def flush(self) -> None:
        await self._step("flush", {})

    async def stop_speaking(self) -> None:
        await self._step("stop_speaking", {})

    async def open_speaking(self) -> None:
        await self._step("open_speaking", {})

    async def hangup(self) -> None:
        await self._step("hangup", {})

    async def phone_say(self, text: str) -> None:
        await self._step("phone.say", text)

    async def phone_hangup(self) -> None:
        await self._step("phone.hangup", {})

    async def fault(self, **faults: Any) -> None:
        await self._step("sandbox.fault", faults)

    async def expect(self, **expectation: Any) -> None:
        """Any expectation of the file format, e.g. ``expect(request="POST /calls", status=200)``."""
        if "for_" in expectation:
            expectation["for"] = expectation.pop("for_")
        await self._step("expect", expectation)

    async def expect_call(self, state: str, *, within: float = 15.0, **more: Any) -> None:
        await self.expect(call=state, within=within, **more)

    async def expect_transcript(self, direction: str, *, within: float = 15.0, **more: Any) -> None:
        await self.expect(transcript=direction, within=within, **more)

    async def expect_say(self, which: str | int = "last", *, within: float = 15.0, **more: Any) -> None:
        await self.expect(say=which, within=within, **more)

    async def expect_connection(self, state: str, *, within: float = 15.0) -> None:
        await self.expect(connection=state, within=within)


@contextlib.asynccontextmanager
async def scenario_call(
    scenario: Scenario | dict[str, Any] | None = None,
    *,
    options: TargetOptions | None = None,
    artifacts: Path | None = None,
) -> AsyncIterator[CallDriver]:
    if not isinstance(scenario, Scenario):
        data = {"name": "python-test", **(scenario or {})}
        scenario = Scenario.model_validate(data)
    live = LiveCall(scenario, options or TargetOptions(), artifacts)
    try:
        await live.start()
        yield CallDriver(live)
    finally:
        await run_to_completion(live.close())
