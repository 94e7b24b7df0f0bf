"""Resolving a call id prefix against GET /calls (and /groupcalls when the client can list them)."""

from __future__ import annotations

from typing import Any

import pytest

from tui.session.call_lookup import CallLookupError, list_choices, resolve_call_id
from tui.voipbin.models import Call, Groupcall, Page

A1 = "aaaa1111-0000-4000-8000-000000000001"
A2 = "aaaa2222-0000-4000-8000-000000000002"
B1 = "bbbb1111-0000-4000-8000-000000000003"
G1 = "cccc1111-0000-4000-8000-000000000004"


class Client:
    def __init__(self, calls: list[Call], groupcalls: list[Groupcall] | None = None) -> None:
        self.calls = calls
        self.groupcalls = groupcalls
        self.listed = 0

    async def list_calls(self, page_size: int = 100) -> Page[Call]:
        self.listed += 1
        return Page[Call](result=self.calls)

    def __getattr__(self, name: str) -> Any:
        if name == "list_groupcalls" and self.groupcalls is not None:
            groupcalls = self.groupcalls

            async def list_groupcalls(page_size: int = 100) -> Page[Groupcall]:
                return Page[Groupcall](result=groupcalls)

            return list_groupcalls
        raise AttributeError(name)


CALLS = [Call(id=A1, status="hangup"), Call(id=A2, status="progressing"), Call(id=B1, status="hangup")]


async def test_a_full_id_is_taken_as_it_is_without_listing() -> None:
    client = Client(CALLS)
    assert await resolve_call_id(client, A1.upper()) == A1
    assert client.listed == 0


async def test_a_unique_prefix_resolves() -> None:
    assert await resolve_call_id(Client(CALLS), "bbbb") == B1
    assert await resolve_call_id(Client(CALLS), "aaaa2") == A2


async def test_an_ambiguous_prefix_names_the_candidates_and_asks_for_more() -> None:
    with pytest.raises(CallLookupError) as info:
        await resolve_call_id(Client(CALLS), "aaaa")
    assert "matches 2 calls" in info.value.message
    assert "full call id (a UUID) or a longer prefix" in info.value.hint


async def test_no_match_and_not_an_id() -> None:
    with pytest.raises(CallLookupError) as info:
        await resolve_call_id(Client(CALLS), "dd")
    assert "no call or groupcall id starts with dd" in info.value.message
    assert "longer prefix" in info.value.hint
    with pytest.raises(CallLookupError) as info:
        await resolve_call_id(Client(CALLS), "my call")
    assert "is not a call id" in info.value.message


async def test_groupcalls_are_found_when_the_client_lists_them() -> None:
    client = Client(CALLS, [Groupcall(id=G1, status="progressing")])
    assert await resolve_call_id(client, "cccc") == G1
    choices = await list_choices(client)
    assert [c.id for c in choices][:2] in ([A2, G1], [G1, A2]), "live ones first"
