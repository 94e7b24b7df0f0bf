"""The account's own resources (numbers, extensions, the customer): what a dial is made from, not the call."""

from __future__ import annotations

from typing import Any

from tui.voipbin.model_types import Bool, Secret, Str, Time, VoipbinModel


class Number(VoipbinModel):
    """A phone number owned by the customer (``GET /numbers``)."""

    id: Str = ""
    customer_id: Str = ""
    number: Str = ""
    type: Str = ""
    call_flow_id: Str = ""
    message_flow_id: Str = ""
    name: Str = ""
    detail: Str = ""
    status: Str = ""
    t38_enabled: Bool = False
    emergency_enabled: Bool = False
    metadata: dict[str, Any] | None = None
    tm_purchase: Time = None
    tm_renew: Time = None
    tm_create: Time = None
    tm_update: Time = None
    tm_delete: Time = None

    @property
    def usable_as_tel_source(self) -> bool:
        """Only active ``normal`` numbers pass the server's source check for ``tel`` destinations."""
        return self.type == "normal" and self.status == "active"


class Extension(VoipbinModel):
    """A SIP extension (``GET /extensions``). Dial it by ``extension``, show ``name``."""

    id: Str = ""
    customer_id: Str = ""
    name: Str = ""
    detail: Str = ""
    extension: Str = ""
    domain_name: Str = ""
    username: Str = ""
    password: Secret = None
    direct_hash: Str = ""
    tm_create: Time = None
    tm_update: Time = None
    tm_delete: Time = None


class Customer(VoipbinModel):
    """The authenticated customer (``GET /customer``); ``id`` is used in WebSocket topics."""

    id: Str = ""
    name: Str = ""
    detail: Str = ""
    email: Str = ""
    phone_number: Str = ""
    address: Str = ""
    webhook_method: Str = ""
    webhook_uri: Str = ""
    webhook_secret: Secret = None
    billing_account_id: Str = ""
    metadata: dict[str, Any] | None = None
    email_verified: Bool = False
    status: Str = ""
    identity_verification_status: Str = ""
    tm_deletion_scheduled: Time = None
    tm_create: Time = None
    tm_update: Time = None
    tm_delete: Time = None
