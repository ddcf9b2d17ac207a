"""A push lost on the bus (Redis pub/sub and NATS core are at-most-once), with no later message in
its channel, still reaches live devices on other nodes within a second (the relay's position
heartbeat)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from opentim.protocol import ConvType, Message
from opentim.sdk import Client
from opentim.server.app import Server, make_bus
from opentim.server.bus.base import Bus, Envelope, Handler

from ..conftest import server_config, sig
from ..helpers import until
from ..services import BUS_URLS, bus_prefix, temp_schema

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


class DroppingBus:
    """A real bus that loses the next ``drop`` message pushes this node publishes."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.drop = 0
        self.dropped: list[Envelope] = []

    async def start(self, handler: Handler) -> None:
        await self.bus.start(handler)

    def publish(self, envelope: Envelope) -> None:
        if envelope.channel_id and self.drop:
            self.drop -= 1
            self.dropped.append(envelope)
            return
        self.bus.publish(envelope)

    def ensure_up(self) -> None:
        self.bus.ensure_up()

    async def close(self) -> None:
        await self.bus.close()


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("nats", marks=pytest.mark.nats),
    ]
)
async def nodes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Server, Server, DroppingBus]]:
    async with temp_schema() as store:
        prefix = bus_prefix()
        configs = [
            server_config(tmp_path / f"n{i}", store=store, bus=BUS_URLS[request.param])
            for i in (1, 2)
        ]
        for config in configs:
            config.bus_prefix = prefix
        lossy = DroppingBus(make_bus(configs[0]))
        first, second = Server(configs[0], bus=lossy), Server(configs[1])
        await first.start()
        await second.start()
        try:
            yield first, second, lossy
        finally:
            await first.stop()
            await second.stop()


async def test_a_push_lost_on_the_bus_reaches_the_device_within_a_second(
    nodes: tuple[Server, Server, DroppingBus],
) -> None:
    first, second, lossy = nodes
    alice, bob = Client(first.url), Client(second.url)
    try:
        for client, user in ((alice, "alice"), (bob, "bob")):
            await client.login(user, sig(user))
            await client.wait_synced()
        got: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def arrived(msgs: list[Message]) -> None:
            for m in msgs:
                got.put_nowait((m.msg_id, loop.time()))

        bob.events.new_messages.add(arrived)
        warm = await alice.messages.send_text(ConvType.C2C, "bob", "through the bus")
        async with asyncio.timeout(5):
            assert (await got.get())[0] == warm.msg_id
        await alice.groups.create("g", group_id="g", members=["bob"])
        await until(bob, lambda: bob.conversations.cached(ConvType.GROUP, "g") is not None)
        await bob.engine.settle()
        while not got.empty():  # the group's tip, if announced
            got.get_nowait()
        for i, conv_type, conv_id in ((0, 1, "bob"), (1, 2, "g"), (2, 1, "bob"), (3, 2, "g")):
            # A lost push with nothing after it in its conversation.
            lossy.drop = 1
            sent = await alice.messages.send_text(conv_type, conv_id, f"lost {i}")
            acked = loop.time()
            assert [e.seq for e in lossy.dropped][-1] == sent.seq
            async with asyncio.timeout(1.0):
                msg_id, at = await got.get()
            assert msg_id == sent.msg_id
            assert at - acked < 1.0
        assert got.empty()
    finally:
        await alice.close()
        await bob.close()
