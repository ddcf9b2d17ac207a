"""Property: whatever two devices of one user do, and whenever they drop off, after the last
sync both devices and the server agree on every conversation field — reached incrementally."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from opentim.protocol import ConvType, Draft
from opentim.sdk import Client, SdkError
from opentim.server.app import Server

from ..conftest import server_config, sig
from ..faults import Proxy
from ..helpers import until
from .test_offline import FAST, settled, state, truth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
C2C = ConvType.C2C
PEERS = ("p1", "p2", "p3")
DEVICES = (0, 1)

peer = st.sampled_from(PEERS)
device = st.sampled_from(DEVICES)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), peer),
        st.tuples(st.just("send"), device, peer),
        st.tuples(st.just("read"), device, peer),
        st.tuples(st.just("pin"), device, peer, st.booleans()),
        st.tuples(st.just("draft"), device, peer, st.sampled_from(["a", "b", None])),
        st.tuples(st.just("delete"), device, peer),
        st.tuples(st.just("drop"), device),
        st.tuples(st.just("back"), device),
    ),
    min_size=1,
    max_size=14,
)


async def scenario(steps: list[tuple[Any, ...]], data_dir: Path) -> None:
    server = Server(server_config(data_dir))
    await server.start()
    proxies = [Proxy(server.port), Proxy(server.port)]
    clients: list[Client] = []
    pending: list[asyncio.Future[Any]] = []
    try:
        for proxy in proxies:
            await proxy.start()
        peers: dict[str, Client] = {}
        for name in PEERS:
            peers[name] = Client(server.url)
            clients.append(peers[name])
            await peers[name].login(name, sig(name))
        devices = [
            Client(p.url, device_id=f"d{n}", reconnect_delay=FAST) for n, p in enumerate(proxies)
        ]
        clients += devices
        for dev in devices:
            await dev.login("me", sig("me"))
            await dev.wait_synced()
        await peers["p1"].messages.send_text(C2C, "me", "hello")
        for dev in devices:
            await until(dev, lambda d=dev: bool(d.conversations.list()))  # type: ignore[misc]

        for step in steps:
            kind = step[0]
            if kind == "receive":
                await peers[step[1]].messages.send_text(C2C, "me", "in")
                continue
            dev, proxy = devices[step[1]], proxies[step[1]]
            online = not proxy.down
            if kind == "drop" and online:
                proxy.down = True
                proxy.cut()
                await until(dev, lambda d=dev: not d.connected)  # type: ignore[misc]
            elif kind == "back":
                proxy.down = False
            elif kind == "send":
                # Offline, it waits in the outbox; it is awaited once everyone is back.
                pending.append(asyncio.ensure_future(dev.messages.send_text(C2C, step[2], "out")))
                if online:
                    await pending[-1]
            elif kind == "draft" and dev.conversations.cached(C2C, step[2]) is not None:
                if step[3] is None:
                    await dev.conversations.cancel_draft(C2C, step[2])
                else:
                    await dev.conversations.set_draft(C2C, step[2], Draft(user_define=step[3]))
            elif online and kind in ("read", "pin", "delete"):
                try:
                    if kind == "read":
                        await dev.conversations.mark_read(C2C, step[2])
                    elif kind == "pin":
                        await dev.conversations.pin(C2C, step[2], step[3])
                    else:
                        await dev.conversations.delete(C2C, step[2])
                except SdkError as exc:
                    refused = exc.code
                else:
                    refused = 0
                assert refused in (0, 6004)  # 6004: a conversation this user has not (any more)

        for proxy in proxies:
            proxy.down = False
        async with asyncio.timeout(20):
            await asyncio.gather(*pending)
        await settled(*devices)
        server_view = await truth(server.url, "me")
        await until(devices[0], lambda: state(devices[0]) == server_view)
        await until(devices[1], lambda: state(devices[1]) == server_view)
        for dev in devices:
            assert dev.engine.full_passes == 1, "caught up by a full resync"
    finally:
        for client in clients:
            await client.close()
        for proxy in proxies:
            await proxy.stop()
        await server.stop()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops)
def test_two_devices_and_the_server_converge(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(steps, Path(tmp)))
