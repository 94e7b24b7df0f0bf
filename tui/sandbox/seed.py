"""Seed data: one customer, its admin agent, an accesskey, numbers and extensions."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from tui.sandbox.auth import PERMISSION_CUSTOMER_ADMIN
from tui.sandbox.encoding import ZERO_UUID, go_time, new_id
from tui.sandbox.models import Customer, Extension, Number
from tui.sandbox.settings import SandboxSettings
from tui.sandbox.store import Store


@dataclass
class Seed:
    customer_id: str
    accesskey: str
    agent: dict[str, Any]
    jwt_secret: bytes


def new_accesskey() -> str:
    return "vb_" + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")


def load_seed(settings: SandboxSettings, store: Store) -> Seed:
    customer_id = settings.customer_id or str(uuid.uuid4())
    created = store.stamp()
    store.customer = Customer(
        id=customer_id,
        name=settings.customer_name,
        email=settings.customer_email,
        identity_verification_status="verified" if settings.identity_verified else "none",
        webhook_secret=secrets.token_hex(16),
        billing_account_id=new_id(),
        tm_create=created,
    )
    for number in settings.numbers:
        item = Number(id=new_id(), customer_id=customer_id, number=number, tm_create=store.stamp())
        store.numbers[item.id] = item
    for seed in settings.extensions:
        ext = Extension(
            id=new_id(),
            customer_id=customer_id,
            name=seed.name,
            detail=seed.detail,
            extension=seed.extension,
            password=seed.password or secrets.token_hex(8),
            direct_hash="direct." + secrets.token_hex(6),
            registered=seed.registered,
            tm_create=store.stamp(),
        )
        store.extensions[ext.id] = ext
    agent = {
        "id": new_id(),
        "customer_id": customer_id,
        "username": settings.username,
        "name": "Sandbox Admin",
        "detail": "",
        "ring_method": "ringall",
        "status": "available",
        "permission": PERMISSION_CUSTOMER_ADMIN,
        "tag_ids": [],
        "addresses": [],
        "direct_id": ZERO_UUID,
        "direct_hash": "",
        "tm_create": go_time(created),
    }
    return Seed(
        customer_id=customer_id,
        accesskey=settings.accesskey or new_accesskey(),
        agent=agent,
        jwt_secret=secrets.token_bytes(32),
    )
