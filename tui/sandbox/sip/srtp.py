"""SDES-SRTP for one call leg: ``a=crypto:`` keys in the SDP (RFC 4568) and the packet transform (RFC 3711).

The keys travel in the SDP, which is why the sandbox offers SRTP only where the signalling is encrypted
(TLS; the ``sip_srtp`` setting). Two suites, both with a 30-byte master key and salt:
AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32. Not modelled: key lifetimes (accepted, ignored), MKI
(a crypto line with one is skipped), session parameters (skipped), DTLS-SRTP, ZRTP, SRTCP (the sandbox
sends no RTCP).

``pylibsrtp`` (libsrtp in a wheel, an optional extra) is imported only when a call uses SRTP, so a plain
install keeps working for plain RTP.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pylibsrtp

SUITES = ("AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32")
KEY_BYTES = 30  # 16-byte master key + 14-byte master salt, the same for both suites
INSTALL_HINT = "SRTP needs pylibsrtp: pip install 'voipbin-tui[srtp]' (or run the sandbox with --sip-srtp never)"


class SrtpUnavailable(RuntimeError):
    """SRTP is wanted but pylibsrtp is not installed."""


class CryptoError(ValueError):
    """An ``a=crypto:`` negotiation we cannot use (the leg turns it into SdpError)."""


def require() -> None:
    """Fail early, with the install hint, when SRTP is configured and pylibsrtp is missing."""
    _library()


def _library() -> Any:
    try:
        import pylibsrtp
    except ImportError as exc:
        raise SrtpUnavailable(INSTALL_HINT) from exc
    return pylibsrtp


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


@dataclass(frozen=True)
class CryptoAttribute:
    tag: int
    suite: str
    key: bytes = field(repr=False)  # a secret: never in a repr, a log line or an error

    def line(self) -> str:
        return f"a=crypto:{self.tag} {self.suite} inline:{base64.b64encode(self.key).decode('ascii')}"


def parse_crypto(value: str) -> CryptoAttribute | None:
    """The value after ``a=crypto:``; None for a line we cannot use (unknown suite, MKI, session params)."""
    parts = value.split()
    if len(parts) < 3 or not parts[0].isdigit() or len(parts[0]) > 9:
        # Not echoed: the line may hold a key, and log lines quote these errors.
        raise CryptoError("bad a=crypto line (a tag, a suite and key parameters expected)")
    tag, suite, key_params = int(parts[0]), parts[1], parts[2]
    if suite not in SUITES or len(parts) > 3:
        return None
    params = key_params.split(";")
    if len(params) != 1 or not params[0].startswith("inline:"):
        return None  # several master keys, or a key method other than inline
    fields = params[0][len("inline:") :].split("|")
    if len(fields) == 3 or (len(fields) == 2 and ":" in fields[1]) or len(fields) > 3:
        return None  # an MKI (`|mki:length`): not modelled; a lifetime alone is accepted and ignored
    try:
        key = base64.b64decode(fields[0], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("crypto key is not base64") from exc
    if len(key) != KEY_BYTES:
        raise CryptoError(f"crypto key is {len(key)} bytes, not {KEY_BYTES}")
    return CryptoAttribute(tag, suite, key)


def _session(lib: Any, suite: str, key: bytes, outbound: bool) -> pylibsrtp.Session:
    profile = (
        lib.Policy.SRTP_PROFILE_AES128_CM_SHA1_80
        if suite.endswith("_80")
        else lib.Policy.SRTP_PROFILE_AES128_CM_SHA1_32
    )
    ssrc = lib.Policy.SSRC_ANY_OUTBOUND if outbound else lib.Policy.SSRC_ANY_INBOUND
    session: pylibsrtp.Session = lib.Session(lib.Policy(key=key, ssrc_type=ssrc, srtp_profile=profile))
    return session


class SrtpCall:
    """One leg's SRTP: our keys (one per suite), the negotiated suite, and the per-packet transform.

    Until an answer is accepted nothing is protected and every packet in is dropped: SRTP from a phone
    that answered faster than its 200 reached us must not be read as plain audio.
    """

    def __init__(self) -> None:
        self._lib = _library()
        self._local = {suite: new_key() for suite in SUITES}
        self.suite = ""
        self._remote_key = b""
        self._tx: Any = None
        self._rx: Any = None
        self.protected = 0
        self.unprotected = 0
        self.rejected = 0
        self.dropped_before_keys = 0

    # --- SDP -----------------------------------------------------------------------------------

    def offer(self) -> list[CryptoAttribute]:
        return [CryptoAttribute(tag, suite, self._local[suite]) for tag, suite in enumerate(SUITES, 1)]

    def accept_answer(self, answer: list[CryptoAttribute], declined: int) -> None:
        """The phone's answer to ``offer()``: exactly one crypto line, one of our tags, the same suite."""
        if not answer:
            reason = "an SRTP answer without a usable a=crypto line"
            if declined:
                reason += f" ({declined} skipped: unsupported suite, MKI or session parameters)"
            raise CryptoError(reason)
        if len(answer) > 1:
            raise CryptoError("an SRTP answer with more than one a=crypto line")
        chosen = answer[0]
        offered = dict(enumerate(SUITES, 1))
        if offered.get(chosen.tag) != chosen.suite:
            raise CryptoError(f"the answer's a=crypto tag {chosen.tag} {chosen.suite} was not offered")
        self._use(chosen.suite, chosen.key)

    def answer_offer(self, offer: list[CryptoAttribute]) -> CryptoAttribute:
        """A crypto offer from the phone (a re-INVITE): keep our suite if offered, else its first usable one."""
        if not offer:
            raise CryptoError("an SRTP offer without a usable a=crypto line")
        chosen = next((c for c in offer if c.suite == self.suite), offer[0])
        self._use(chosen.suite, chosen.key)
        return CryptoAttribute(chosen.tag, chosen.suite, self._local[chosen.suite])

    def _use(self, suite: str, remote_key: bytes) -> None:
        # A re-offer that repeats the keys keeps both sessions (their rollover and replay state).
        if suite != self.suite:
            self._tx = _session(self._lib, suite, self._local[suite], outbound=True)
        if suite != self.suite or remote_key != self._remote_key:
            self._rx = _session(self._lib, suite, remote_key, outbound=False)
        self.suite, self._remote_key = suite, remote_key

    # --- packets -------------------------------------------------------------------------------

    def protect(self, packet: bytes) -> bytes | None:
        if self._tx is None:
            return None
        try:
            data: bytes = self._tx.protect(packet)
        except self._lib.Error:
            return None
        self.protected += 1
        return data

    def unprotect(self, packet: bytes) -> bytes | None:
        """The RTP packet, or None for one that fails authentication or replay checks (counted)."""
        if self._rx is None:
            self.dropped_before_keys += 1
            return None
        try:
            data: bytes = self._rx.unprotect(packet)
        except self._lib.Error:
            self.rejected += 1
            return None
        self.unprotected += 1
        return data

    def summary(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "protected": self.protected,
            "unprotected": self.unprotected,
            "rejected": self.rejected,
            "dropped_before_keys": self.dropped_before_keys,
        }
