"""Waiting without sleeping: re-check a condition each time a client reports an event."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import pytest

from opentim.sdk import Client, Conversation, SdkError
from opentim.sdk.events import Listeners

T = TypeVar("T")


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


class Heard(Generic[T]):
    """What one event of a client reported, in order: each call's argument, or its arguments
    as a tuple when there are several (``Heard[tuple[str, ExtPush]](client.events.extensions)``)."""

    def __init__(self, listeners: Listeners[Any]) -> None:
        self.items: list[T] = []
        self._changed = asyncio.Event()
        listeners.add(self._add)

    def _add(self, *args: Any) -> None:
        self.items.append(args[0] if len(args) == 1 else args)  # type: ignore[arg-type]
        self._changed.set()

    async def wait(self, n: int, timeout: float = 5.0) -> list[T]:
        """The items once there are ``n`` of them."""
        async with asyncio.timeout(timeout):
            while len(self.items) < n:
                self._changed.clear()
                await self._changed.wait()
        return self.items


async def code(call: Awaitable[object]) -> int:
    """The code a call is refused with (it must be refused)."""
    with pytest.raises(SdkError) as refused:
        await call
    return refused.value.code
