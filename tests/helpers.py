"""Waiting without sleeping: re-check a condition each time a client reports an event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

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
        client.events.friendship.add(poke),
        client.events.updated.add(poke),
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
