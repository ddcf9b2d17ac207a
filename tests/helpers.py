"""Waiting without sleeping: re-check a condition each time a client reports an event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from opentim.sdk import Client, Conversation


async def until(client: Client, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds, re-checking after every event of ``client``."""
    changed = asyncio.Event()

    def poke(*_: object) -> None:
        changed.set()

    removers = [
        client.events.conversations.add(poke),
        client.events.total_unread.add(poke),
        client.events.new_messages.add(poke),
        client.events.kicked.add(poke),
        client.events.network.add(poke),
    ]
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await changed.wait()
                changed.clear()
    finally:
        for remove in removers:
            remove()


def ids(client: Client) -> list[str]:
    """The client's conversation list as conv ids, in list order."""
    return [c.conv_id for c in client.conversations.list()]


def conv(client: Client, conv_type: int, conv_id: str) -> Conversation:
    """The client's visible conversation; the test fails when it has none."""
    found = client.conversations.cached(conv_type, conv_id)
    assert found is not None, f"{client.user_id} has no {conv_id}"
    return found


async def settled_offline(server: Any, users: list[str], timeout: float = 5.0) -> None:
    """Wait until the server has recorded that none of ``users`` is connected (a client's
    ``close`` returns before the server has handled the closed socket)."""
    async with asyncio.timeout(timeout):
        while any(s.status_type == 1 for s in await server.store.presence.statuses(users)):
            await asyncio.sleep(0.01)
