"""Choosing an engine by name; each is imported only when chosen (both are heavy native stacks)."""

from __future__ import annotations

from tui.phone.engine import EngineUnavailable, PhoneAccount, PhoneEngine

ENGINES = ("baresip", "pjsua2")


def make_engine(name: str, account: PhoneAccount) -> PhoneEngine:
    """The engine by name; raises :class:`EngineUnavailable` with the install hint when it cannot load."""
    if name == "baresip":
        from tui.phone.baresip_engine import BaresipEngine

        return BaresipEngine(account)
    if name == "pjsua2":
        from tui.phone.pjsua2_engine import Pjsua2Engine

        return Pjsua2Engine(account)
    raise EngineUnavailable(f"unknown engine {name!r} (engines: {', '.join(ENGINES)})")
