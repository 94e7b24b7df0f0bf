"""SIP messages: bounded parsing, building, header and URI helpers (an RFC 3261 subset)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

MAX_MESSAGE_BYTES = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERS = 120
MAX_BODY_BYTES = 32 * 1024
BRANCH_MAGIC = "z9hG4bK"

_COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
}
_CANONICAL = {
    "via": "Via",
    "from": "From",
    "to": "To",
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "contact": "Contact",
    "content-length": "Content-Length",
    "content-type": "Content-Type",
    "www-authenticate": "WWW-Authenticate",
    "max-forwards": "Max-Forwards",
    "user-agent": "User-Agent",
}
_STATUS_RE = re.compile(r"^SIP/2\.0 ([1-6][0-9]{2}) ?(.*)$")
_REQUEST_RE = re.compile(r"^([A-Za-z]{1,32}) (\S{1,2048}) SIP/2\.0$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x80-\x9f]")
_PARAM_SPLIT = re.compile(r";(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")


class SipParseError(ValueError):
    """A message we cannot (or will not) read."""


def header_key(name: str) -> str:
    lowered = name.strip().lower()
    return _COMPACT.get(lowered, lowered)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return BRANCH_MAGIC + secrets.token_hex(8)


@dataclass
class SipMessage:
    """A request (``method`` set) or a response (``status`` set)."""

    method: str = ""
    uri: str = ""
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return bool(self.method)

    def get(self, name: str) -> str | None:
        key = header_key(name)
        for hname, value in self.headers:
            if header_key(hname) == key:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        """Every value of a header, comma-separated lists split (never inside quotes or <>)."""
        key = header_key(name)
        out: list[str] = []
        for hname, value in self.headers:
            if header_key(hname) == key:
                out.extend(split_list(value))
        return out

    def add(self, name: str, value: str) -> None:
        self.headers.append((_CANONICAL.get(name.lower(), name), value))

    def set(self, name: str, value: str) -> None:
        key = header_key(name)
        self.headers = [(h, v) for h, v in self.headers if header_key(h) != key]
        self.add(name, value)

    @property
    def cseq(self) -> tuple[int, str]:
        raw = (self.get("cseq") or "").split()
        if len(raw) != 2 or not raw[0].isdigit():
            raise SipParseError("bad CSeq")
        return int(raw[0]), raw[1].upper()

    @property
    def call_id(self) -> str:
        return self.get("call-id") or ""

    def top_branch(self) -> str:
        vias = self.get_all("via")
        if not vias:
            return ""
        return header_params(vias[0]).get("branch", "")

    def to_bytes(self) -> bytes:
        start = f"{self.method} {self.uri} SIP/2.0" if self.method else f"SIP/2.0 {self.status} {self.reason}"
        lines = [start]
        lines.extend(f"{name}: {value}" for name, value in self.headers if header_key(name) != "content-length")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


def split_list(value: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    for index, char in enumerate(value):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth = max(0, depth - 1)
        elif char == "," and not quoted and depth == 0:
            parts.append(value[start:index].strip())
            start = index + 1
    parts.append(value[start:].strip())
    return [part for part in parts if part]


def header_params(value: str) -> dict[str, str]:
    """The ``;name=value`` parameters after the (name-)address of a header value, lower-cased names."""
    rest = value[value.rfind(">") + 1 :] if ">" in value else value
    out: dict[str, str] = {}
    for piece in _PARAM_SPLIT.split(rest)[1:]:
        name, _, param = piece.partition("=")
        out[name.strip().lower()] = param.strip().strip('"')
    return out


def address_uri(value: str) -> str:
    """The URI inside a name-addr (``"Bob" <sip:bob@x>;tag=1``) or an addr-spec (``sip:bob@x;tag=1``)."""
    if "<" in value and ">" in value:
        return value[value.index("<") + 1 : value.index(">")].strip()
    return _PARAM_SPLIT.split(value.strip())[0].strip()


@dataclass
class SipUri:
    scheme: str
    user: str
    host: str
    port: int | None
    params: dict[str, str]

    @property
    def transport(self) -> str:
        return self.params.get("transport", "").lower()


def parse_uri(uri: str) -> SipUri:
    scheme, sep, rest = uri.partition(":")
    if not sep or scheme.lower() not in ("sip", "sips"):
        raise SipParseError("not a sip: URI")
    rest = rest.split("?", 1)[0]
    pieces = rest.split(";")
    hostpart = pieces[0]
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, _, value = piece.partition("=")
        params[name.strip().lower()] = value.strip()
    user = ""
    if "@" in hostpart:
        user, hostpart = hostpart.rsplit("@", 1)
        user = user.split(":", 1)[0]
    port: int | None = None
    if hostpart.startswith("["):
        end = hostpart.find("]")
        host = hostpart[1:end]
        tail = hostpart[end + 1 :]
        if tail.startswith(":") and tail[1:].isdigit():
            port = int(tail[1:])
    else:
        host, _, port_text = hostpart.partition(":")
        if port_text:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise SipParseError("bad port in URI")
            port = int(port_text)
    if not host:
        raise SipParseError("no host in URI")
    return SipUri(scheme.lower(), user, host.lower(), port, params)


def parse_message(data: bytes) -> SipMessage:
    """One whole message (a datagram, or head + body read from a stream)."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise SipParseError("message too large")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
        if not sep:
            raise SipParseError("no end of headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("headers are not UTF-8") from exc
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0].strip()
    if _CONTROL.search(start):
        raise SipParseError("control character in the start line")
    message = SipMessage()
    status = _STATUS_RE.match(start)
    if status:
        message.status = int(status.group(1))
        message.reason = status.group(2)
    else:
        request = _REQUEST_RE.match(start)
        if not request:
            raise SipParseError("bad start line")
        message.method = request.group(1).upper()
        message.uri = request.group(2)
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and message.headers:
            name, value = message.headers[-1]
            message.headers[-1] = (name, value + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise SipParseError("bad header line")
        if _CONTROL.search(line):
            raise SipParseError("control character in a header")
        message.headers.append((name.strip(), value.strip()))
        if len(message.headers) > MAX_HEADERS:
            raise SipParseError("too many headers")
    length_text = message.get("content-length")
    if length_text is not None:
        if not length_text.isdigit():
            raise SipParseError("bad Content-Length")
        length = int(length_text)
        if length > MAX_BODY_BYTES or length > len(body):
            raise SipParseError("body shorter than Content-Length")
        body = body[:length]
    for required in ("via", "call-id", "cseq", "from", "to"):
        if message.get(required) is None:
            raise SipParseError(f"missing {required} header")
    message.body = body
    _ = message.cseq
    return message


def response_to(request: SipMessage, status: int, reason: str, *, to_tag: str | None = None) -> SipMessage:
    """A response copying Via, From, To (with our tag when it has none), Call-ID and CSeq."""
    response = SipMessage(status=status, reason=reason)
    for name, value in request.headers:
        if header_key(name) == "via":
            response.headers.append(("Via", value))
    response.add("From", request.get("from") or "")
    to = request.get("to") or ""
    if to_tag and "tag" not in header_params(to):
        to = f"{to};tag={to_tag}"
    response.add("To", to)
    response.add("Call-ID", request.call_id)
    response.add("CSeq", request.get("cseq") or "")
    return response


def tag_of(value: str | None) -> str:
    return header_params(value or "").get("tag", "")
