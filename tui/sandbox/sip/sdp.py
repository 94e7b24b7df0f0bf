"""SDP offers and answers for one audio stream: PCMU/PCMA over RTP/AVP, or RTP/SAVP with SDES keys
(RFC 4566 / 3264 / 4568 subset)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from tui.sandbox.sip.srtp import CryptoAttribute, CryptoError, parse_crypto

SUPPORTED = (0, 8)
TELEPHONE_EVENT = 101
PLAIN = "RTP/AVP"
SECURE = "RTP/SAVP"


class SdpError(ValueError):
    """An SDP body we cannot use."""


@dataclass
class MediaDescription:
    host: str
    port: int
    formats: list[int]
    direction: str = "sendrecv"
    profile: str = PLAIN
    crypto: list[CryptoAttribute] = field(default_factory=list)
    crypto_skipped: int = 0  # a=crypto lines we cannot use (suite, MKI, session parameters)

    def codec(self) -> int:
        for fmt in self.formats:
            if fmt in SUPPORTED:
                return fmt
        raise SdpError("no common codec (PCMU or PCMA)")


class SessionDescription:
    """Our side of the session; the version goes up with every answer we give."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.session_id = secrets.randbelow(1 << 31) + 1
        self.version = self.session_id

    def body(
        self, formats: list[int] | None = None, direction: str = "sendrecv", crypto: list[CryptoAttribute] | None = None
    ) -> bytes:
        """An offer or answer; with ``crypto`` the stream is RTP/SAVP and carries those keys."""
        formats = formats or list(SUPPORTED)
        family = "IP6" if ":" in self.host else "IP4"
        payload_types = " ".join(str(f) for f in [*formats, TELEPHONE_EVENT])
        lines = [
            "v=0",
            f"o=voipbin-sandbox {self.session_id} {self.version} IN {family} {self.host}",
            "s=voipbin-sandbox",
            f"c=IN {family} {self.host}",
            "t=0 0",
            f"m=audio {self.port} {SECURE if crypto else PLAIN} {payload_types}",
        ]
        for fmt in formats:
            lines.append(f"a=rtpmap:{fmt} {'PCMU' if fmt == 0 else 'PCMA'}/8000")
        lines += [f"a=rtpmap:{TELEPHONE_EVENT} telephone-event/8000", f"a=fmtp:{TELEPHONE_EVENT} 0-16"]
        lines += ["a=ptime:20", f"a={direction}"]
        lines += [attribute.line() for attribute in crypto or ()]
        self.version += 1
        return ("\r\n".join(lines) + "\r\n").encode("ascii")


def parse_audio(body: bytes) -> MediaDescription:
    """The first audio stream of an offer or answer."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SdpError("SDP is not UTF-8") from exc
    session_host = ""
    media: MediaDescription | None = None
    media_host = ""
    direction = "sendrecv"
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("c="):
            parts = line[2:].split()
            if len(parts) != 3:
                raise SdpError("bad c= line")
            if media is None:
                session_host = parts[2].split("/")[0]
            else:
                media_host = parts[2].split("/")[0]
        elif line.startswith("m="):
            if media is not None:
                break
            parts = line[2:].split()
            if len(parts) < 4 or parts[0] != "audio" or not parts[1].isdigit():
                continue
            if parts[2] not in (PLAIN, SECURE):
                raise SdpError(f"unsupported media profile {parts[2][:40]!r} (RTP/AVP, or RTP/SAVP with SDES keys)")
            formats = [int(fmt) for fmt in parts[3:] if fmt.isdigit()]
            media = MediaDescription(host="", port=int(parts[1]), formats=formats, profile=parts[2])
        elif media is not None and line in ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"):
            direction = line[2:]
        elif media is not None and line.startswith("a=crypto:"):
            try:
                attribute = parse_crypto(line[len("a=crypto:") :])
            except CryptoError as exc:
                raise SdpError(str(exc)) from exc
            if attribute is None:
                media.crypto_skipped += 1
            else:
                media.crypto.append(attribute)
    if media is None:
        raise SdpError("no audio stream")
    media.host = media_host or session_host
    media.direction = direction
    if not media.host:
        raise SdpError("no connection address")
    return media
