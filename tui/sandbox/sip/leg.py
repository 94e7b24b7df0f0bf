"""One sandbox call leg to a registered SIP phone: our INVITE, the dialog, and its audio.

The leg stands where the simulated softphone stands for the call engine (``ringing``, ``greeting_done``,
``speak``, ``close``), but the phone decides: 180/183 -> ringing, 200 -> answered (we ACK), 486/600/603 ->
declined, other failures -> failed; a BYE from the phone is a remote hangup. ``close`` (the engine hangs
up) sends CANCEL before an answer and BYE after one. Over UDP our requests are retransmitted (timers A/E
from T1 = 0.5 s, given up after 32 s); over TCP/TLS they are sent once.

Media security follows the ``sip_srtp`` setting: an SRTP leg offers RTP/SAVP with SDES keys and refuses
a plain answer, a plain leg refuses an SRTP answer; either mismatch is BYE and ``failed``, as at an SBC.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING, Any

from tui.sandbox import errors
from tui.sandbox.sip.media import CallMedia
from tui.sandbox.sip.message import (
    SipMessage,
    SipParseError,
    address_uri,
    new_branch,
    new_tag,
    parse_uri,
    response_to,
    tag_of,
)
from tui.sandbox.sip.sdp import PLAIN, SECURE, MediaDescription, SdpError, SessionDescription, parse_audio
from tui.sandbox.sip.srtp import CryptoAttribute, CryptoError, SrtpCall, SrtpUnavailable

if TYPE_CHECKING:
    from tui.sandbox.calls import CallRuntime
    from tui.sandbox.sip.registrar import Binding
    from tui.sandbox.sip.service import SipService
    from tui.sandbox.sip.transport import Flow

log = logging.getLogger("tui.sandbox.sip")

T1 = 0.5
T2 = 4.0
TRANSACTION_TIMEOUT = 32.0
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"
ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}
DECLINED = (486, 600, 603)
NO_ANSWER = (408, 480)


class SipLeg:
    simulated_ringing = False

    def __init__(self, service: SipService, runtime: CallRuntime, binding: Binding, domain: str) -> None:
        self.service = service
        self.core = service.core
        self.runtime = runtime
        self.call = runtime.call
        self.extension = binding.extension
        self.domain = domain
        self.flow: Flow = binding.flow
        self.remote_target = binding.contact
        self.sip_call_id = f"{secrets.token_hex(12)}@voipbin-sandbox"
        self.local_tag = new_tag()
        self.remote_tag = ""
        self.cseq = 1
        self.state = "new"  # new -> calling -> proceeding -> confirmed -> terminated
        self.closed = False
        self._cancel_pending = False
        self.invite: SipMessage | None = None
        self.media = CallMedia(service, runtime.call)
        self.rtp = self.media.rtp
        self.sdp: SessionDescription | None = None
        self.codec = ""
        self.remote_direction = "sendrecv"
        self.srtp: SrtpCall | None = None
        self._retransmits: dict[str, asyncio.Task[None]] = {}

    # --- the engine's phone interface ----------------------------------------------------------

    def ringing(self) -> None:
        return None

    def greeting_done(self) -> None:
        return None

    def speak(self, text: str) -> None:
        # A real phone speaks for itself; the control API cannot put words in its mouth.
        raise errors.state_invalid()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.media.close()
        if self.state == "proceeding":
            self._send_cancel()
        elif self.state in ("new", "calling"):
            self._cancel_pending = True
        elif self.state == "confirmed":
            self._send_in_dialog("BYE")
            self.state = "terminated"
        self.media.close()
        self.service.forget_later(self)

    # --- sending -------------------------------------------------------------------------------

    def _via(self, branch: str) -> str:
        kind = self.flow.kind.upper()
        port = self.service.transports.tls_port if self.flow.kind == "tls" else self.service.transports.port
        return f"SIP/2.0/{kind} {self.service.advertised_host}:{port};branch={branch};rport"

    def _contact(self) -> str:
        kind = self.flow.kind
        port = self.service.transports.tls_port if kind == "tls" else self.service.transports.port
        # Always `sip:` with `;transport=tls` over TLS: libre (baresip) sends no re-INVITE or BYE to a
        # `sips:` Contact, and RFC 5630 allows this form for a hop-by-hop TLS dialog.
        return f"<sip:voipbin@{self.service.advertised_host}:{port};transport={kind}>"

    def _from(self) -> str:
        source = self.call.source
        user = source.get("target", "") or "voipbin"
        user = "".join(c for c in user if c.isalnum() or c in "+-_.")[:64] or "voipbin"
        return f"<sip:{user}@{self.domain}>;tag={self.local_tag}"

    def _to(self) -> str:
        base = f"<sip:{self.extension}@{self.domain}>"
        return f"{base};tag={self.remote_tag}" if self.remote_tag else base

    def _request(self, method: str, uri: str, branch: str, cseq: int) -> SipMessage:
        request = SipMessage(method=method, uri=uri)
        request.add("Via", self._via(branch))
        request.add("Max-Forwards", "70")
        request.add("From", self._from())
        request.add("To", self._to())
        request.add("Call-ID", self.sip_call_id)
        request.add("CSeq", f"{cseq} {method}")
        return request

    def _send(self, request: SipMessage, *, retransmit: bool = True) -> None:
        data = request.to_bytes()
        self.flow.send(data)
        if retransmit and not self.flow.reliable:
            key = f"{request.top_branch()}:{request.method}"
            task = asyncio.get_running_loop().create_task(self._retransmit(data, key, request.method))
            self._retransmits[key] = task

    async def _retransmit(self, data: bytes, key: str, method: str) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + TRANSACTION_TIMEOUT
        interval = T1
        try:
            while loop.time() + interval < give_up:
                await asyncio.sleep(interval)
                self.flow.send(data)
                interval = interval * 2 if method == "INVITE" else min(interval * 2, T2)
            await asyncio.sleep(max(0.0, give_up - loop.time()))
        except asyncio.CancelledError:
            return
        self._retransmits.pop(key, None)
        if method == "INVITE" and self.state == "calling":
            self.state = "terminated"
            self._fail(408)

    def _stop_retransmit(self, key: str) -> None:
        task = self._retransmits.pop(key, None)
        if task is not None:
            task.cancel()

    def stop_timers(self) -> None:
        for task in self._retransmits.values():
            task.cancel()
        self._retransmits.clear()

    async def start(self) -> None:
        try:
            await self.rtp.open()
            if not self.flow.alive:
                target = parse_uri(self.remote_target)
                kind = target.transport or ("tls" if target.scheme == "sips" else "udp")
                self.flow = await self.service.transports.connect(
                    kind, target.host, target.port or (5061 if kind == "tls" else 5060)
                )
        except (OSError, SipParseError, TimeoutError) as exc:
            log.info("cannot reach the phone of %s: %s", self.extension, exc)
            self.state = "terminated"
            self._fail(503)
            return
        if self.closed:
            self.media.close()
            return
        policy = self.core.settings.sip_srtp
        if policy == "always" or (policy == "tls" and self.flow.kind == "tls"):
            try:
                self.srtp = self.rtp.srtp = SrtpCall()
            except SrtpUnavailable as exc:
                log.error("call to %s not placed: %s", self.extension, exc)
                self.state = "terminated"
                self._fail(503)
                return
        self.sdp = SessionDescription(self.service.advertised_host, self.rtp.port)
        invite = self._request("INVITE", self.remote_target, new_branch(), self.cseq)
        invite.add("Contact", self._contact())
        invite.add("Allow", ALLOW)
        invite.add("User-Agent", "voipbin-tui-sandbox")
        invite.add("Content-Type", "application/sdp")
        invite.body = self.sdp.body(crypto=self.srtp.offer() if self.srtp is not None else None)
        self.invite = invite
        self.state = "calling"
        self._send(invite)

    def _send_cancel(self) -> None:
        if self.invite is None:
            return
        cancel = SipMessage(method="CANCEL", uri=self.invite.uri)
        cancel.add("Via", self.invite.get("via") or "")
        cancel.add("Max-Forwards", "70")
        cancel.add("From", self.invite.get("from") or "")
        cancel.add("To", self.invite.get("to") or "")
        cancel.add("Call-ID", self.sip_call_id)
        cancel.add("CSeq", f"{self.invite.cseq[0]} CANCEL")
        self._send(cancel)

    def _send_in_dialog(self, method: str, body: bytes = b"") -> None:
        self.cseq += 1
        request = self._request(method, self.remote_target, new_branch(), self.cseq)
        request.body = body
        self._send(request)

    def _ack(self, response: SipMessage) -> None:
        if response.status >= 300 and self.invite is not None:
            ack = SipMessage(method="ACK", uri=self.invite.uri)
            ack.add("Via", self.invite.get("via") or "")
            ack.add("Max-Forwards", "70")
            ack.add("From", self.invite.get("from") or "")
            ack.add("To", response.get("to") or "")
            ack.add("Call-ID", self.sip_call_id)
            ack.add("CSeq", f"{self.invite.cseq[0]} ACK")
        else:
            invite_cseq = self.invite.cseq[0] if self.invite is not None else 1
            ack = self._request("ACK", self.remote_target, new_branch(), invite_cseq)
        self.flow.send(ack.to_bytes())

    # --- receiving -----------------------------------------------------------------------------

    def on_response(self, response: SipMessage) -> None:
        number, method = response.cseq
        if response.status >= 200 or method == "INVITE":
            self._stop_retransmit(f"{response.top_branch()}:{method}")
        if method != "INVITE" or self.invite is None or number != self.invite.cseq[0]:
            return
        if response.status < 200:
            self._provisional(response)
        elif response.status < 300:
            self._answered(response)
        else:
            self._ack(response)
            if self.state in ("calling", "proceeding"):
                self.state = "terminated"
                self.media.close()
                if not self.closed:
                    if response.status == 488 and self.srtp is not None:
                        log.info(
                            "the phone of %s refused the SRTP offer (488): on %s this sandbox requires SRTP "
                            "(sip_srtp = %r); the call fails",
                            self.extension,
                            self.flow.kind.upper(),
                            self.core.settings.sip_srtp,
                        )
                    self._fail(response.status)

    def _provisional(self, response: SipMessage) -> None:
        if self.state == "calling":
            self.state = "proceeding"
            if self._cancel_pending:
                self._send_cancel()
                return
        if self.state == "proceeding" and response.status in (180, 183) and not self.closed:
            self.core.calls.ringing(self.call)

    def _answered(self, response: SipMessage) -> None:
        if self.state in ("confirmed", "terminated"):
            if self.state == "confirmed" and tag_of(response.get("to")) == self.remote_tag:
                self._ack(response)  # our ACK was lost: the phone retransmits its 200
            return
        self.remote_tag = tag_of(response.get("to"))
        contact = response.get("contact")
        if contact:
            self.remote_target = address_uri(contact)
        self._ack(response)
        self.state = "confirmed"
        if self.closed:
            self._send_in_dialog("BYE")
            self.state = "terminated"
            return
        try:
            self._apply_offer_or_answer(response.body)
        except SdpError as exc:
            log.info("unusable SDP answer from %s: %s; sending BYE, the call fails", self.extension, exc)
            self._send_in_dialog("BYE")
            self.state = "terminated"
            self._fail(488)
            return
        try:
            self.core.calls.answer(self.call)
        except errors.ApiError:
            self.close()
            return
        self.media.start()

    def _apply_offer_or_answer(self, body: bytes, *, offer: bool = False) -> CryptoAttribute | None:
        """Use the phone's SDP; for an SRTP offer, returns the crypto line our answer carries."""
        media = parse_audio(body)
        codec = media.codec()
        crypto = self._negotiate_srtp(media, offer)
        self.rtp.payload_type = codec
        self.codec = "PCMU" if codec == 0 else "PCMA"
        self.rtp.remote = (media.host, media.port) if media.port else None
        self.rtp.sending = media.direction in ("sendrecv", "recvonly")
        self.remote_direction = media.direction
        return crypto

    def _negotiate_srtp(self, media: MediaDescription, offer: bool) -> CryptoAttribute | None:
        sent = "offered" if offer else "answered"
        policy = f"sip_srtp = {self.core.settings.sip_srtp!r} on {self.flow.kind.upper()}"
        if self.srtp is None:
            if media.profile != PLAIN:
                raise SdpError(f"the phone {sent} {media.profile} (SRTP) but this call is plain RTP/AVP ({policy})")
            return None
        if media.profile != SECURE:
            raise SdpError(f"the phone {sent} plain {media.profile} but this call requires SRTP, RTP/SAVP ({policy})")
        try:
            if offer:
                return self.srtp.answer_offer(media.crypto)
            self.srtp.accept_answer(media.crypto, media.crypto_skipped)
        except CryptoError as exc:
            raise SdpError(str(exc)) from exc
        return None

    def _fail(self, status: int) -> None:
        self.media.close()
        try:
            if status in DECLINED:
                self.core.calls.reject(self.call)
            else:
                self.core.calls.remote_failure(self.call, "noanswer" if status in NO_ANSWER else "failed")
        except errors.ApiError:
            pass
        self.service.forget_later(self)

    def on_request(self, request: SipMessage, flow: Flow) -> SipMessage | None:
        """An in-dialog request from the phone; the response to send (None for ACK)."""
        method = request.method
        if method == "ACK":
            number = request.cseq[0]
            task = self._retransmits.pop(f"answer-{number}", None)
            if task is not None:
                task.cancel()
            if request.body and self.state == "confirmed":
                try:
                    self._apply_offer_or_answer(request.body)
                except SdpError:
                    pass
            return None
        if method == "BYE":
            response = response_to(request, 200, "OK")
            if self.state == "confirmed" and not self.closed:
                self.state = "terminated"
                self.closed = True
                self.media.close()
                self.service.forget_later(self)
                try:
                    self.core.calls.remote_hangup(self.call)
                except errors.ApiError:
                    pass
            return response
        if method in ("INVITE", "UPDATE"):
            # Re-INVITE (baresip sends one after answering; hold) or UPDATE (session timer refresh).
            return self._reinvite(request, flow)
        if method in ("OPTIONS", "INFO"):
            response = response_to(request, 200, "OK")
            response.add("Allow", ALLOW)
            return response
        response = response_to(request, 405, "Method Not Allowed")
        response.add("Allow", ALLOW)
        return response

    def _reinvite(self, request: SipMessage, flow: Flow) -> SipMessage:
        number = request.cseq[0]
        if self.state != "confirmed" or self.sdp is None:
            return response_to(request, 481, "Call/Transaction Does Not Exist")
        crypto: list[CryptoAttribute] | None = None
        if request.body:
            try:
                answer = self._apply_offer_or_answer(request.body, offer=True)
            except SdpError as exc:
                log.info("unusable SDP offer from %s: %s; answering 488", self.extension, exc)
                return response_to(request, 488, "Not Acceptable Here")
            crypto = [answer] if answer is not None else None
        elif self.srtp is not None:
            crypto = self.srtp.offer()  # our offer in the 200; the phone answers in its ACK
        contact = request.get("contact")
        if contact:
            self.remote_target = address_uri(contact)
        response = response_to(request, 200, "OK")
        response.add("Contact", self._contact())
        response.add("Allow", ALLOW)
        response.add("Content-Type", "application/sdp")
        direction = ANSWER_DIRECTION.get(self.remote_direction, "sendrecv") if request.body else "sendrecv"
        response.body = self.sdp.body([self.rtp.payload_type] if request.body else None, direction, crypto)
        if not flow.reliable and request.method == "INVITE":
            data = response.to_bytes()
            task = asyncio.get_running_loop().create_task(self._repeat_answer(flow, data))
            self._retransmits[f"answer-{number}"] = task
        return response

    async def _repeat_answer(self, flow: Flow, data: bytes) -> None:
        interval = T1
        waited = 0.0
        try:
            while waited < TRANSACTION_TIMEOUT:
                await asyncio.sleep(interval)
                waited += interval
                flow.send(data)
                interval = min(interval * 2, T2)
        except asyncio.CancelledError:
            return

    def summary(self) -> dict[str, Any]:
        return {
            "call_id": self.call.id,
            "extension": self.extension,
            "sip_call_id": self.sip_call_id,
            "transport": self.flow.kind,
            "state": self.state,
            "codec": self.codec,
            "media_profile": SECURE if self.srtp is not None else PLAIN,
            "srtp": self.srtp.summary() if self.srtp is not None else None,
            **self.media.summary(),
        }
