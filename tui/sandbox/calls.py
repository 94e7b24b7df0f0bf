"""The call engine: POST /calls, the call status machine, groupcalls and inline flows.

Status moves and the events they publish (only the status-named event; action changes publish
``call_updated``):

    dialing --ring_delay--> ringing --answer--> progressing --(flow)--> terminating --> hangup
       |                       |                     |
       +--- local hangup ------+--> canceling --> hangup (local, cancel)
       |                       +--> phone rejects: hangup (remote, busy)
       |                       +--> dial_timeout:  hangup (remote, dialout)
       +-----------------------------------------> remote hangup: hangup (remote, normal)

An ``extension`` destination becomes a groupcall whose leg id is reserved in the response and whose
leg call record is only created after the response has been sent. Flow actions run after answer; after
the last one the flow's finish marker hangs the call up locally.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.sandbox import errors
from tui.sandbox.call_body import (
    ACTION_TYPES,
    MEDIA_ACTION_TYPES,
    int_option,
    parse_actions,
    parse_address,
    parse_variables,
    str_option,
)
from tui.sandbox.encoding import ZERO_UUID, new_id, uuid_or_nil
from tui.sandbox.models import Call, Groupcall
from tui.sandbox.phone import CallPhone, Softphone
from tui.sandbox.requests import field_value, opt_str
from tui.sandbox.transcription import normalize_language

if TYPE_CHECKING:
    from tui.sandbox.core import SandboxCore

ACTION_ID_START = "00000000-0000-0000-0000-000000000001"
ACTION_ID_FINISH = "00000000-0000-0000-0000-000000000002"

_TEL_RE = re.compile(r"^\+[0-9]{7,15}$")
_SSML_TAG = re.compile(r"<[^>]+>")
CONTACT_HOST = "192.0.2.10:5060;transport=udp"
LIVE_STATUSES = ("dialing", "ringing", "progressing")


@dataclass
class CallRuntime:
    """Engine-side state of one call: its phone, flow and the tasks/timers to cancel at hangup."""

    call: Call
    actions: list[dict[str, Any]]
    phone: CallPhone | None = None
    task: asyncio.Task[None] | None = None
    side_tasks: set[asyncio.Task[None]] = field(default_factory=set)
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    decided: asyncio.Event = field(default_factory=asyncio.Event)
    outcome: str = ""


@dataclass
class PendingLeg:
    call_id: str
    groupcall_id: str
    flow_id: str
    source: dict[str, str]
    extension: str
    actions: list[dict[str, Any]]


class CallEngine:
    def __init__(self, core: SandboxCore) -> None:
        self.core = core
        self.runtimes: dict[str, CallRuntime] = {}

    # --- POST /calls ---------------------------------------------------------------------------

    def create(self, body: Any) -> tuple[list[Call], list[Groupcall], list[PendingLeg]]:
        if body is not None and not isinstance(body, dict):
            raise errors.invalid_json_body()
        data: dict[str, Any] = body or {}
        flow_text = opt_str(data, "flow_id")
        actions = parse_actions(field_value(data, "actions"))
        source = parse_address(field_value(data, "source"))
        raw_destinations = field_value(data, "destinations")
        if raw_destinations is not None and not isinstance(raw_destinations, list):
            raise errors.invalid_json_body()
        destinations = [parse_address(d) for d in raw_destinations or []]
        opt_str(data, "anonymous")
        parse_variables(field_value(data, "variables"))

        if any(d.get("type") == "tel" for d in destinations) and not self.core.settings.identity_verified:
            raise errors.identity_verification_required()
        if flow_text and uuid_or_nil(flow_text).int:
            # The sandbox stores no flows, so any flow_id is unknown to it.
            raise errors.flow_not_found()
        for action in actions:
            if action["type"] not in ACTION_TYPES:
                raise errors.invalid_action_type(action["type"])

        flow_id = new_id()
        calls: list[Call] = []
        groupcalls: list[Groupcall] = []
        pending: list[PendingLeg] = []
        for destination in destinations:
            kind = destination.get("type", "")
            if kind in ("tel", "sip"):
                call = self._create_direct(flow_id, source, destination, actions)
                if call is not None:
                    calls.append(call)
            elif kind == "extension":
                created = self._create_groupcall(flow_id, source, destination, actions)
                if created is not None:
                    groupcalls.append(created[0])
                    pending.append(created[1])
            # agent destinations need agent addresses the sandbox does not have; other types are
            # skipped by the real server too.
        if not calls and not groupcalls:
            raise errors.internal()
        return calls, groupcalls, pending

    def _create_direct(
        self, flow_id: str, source: dict[str, str], destination: dict[str, str], actions: list[dict[str, Any]]
    ) -> Call | None:
        if destination.get("type") == "tel":
            target = destination.get("target", "")
            if not _TEL_RE.match(target):
                return None
            if source.get("type") != "tel" or not self.core.store.number_owned(source.get("target", "")):
                return None
        elif not destination.get("target"):
            return None
        return self._start_call(new_id(), flow_id, source, destination, actions, groupcall_id=None)

    def _create_groupcall(
        self, flow_id: str, source: dict[str, str], destination: dict[str, str], actions: list[dict[str, Any]]
    ) -> tuple[Groupcall, PendingLeg] | None:
        key = destination.get("target_name", "")
        extension = self.core.store.extension_by_key(key)
        if extension is None:
            return None
        if not extension.registered and (self.core.sip is None or not self.core.sip.contact_for(extension.extension)):
            return None
        leg_id = new_id()
        groupcall = Groupcall(
            id=new_id(),
            customer_id=self.core.customer_id,
            flow_id=flow_id,
            source=dict(source),
            destinations=[dict(destination)],
            call_ids=[leg_id],
            call_count=1,
            tm_create=self.core.store.stamp(),
        )
        self.core.store.groupcalls[groupcall.id] = groupcall
        self.core.publish("groupcall_created", groupcall.to_json())
        leg = PendingLeg(leg_id, groupcall.id, flow_id, dict(source), extension.extension, actions)
        return groupcall, leg

    async def launch_legs(self, legs: list[PendingLeg]) -> None:
        """Runs after the POST /calls response is sent: leg records appear a moment later."""
        for leg in legs:
            self.core.later(self.core.settings.leg_create_delay, self._create_leg, leg)

    def _create_leg(self, leg: PendingLeg) -> None:
        groupcall = self.core.store.groupcalls.get(leg.groupcall_id)
        if groupcall is None or groupcall.status != "progressing":
            # Hung up before the leg existed: GroupcallService.hangup has already counted it gone.
            return
        contact = self.core.sip.contact_for(leg.extension) if self.core.sip is not None else None
        destination = {
            "type": "sip",
            "target": contact or f"sip:{leg.extension}@{CONTACT_HOST}",
            "target_name": leg.extension,
        }
        self._start_call(leg.call_id, leg.flow_id, leg.source, destination, leg.actions, leg.groupcall_id)

    def _start_call(
        self,
        call_id: str,
        flow_id: str,
        source: dict[str, str],
        destination: dict[str, str],
        actions: list[dict[str, Any]],
        groupcall_id: str | None,
    ) -> Call:
        call = Call(
            id=call_id,
            customer_id=self.core.customer_id,
            flow_id=flow_id,
            activeflow_id=new_id(),
            source=dict(source),
            destination=destination,
            tm_create=self.core.store.stamp(),
            groupcall_id=groupcall_id,
        )
        self.core.store.calls[call.id] = call
        runtime = CallRuntime(call=call, actions=[dict(a) for a in actions])
        sip = self.core.sip
        sip_leg = sip.leg_for(runtime, destination.get("target_name", "")) if sip and groupcall_id else None
        runtime.phone = sip_leg or Softphone(self.core, runtime, self.core.settings.answer_mode)
        self.runtimes[call.id] = runtime
        self.core.publish("call_created", call.to_json())
        runtime.task = self.core.spawn(self._run(runtime))
        return call

    # --- lifecycle -----------------------------------------------------------------------------

    async def _run(self, runtime: CallRuntime) -> None:
        call = runtime.call
        clock = self.core.clock
        settings = self.core.settings
        loop = asyncio.get_running_loop()
        dial_deadline = clock.deadline(settings.dial_timeout)
        # A SIP phone rings (180) on its own; only the simulated phone rings on a timer.
        simulated = runtime.phone is None or runtime.phone.simulated_ringing
        ring_at = clock.deadline(settings.ring_delay) if simulated else dial_deadline
        decided = await self._wait_decision(runtime, min(ring_at, dial_deadline) - loop.time())
        if not decided and loop.time() < dial_deadline:
            self._set_status(call, "ringing")
            if runtime.phone is not None:
                runtime.phone.ringing()
            await self._wait_decision(runtime, dial_deadline - loop.time())
        if not runtime.decided.is_set():
            self._finalize(runtime, "remote", "dialout")
            return
        if runtime.outcome != "answer" or call.status != "progressing":
            return
        await self._run_flow(runtime)

    async def _wait_decision(self, runtime: CallRuntime, timeout: float) -> bool:
        if runtime.decided.is_set():
            return True
        try:
            await asyncio.wait_for(runtime.decided.wait(), timeout=max(0.0, timeout))
        except TimeoutError:
            return False
        return True

    def answer(self, call: Call) -> Call:
        """The phone picks up (auto timer or control API)."""
        runtime = self.runtimes.get(call.id)
        if runtime is None or call.status not in ("dialing", "ringing"):
            raise errors.state_invalid()
        now = self.core.store.stamp()
        call.status = "progressing"
        call.tm_progressing = now
        call.tm_update = now
        self.core.publish("call_progressing", call.to_json())
        if call.groupcall_id:
            groupcall = self.core.store.groupcalls.get(call.groupcall_id)
            if groupcall is not None and groupcall.answer_call_id == ZERO_UUID:
                groupcall.answer_call_id = call.id
                groupcall.tm_update = self.core.store.stamp()
                self.core.publish("groupcall_progressing", groupcall.to_json())
        runtime.timers.append(self.core.later(self.core.settings.max_call_duration, self._duration_timeout, runtime))
        runtime.outcome = "answer"
        runtime.decided.set()
        return call

    def decide_later(self, call: Call, decision: str) -> None:
        """Timer entry point for the phone's own decision; a call that moved on is left alone."""
        try:
            if decision == "answer":
                self.answer(call)
            else:
                self.reject(call)
        except errors.ApiError:
            pass

    def reject(self, call: Call) -> Call:
        """The phone declines while ringing (SIP 486 -> hangup_reason busy)."""
        runtime = self.runtimes.get(call.id)
        if runtime is None or call.status not in ("dialing", "ringing"):
            raise errors.state_invalid()
        runtime.outcome = "reject"
        runtime.decided.set()
        self._finalize(runtime, "remote", "busy")
        return call

    def ringing(self, call: Call) -> None:
        """A SIP phone reports ringing (180/183)."""
        if call.status == "dialing":
            self._set_status(call, "ringing")

    def remote_failure(self, call: Call, reason: str) -> None:
        """A SIP phone's INVITE failed other than by declining (e.g. 480 -> noanswer, 500 -> failed)."""
        runtime = self.runtimes.get(call.id)
        if runtime is None or call.status not in ("dialing", "ringing"):
            raise errors.state_invalid()
        runtime.outcome = "failed"
        runtime.decided.set()
        self._finalize(runtime, "remote", reason)

    def remote_hangup(self, call: Call) -> Call:
        """The phone hangs up. Before answer this is a decline, like ``reject``."""
        runtime = self.runtimes.get(call.id)
        if runtime is None or call.status == "hangup":
            raise errors.state_invalid()
        if call.status in ("dialing", "ringing"):
            return self.reject(call)
        if call.status == "progressing":
            self._finalize(runtime, "remote", "normal")
        # terminating/canceling: our side is already hanging up; the phone changes nothing.
        return call

    def speak(self, call: Call, text: str) -> Call:
        runtime = self.runtimes.get(call.id)
        if runtime is None or runtime.phone is None or call.status != "progressing":
            raise errors.state_invalid()
        runtime.phone.speak(text)
        return call

    def hangup_local(self, call: Call) -> Call:
        """POST /calls/{id}/hangup, the flow's end, or DELETE: returns the call as just updated."""
        if call.status in ("canceling", "terminating", "hangup"):
            return call
        runtime = self.runtimes.get(call.id)
        if runtime is None:
            return call
        if call.status in ("dialing", "ringing"):
            self._set_status(call, "canceling")
            reason = "cancel"
        else:
            self._set_status(call, "terminating")
            reason = "normal"
        self._stop_activity(runtime)
        runtime.timers.append(
            self.core.later(self.core.settings.hangup_delay, self._finalize, runtime, "local", reason)
        )
        return call

    def delete(self, call: Call) -> Call:
        if call.status != "hangup":
            self.hangup_local(call)
        now = self.core.store.stamp()
        call.tm_delete = now
        call.tm_update = now
        self.core.publish("call_deleted", call.to_json())
        return call

    def _duration_timeout(self, runtime: CallRuntime) -> None:
        if runtime.call.status == "progressing":
            self._finalize(runtime, "remote", "timeout")

    def _set_status(self, call: Call, status: str) -> None:
        now = self.core.store.stamp()
        call.status = status
        call.tm_update = now
        if status == "ringing":
            call.tm_ringing = now
        self.core.publish(f"call_{status}", call.to_json())

    def _stop_activity(self, runtime: CallRuntime) -> None:
        """The media goes away: flow, phone, playback. Timers stay so the hangup can complete."""
        current = asyncio.current_task()
        if runtime.task is not None and runtime.task is not current and not runtime.task.done():
            runtime.task.cancel()
        for task in list(runtime.side_tasks):
            if task is not current:
                task.cancel()
        if runtime.phone is not None:
            runtime.phone.close()
        self.core.speakings.media_gone(runtime.call.id)

    def _finalize(self, runtime: CallRuntime, hangup_by: str, reason: str) -> None:
        call = runtime.call
        if call.status == "hangup":
            return
        now = self.core.store.stamp()
        call.status = "hangup"
        call.hangup_by = hangup_by
        call.hangup_reason = reason
        call.tm_hangup = now
        call.tm_update = now
        self.core.publish("call_hangup", call.to_json())
        self._stop_activity(runtime)
        for timer in runtime.timers:
            timer.cancel()
        runtime.timers.clear()
        if call.groupcall_id:
            groupcall = self.core.store.groupcalls.get(call.groupcall_id)
            if groupcall is not None:
                self.core.groupcalls.leg_gone(groupcall)
        # transcribe-manager reacts to call_hangup a moment later; late finals go out first.
        self.core.later(self.core.settings.transcribe_stop_delay, self.core.transcription.stop_for_call, call.id)

    # --- inline flow ---------------------------------------------------------------------------

    async def _run_flow(self, runtime: CallRuntime) -> None:
        call = runtime.call
        actions = runtime.actions
        index_of = {action["id"]: i for i, action in enumerate(actions)}
        position = 0
        steps = 0
        while 0 <= position < len(actions) and call.status == "progressing":
            action = actions[position]
            kind = action["type"]
            option: dict[str, Any] = action.get("option") or {}
            if kind == "transcribe_start":
                self._transcribe_start(call, option)
            elif kind == "transcribe_stop":
                self.core.transcription.stop_for_call(call.id)
            elif kind in MEDIA_ACTION_TYPES:
                if kind != "talk" and runtime.phone is not None:
                    runtime.phone.greeting_done()
                self._set_action(call, action)
                if kind == "talk":
                    await self._talk(runtime, option)
                elif kind == "sleep":
                    await self.core.clock.sleep(max(0, int_option(option, "duration")) / 1000.0)
                elif kind == "hangup":
                    self.hangup_local(call)
                    return
            next_id = action.get("next_id", ZERO_UUID)
            position = index_of.get(next_id, position + 1) if next_id != ZERO_UUID else position + 1
            steps += 1
            if steps % 50 == 0:
                # A next_id loop of instant actions must not starve the event loop.
                await asyncio.sleep(0)
        if call.status != "progressing":
            return
        if runtime.phone is not None:
            runtime.phone.greeting_done()
        self._set_action(call, {"id": ACTION_ID_FINISH, "next_id": ZERO_UUID})
        self.hangup_local(call)

    def _set_action(self, call: Call, action: dict[str, Any]) -> None:
        now = self.core.store.stamp()
        call.action = {**action, "tm_execute": now}
        call.tm_update = now
        self.core.publish("call_updated", call.to_json())

    def _transcribe_start(self, call: Call, option: dict[str, Any]) -> None:
        language = normalize_language(str_option(option, "language"))
        # flow-manager ignores a failed transcribe_start and carries on with the flow.
        if self.core.transcription.progressing_for(call.id, language) is not None:
            return
        self.core.transcription.start(
            call_id=call.id,
            language=language,
            direction=str_option(option, "direction"),
            provider=str_option(option, "provider"),
            activeflow_id=call.activeflow_id,
            on_end_flow_id=str(uuid_or_nil(str_option(option, "on_end_flow_id"))),
        )

    async def _talk(self, runtime: CallRuntime, option: dict[str, Any]) -> None:
        text = _SSML_TAG.sub(" ", str_option(option, "text")).strip()
        if not text:
            return

        async def play() -> None:
            await self.core.clock.sleep(self.core.settings.tts_first_audio_delay)
            await self.core.speech.play(runtime.call.id, "out", text)

        if option.get("async") is True:
            task = self.core.spawn(play())
            runtime.side_tasks.add(task)
            task.add_done_callback(runtime.side_tasks.discard)
            return
        await play()
