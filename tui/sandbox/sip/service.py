"""The SIP side as one service of the sandbox core: transports, registrar, call legs and the media clock."""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
from typing import TYPE_CHECKING, Any

from tui.sandbox.sip.leg import ALLOW, SipLeg
from tui.sandbox.sip.listen import SpeechToText
from tui.sandbox.sip.media import CallMedia
from tui.sandbox.sip.message import SipMessage, new_tag, response_to
from tui.sandbox.sip.registrar import Account, Registrar
from tui.sandbox.sip.rtp import MediaClock
from tui.sandbox.sip.srtp import require as require_srtp
from tui.sandbox.sip.transport import Flow, SipTransports

if TYPE_CHECKING:
    from tui.sandbox.calls import CallRuntime
    from tui.sandbox.core import SandboxCore

log = logging.getLogger("tui.sandbox.sip")

FORGET_AFTER = 40.0
_RESPONSE_CACHE = 512


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class SipService:
    def __init__(self, core: SandboxCore, *, port: int = 0, tls_port: int = 0) -> None:
        self.core = core
        settings = core.settings
        self.host = settings.host
        self.advertised_host = settings.sip_public_host or settings.host
        context = None
        if settings.sip_tls_cert and settings.sip_tls_key:
            context = tls_context(settings.sip_tls_cert, settings.sip_tls_key)
        if settings.sip_srtp == "always" or (settings.sip_srtp == "tls" and context is not None):
            require_srtp()  # at start, not at the first call: SrtpUnavailable names the extra to install
        self.transports = SipTransports(self.host, self.handle, port=port, tls_context=context, tls_port=tls_port)
        self.registrar = Registrar(self.accounts)
        self.clock = MediaClock()
        self.legs: dict[str, SipLeg] = {}
        self.legs_by_call: dict[str, SipLeg] = {}
        self.speech_to_text: SpeechToText | None = None
        self._answers: collections.OrderedDict[tuple[str, str], bytes] = collections.OrderedDict()
        self._forget: set[asyncio.TimerHandle] = set()

    # --- life ----------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.transports.start()

    async def stop(self) -> None:
        for leg in list(self.legs.values()):
            leg.close()
            leg.stop_timers()
        for handle in self._forget:
            handle.cancel()
        self._forget.clear()
        self.clock.stop()
        await self.transports.stop()

    @property
    def port(self) -> int:
        return self.transports.port

    @property
    def tls_port(self) -> int:
        return self.transports.tls_port

    def addresses(self) -> dict[str, str]:
        """Where a phone sends its REGISTER, per transport."""
        host = f"[{self.advertised_host}]" if ":" in self.advertised_host else self.advertised_host
        out = {
            "udp": f"sip:{host}:{self.port};transport=udp",
            "tcp": f"sip:{host}:{self.port};transport=tcp",
        }
        if self.tls_port:
            out["tls"] = f"sip:{host}:{self.tls_port};transport=tls"
        return out

    def accounts(self) -> list[Account]:
        return [
            Account(extension=ext.extension, domain=self.domain_of(ext.extension), password=ext.password)
            for ext in self.core.store.extensions.values()
        ]

    def domain_of(self, extension: str) -> str:
        ext = self.core.store.extension_by_key(extension)
        if ext is None:
            return ""
        domain = ext.to_json().get("domain_name", "")
        return domain if isinstance(domain, str) else ""

    # --- the call engine's hooks ---------------------------------------------------------------

    def contact_for(self, extension: str) -> str | None:
        binding = self.registrar.binding(extension)
        return binding.contact if binding is not None else None

    def leg_for(self, runtime: CallRuntime, extension: str) -> SipLeg | None:
        """A SIP leg when the extension has a registered contact; None keeps the simulated phone."""
        binding = self.registrar.binding(extension)
        if binding is None:
            return None
        leg = SipLeg(self, runtime, binding, self.domain_of(extension))
        self.legs[leg.sip_call_id] = leg
        self.legs_by_call[runtime.call.id] = leg
        self.core.spawn(leg.start())
        return leg

    def media_for(self, call_id: str, direction: str) -> CallMedia | None:
        """The leg whose phone hears audio spoken in ``direction`` of the call (only ``out`` reaches it)."""
        if direction != "out":
            return None
        leg = self.legs_by_call.get(call_id)
        if leg is None or leg.closed or leg.state != "confirmed":
            return None
        return leg.media

    def forget_later(self, leg: SipLeg) -> None:
        """Keep answering the leg's late retransmissions for a while, then drop it."""
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def forget() -> None:
            if handle is not None:
                self._forget.discard(handle)
            leg.stop_timers()
            self.legs.pop(leg.sip_call_id, None)
            if self.legs_by_call.get(leg.call.id) is leg:
                del self.legs_by_call[leg.call.id]

        handle = loop.call_later(FORGET_AFTER, forget)
        self._forget.add(handle)

    # --- incoming messages ---------------------------------------------------------------------

    def handle(self, message: SipMessage, flow: Flow) -> None:
        if not message.is_request:
            leg = self.legs.get(message.call_id)
            if leg is not None:
                leg.on_response(message)
            return
        key = (message.top_branch(), message.method)
        if key[0] and key in self._answers and message.method != "ACK":
            flow.send(self._answers[key])  # a retransmitted request gets the same answer
            return
        response = self._respond(message, flow)
        if response is None:
            return
        data = response.to_bytes()
        flow.send(data)
        if key[0]:
            self._answers[key] = data
            while len(self._answers) > _RESPONSE_CACHE:
                self._answers.popitem(last=False)

    def _respond(self, request: SipMessage, flow: Flow) -> SipMessage | None:
        method = request.method
        leg = self.legs.get(request.call_id)
        if leg is not None and method != "REGISTER":
            return leg.on_request(request, flow)
        if method == "ACK":
            return None
        if method == "REGISTER":
            return self.registrar.handle(request, flow)
        if method == "OPTIONS":
            response = response_to(request, 200, "OK", to_tag=new_tag())
            response.add("Allow", ALLOW)
            response.add("Accept", "application/sdp")
            return response
        if method == "INVITE":
            # Calls from a phone into VoIPBIN are not modelled: only POST /calls places calls.
            return response_to(
                request, 403, "Forbidden (the sandbox does not route calls from phones)", to_tag=new_tag()
            )
        if method in ("BYE", "CANCEL", "INFO"):
            return response_to(request, 481, "Call/Transaction Does Not Exist", to_tag=new_tag())
        response = response_to(request, 405, "Method Not Allowed", to_tag=new_tag())
        response.add("Allow", ALLOW + ", REGISTER")
        return response

    # --- reporting -----------------------------------------------------------------------------

    def registrations(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for extension in list(self.registrar.bindings):
            binding = self.registrar.binding(extension)
            if binding is not None:
                out.append(
                    {
                        "extension": extension,
                        "contact": binding.contact,
                        "transport": binding.flow.kind,
                        "expires_in": binding.expires_in,
                    }
                )
        return out

    def call_stats(self, call_id: str) -> dict[str, Any] | None:
        leg = self.legs_by_call.get(call_id)
        return leg.summary() if leg is not None else None

    def stats(self) -> dict[str, Any]:
        lateness = sorted(self.clock.lateness_ms)
        p99 = lateness[min(len(lateness) - 1, round(0.99 * (len(lateness) - 1)))] if lateness else 0.0
        return {
            "addresses": self.addresses(),
            "registrations": self.registrations(),
            "calls": [leg.summary() for leg in self.legs_by_call.values()],
            "media_clock_lateness_p99_ms": round(p99, 3),
            "media_clock_lateness_max_ms": round(lateness[-1], 3) if lateness else 0.0,
        }
