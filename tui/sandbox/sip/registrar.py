"""The registrar: REGISTER with MD5 digest at the extension's domain, one binding per extension.

Answers: no credentials -> 401 with a challenge; a wrong password -> 401 with a fresh challenge the first
time in a dialog (Call-ID), 403 after that; an extension that does not exist at that domain -> 404;
``Expires: 0`` (or ``Contact: *``) removes the binding. The newest binding of an extension is the one an
INVITE goes to (VoIPBIN rings every contact; the sandbox keeps one, see docs/sandbox.md).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass

from tui.sandbox.sip.digest import DigestAuth, parse_credentials
from tui.sandbox.sip.message import (
    SipMessage,
    SipParseError,
    address_uri,
    header_params,
    new_tag,
    parse_uri,
    response_to,
)
from tui.sandbox.sip.transport import Flow

DEFAULT_EXPIRES = 3600
MAX_EXPIRES = 3600
_MAX_FAILURE_DIALOGS = 1024


@dataclass
class Account:
    """What the registrar needs to know of an extension."""

    extension: str
    domain: str
    password: str


@dataclass
class Binding:
    extension: str
    contact: str
    flow: Flow
    expires_at: float
    user_agent: str

    @property
    def expires_in(self) -> int:
        return max(0, round(self.expires_at - time.monotonic()))


class Registrar:
    def __init__(self, accounts: Callable[[], list[Account]]) -> None:
        self._accounts = accounts
        self.auth = DigestAuth()
        self.bindings: dict[str, Binding] = {}
        self._failures: collections.OrderedDict[str, int] = collections.OrderedDict()

    def account(self, user: str, domain: str) -> Account | None:
        for account in self._accounts():
            if account.extension == user and account.domain.lower() == domain.lower():
                return account
        return None

    def binding(self, extension: str) -> Binding | None:
        binding = self.bindings.get(extension)
        if binding is None:
            return None
        if binding.expires_at <= time.monotonic():
            del self.bindings[extension]
            return None
        return binding

    def handle(self, request: SipMessage, flow: Flow) -> SipMessage:
        try:
            aor = parse_uri(address_uri(request.get("to") or ""))
        except SipParseError:
            return response_to(request, 400, "Bad To header", to_tag=new_tag())
        account = self.account(aor.user, aor.host)
        if account is None:
            return response_to(request, 404, "Not Found", to_tag=new_tag())
        fields = parse_credentials(request.get("authorization") or "")
        if not fields:
            return self._challenge(request, account)
        verdict = self.auth.verify(
            fields, method="REGISTER", realm=account.domain, username=account.extension, password=account.password
        )
        if verdict.stale:
            return self._challenge(request, account, stale=True)
        if not verdict.ok:
            failures = self._failures.pop(request.call_id, 0) + 1
            self._failures[request.call_id] = failures
            while len(self._failures) > _MAX_FAILURE_DIALOGS:
                self._failures.popitem(last=False)
            if failures >= 2:
                return response_to(request, 403, "Forbidden", to_tag=new_tag())
            return self._challenge(request, account)
        self._failures.pop(request.call_id, None)
        return self._update(request, flow, account)

    def _challenge(self, request: SipMessage, account: Account, *, stale: bool = False) -> SipMessage:
        response = response_to(request, 401, "Unauthorized", to_tag=new_tag())
        response.add("WWW-Authenticate", self.auth.challenge(account.domain, stale=stale))
        return response

    def _update(self, request: SipMessage, flow: Flow, account: Account) -> SipMessage:
        contacts = request.get_all("contact")
        header_expires = request.get("expires")
        default = int(header_expires) if header_expires and header_expires.isdigit() else DEFAULT_EXPIRES
        if contacts == ["*"]:
            if default != 0:
                return response_to(request, 400, "Contact * needs Expires 0", to_tag=new_tag())
            self.bindings.pop(account.extension, None)
        for contact in contacts if contacts != ["*"] else []:
            param = header_params(contact).get("expires", "")
            expires = min(MAX_EXPIRES, int(param) if param.isdigit() else default)
            uri = address_uri(contact)
            try:
                parse_uri(uri)
            except SipParseError:
                return response_to(request, 400, "Bad Contact", to_tag=new_tag())
            current = self.bindings.get(account.extension)
            if expires == 0:
                if current is not None and current.contact == uri:
                    del self.bindings[account.extension]
                continue
            self.bindings[account.extension] = Binding(
                extension=account.extension,
                contact=uri,
                flow=flow,
                expires_at=time.monotonic() + expires,
                user_agent=(request.get("user-agent") or "")[:200],
            )
        response = response_to(request, 200, "OK", to_tag=new_tag())
        binding = self.binding(account.extension)
        if binding is not None:
            response.add("Contact", f"<{binding.contact}>;expires={binding.expires_in}")
        return response
