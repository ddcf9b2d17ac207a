"""The Bus contract, on every engine (in-process, Redis, NATS): every node sees every envelope,
whole and in publish order; deployments are isolated by prefix; a lost service is refused
clearly and recovered from."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import pytest

from opentim.server.bus.base import Bus, BusUnavailableError, Envelope
from opentim.server.bus.local import LocalBus
from opentim.server.bus.nats import NatsBus
from opentim.server.bus.redis import RedisBus

from ..faults import Proxy
from ..services import BUS_URLS, bus_prefix

Make = Callable[[str], Bus]
NETWORKED = [
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("nats", marks=pytest.mark.nats),
]


def maker(kind: str, url: str | None = None) -> Make:
    if kind == "local":
        return lambda prefix: LocalBus()
    if kind == "redis":
        return lambda prefix: RedisBus(url or BUS_URLS["redis"], prefix, backoff_max=0.2)
    return lambda prefix: NatsBus(
        url or BUS_URLS["nats"], prefix, reconnect_wait=0.1, connect_timeout=1
    )


class Node:
    """A bus and what its handler received."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.got: list[Envelope] = []
        self._changed = asyncio.Event()

    def handle(self, env: Envelope) -> None:
        self.got.append(env)
        self._changed.set()

    async def until(self, n: int, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while len(self.got) < n:
                await self._changed.wait()
                self._changed.clear()


@pytest.fixture
async def nodes() -> AsyncIterator[Callable[..., object]]:
    started: list[Node] = []

    async def start(make: Make, prefix: str) -> Node:
        node = Node(make(prefix))
        await node.bus.start(node.handle)
        started.append(node)
        return node

    yield start
    for node in started:
        await node.bus.close()


@pytest.fixture(params=["local", *NETWORKED])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_an_envelope_arrives_whole(kind: str, nodes: Callable[..., object]) -> None:
    node: Node = await nodes(maker(kind), bus_prefix())  # type: ignore[misc]
    env = Envelope(
        frame=b'{"t":"push"}',
        users=["a", "b"],
        group_id="g",
        extra_users=["c"],
        skip_conn="n1-7",
        channel_id="g:g",
        seq=42,
        members_changed=True,
        profile_changed="a",
    )
    node.bus.ensure_up()
    node.bus.publish(env)
    await node.until(1)
    assert node.got == [env]


async def test_every_node_sees_one_publishers_envelopes_in_order(
    kind: str, nodes: Callable[..., object]
) -> None:
    prefix = bus_prefix()
    count = 1 if kind == "local" else 3  # the in-process bus is one node by definition
    receivers: list[Node] = [await nodes(maker(kind), prefix) for _ in range(count)]  # type: ignore[misc]
    for seq in range(1, 501):
        receivers[0].bus.publish(Envelope(channel_id="c", seq=seq))
    for node in receivers:
        await node.until(500)
        assert [e.seq for e in node.got] == list(range(1, 501))


async def test_another_prefix_is_another_deployment(
    kind: str, nodes: Callable[..., object]
) -> None:
    mine: Node = await nodes(maker(kind), bus_prefix())  # type: ignore[misc]
    theirs: Node = await nodes(maker(kind), bus_prefix())  # type: ignore[misc]
    theirs.bus.publish(Envelope(users=["theirs"]))
    mine.bus.publish(Envelope(users=["mine"]))
    await mine.until(1)
    await theirs.until(1)
    assert [e.users for e in mine.got] == [["mine"]]
    assert [e.users for e in theirs.got] == [["theirs"]]


@pytest.mark.parametrize("kind", NETWORKED)
async def test_start_names_an_unreachable_service(kind: str) -> None:
    url = "redis://127.0.0.1:1/0" if kind == "redis" else "nats://127.0.0.1:1"
    bus = maker(kind, url)(bus_prefix())
    with pytest.raises(BusUnavailableError, match=r"127\.0\.0\.1:1\b"):
        await bus.start(lambda env: None)


@pytest.mark.parametrize("kind", NETWORKED)
async def test_a_lost_service_is_refused_then_recovered_without_losing_queued_pushes(
    kind: str, nodes: Callable[..., object]
) -> None:
    target = urlsplit(BUS_URLS[kind])
    proxy = Proxy(target.port or 0, target.hostname or "127.0.0.1")
    port = await proxy.start()
    url = f"{target.scheme}://127.0.0.1:{port}{target.path}"
    prefix = bus_prefix()
    try:
        cut_off: Node = await nodes(maker(kind, url), prefix)  # type: ignore[misc]
        direct: Node = await nodes(maker(kind), prefix)  # type: ignore[misc]
        cut_off.bus.publish(Envelope(seq=1))
        await direct.until(1)
        proxy.go_down()
        async with asyncio.timeout(10):  # the loss is noticed (no sleeping: poll the state)
            while True:
                try:
                    cut_off.bus.ensure_up()
                except BusUnavailableError:
                    break
                cut_off.bus.publish(Envelope(seq=0))  # traffic makes the loss show sooner
                await asyncio.sleep(0.01)
        cut_off.bus.publish(Envelope(seq=2))  # queued while the service is away
        proxy.restore()
        async with asyncio.timeout(10):
            while not any(e.seq == 2 for e in direct.got):
                await direct.until(len(direct.got) + 1)
        assert [e.seq for e in direct.got if e.seq] == [1, 2]
        async with asyncio.timeout(10):
            while True:
                try:
                    cut_off.bus.ensure_up()
                    break
                except BusUnavailableError:
                    await asyncio.sleep(0.01)
        # Pub/sub is at-most-once: a subscription is live again once the node hears itself.
        cut_off.bus.publish(Envelope(users=["probe"]))
        async with asyncio.timeout(10):
            while not any(e.users == ["probe"] for e in cut_off.got):
                await cut_off.until(len(cut_off.got) + 1)
        direct.bus.publish(Envelope(seq=3))  # and it receives again
        async with asyncio.timeout(10):
            while not any(e.seq == 3 for e in cut_off.got):
                await cut_off.until(len(cut_off.got) + 1)
    finally:
        await proxy.stop()
