"""The send path's blacklist copy (services/blocks.py): read once, dropped on a change, re-read
after its time to live, and never put back stale by a read that overlapped a change."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from opentim.server.services.blocks import Blacklists


class Friends:
    def __init__(self) -> None:
        self.lists: dict[str, list[str]] = {}
        self.reads = 0
        self.gate: asyncio.Event | None = None

    async def blocked_ids(self, user_id: str) -> list[str]:
        self.reads += 1
        answer = list(self.lists.get(user_id, []))
        if self.gate is not None:
            await self.gate.wait()
        return answer


def cache(ttl: float | None = None) -> tuple[Blacklists, Friends, list[float]]:
    friends = Friends()
    now = [0.0]
    store = SimpleNamespace(friends=friends)
    return Blacklists(store, lambda: now[0], ttl), friends, now  # type: ignore[arg-type]


async def test_a_list_is_read_once_and_dropped_on_a_change() -> None:
    lists, friends, _ = cache()
    assert not await lists.blocks("alice", "bob")
    assert not await lists.blocks("alice", "carol")
    assert friends.reads == 1
    friends.lists["alice"] = ["bob"]
    assert not await lists.blocks("alice", "bob")  # the copy holds until it is dropped
    lists.forget("alice")
    assert await lists.blocks("alice", "bob")
    assert friends.reads == 2


async def test_a_copy_is_read_again_after_its_time_to_live() -> None:
    lists, friends, now = cache(ttl=60.0)
    assert not await lists.blocks("alice", "bob")
    friends.lists["alice"] = ["bob"]
    now[0] = 59.0
    assert not await lists.blocks("alice", "bob")
    now[0] = 60.0
    assert await lists.blocks("alice", "bob")
    assert friends.reads == 2


async def test_a_read_overlapping_a_change_does_not_keep_the_old_list() -> None:
    lists, friends, _ = cache()
    friends.gate = asyncio.Event()
    slow = asyncio.create_task(lists.blocks("alice", "bob"))
    await asyncio.sleep(0)  # the read has begun (it waits on the gate)
    assert friends.reads == 1
    friends.lists["alice"] = ["bob"]
    lists.forget("alice")  # the change committed while the read was in flight
    friends.gate.set()
    assert not await slow  # that read answers with what it saw...
    assert await lists.blocks("alice", "bob")  # ...but did not keep it
    assert friends.reads == 2
