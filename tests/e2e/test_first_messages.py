"""The first messages of a conversation new to a device, when its own send is acknowledged
before the pushes of messages stored just before it (the server acks the sender and pushes to
the other devices at about the same time; the order in which they arrive is not fixed)."""

from __future__ import annotations

import asyncio

import pytest

from opentim.protocol import ConvType, Message
from opentim.sdk import Client

from ..conftest import Login
from ..helpers import until

pytestmark = pytest.mark.e2e
C2C = ConvType.C2C


class HeldPushes:
    """Holds a client's message pushes until released (a network that brings them late)."""

    def __init__(self, client: Client) -> None:
        self.engine = client.engine
        self.core = client.session.sync
        self.real = self.core.on_push
        self.held: list[Message] = []
        self.arrived = asyncio.Event()
        self.core.on_push = self.hold  # type: ignore[method-assign]

    def hold(self, msg: Message) -> list[object]:
        self.held.append(msg)
        self.arrived.set()
        return []

    async def wait_for(self, msg_id: str) -> None:
        async with asyncio.timeout(5):
            while not any(m.msg_id == msg_id for m in self.held):
                self.arrived.clear()
                await self.arrived.wait()

    def release(self) -> None:
        self.core.on_push = self.real  # type: ignore[method-assign]
        for msg in self.held:
            self.engine.on_push(msg)


async def test_a_message_pushed_after_the_devices_own_later_send_is_delivered(
    login: Login,
) -> None:
    alice = await login("alice", device_id="alice-phone")
    bob = await login("bob")
    got: list[str] = []
    alice.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
    pushes = HeldPushes(alice)
    first = await bob.messages.send_text(C2C, "alice", "hello")  # seq 1, its push held back
    await pushes.wait_for(first.msg_id)
    reply = await alice.messages.send_text(C2C, "bob", "hi")  # seq 2, acknowledged first
    assert reply.seq == first.seq + 1
    pushes.release()
    await until(alice, lambda: first.msg_id in got, timeout=5)
    await alice.engine.settle()
    assert got == [first.msg_id]


async def test_another_devices_message_pushed_after_this_devices_send_is_delivered(
    login: Login,
) -> None:
    """The same with the user's other device: its message reaches this one late."""
    phone = await login("alice", device_id="alice-phone")
    laptop = await login("alice", device_id="alice-laptop")
    await login("bob")
    got: list[str] = []
    phone.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
    pushes = HeldPushes(phone)
    first = await laptop.messages.send_text(C2C, "bob", "from the laptop")
    await pushes.wait_for(first.msg_id)
    await phone.messages.send_text(C2C, "bob", "from the phone")
    pushes.release()
    await until(phone, lambda: first.msg_id in got, timeout=5)
    await phone.engine.settle()
    assert got == [first.msg_id]
