"""A new device's first sync: what was said before it logged in is history (not announced);
everything sent after its login returned reaches it as new messages, exactly once, however the
pushes and the full pass's pages interleave."""

from __future__ import annotations

import asyncio

import pytest

from opentim.protocol import ConvType
from opentim.sdk import Client
from opentim.server.app import Server

from ..conftest import Login, sig
from ..helpers import until

pytestmark = pytest.mark.e2e
C2C = ConvType.C2C


async def test_messages_sent_during_a_new_devices_first_sync_are_all_announced(
    server: Server, login: Login
) -> None:
    alice = await login("alice")
    await (await login("bob")).close()  # bob exists, on another device
    for i in range(5):
        await alice.messages.send_text(C2C, "bob", f"history {i}")
    for n in range(120):  # a first sync of several pages
        other = await login(f"peer{n}")
        await other.messages.send_text(C2C, "bob", "hello")
        await other.close()
    sent: list[str] = []
    stop = asyncio.Event()

    async def keep_sending() -> None:
        while not stop.is_set():
            sent.append((await alice.messages.send_text(C2C, "bob", "new")).msg_id)

    sender = asyncio.ensure_future(keep_sending())
    bob = Client(server.url)
    got: list[str] = []
    bob.events.new_messages.add(
        lambda msgs: got.extend(m.msg_id for m in msgs if m.sender == "alice")
    )
    try:
        await bob.login("bob", sig("bob"))
        started_after = len(sent) + 1  # the send in flight at login may be history
        await bob.wait_synced()
        for _ in range(3):
            sent.append((await alice.messages.send_text(C2C, "bob", "after")).msg_id)
        stop.set()
        await sender
        expected = sent[started_after:]
        await until(bob, lambda: set(expected) <= set(got), timeout=10)
        assert len(got) == len(set(got)), "a message announced twice"
        assert set(got) <= set(sent), "history announced as new"
    finally:
        stop.set()
        await bob.close()
