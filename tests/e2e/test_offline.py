"""Offline-first SDK against a real server, with faults injected between them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from opentim.protocol import ConvType, Draft
from opentim.sdk import Client, ConvEvent, NetworkStatus
from opentim.server.app import Server

from ..conftest import FAST, SECRET_KEY, Login, sig
from ..faults import Proxy
from ..helpers import ids, until

pytestmark = pytest.mark.e2e
C2C, GROUP = ConvType.C2C, ConvType.GROUP


def state(client: Client) -> dict[tuple[int, str], tuple[Any, ...]]:
    """Every field a user sees of each visible conversation."""
    return {
        (c.conv_type, c.conv_id): (
            c.unread,
            c.pinned,
            c.draft.user_define if c.draft else None,
            c.last_msg.msg_id if c.last_msg else None,
            c.max_seq,
            c.read_seq,
            c.order_key,
        )
        for c in client.conversations.list()
    }


async def truth(url: str, user: str) -> dict[tuple[int, str], tuple[Any, ...]]:
    """What the server says: a brand-new device's view."""
    fresh = Client(url, device_id="truth")
    await fresh.login(user, sig(user))
    await fresh.wait_synced()
    try:
        return state(fresh)
    finally:
        await fresh.close()


async def settled(*clients: Client) -> None:
    """Each client is connected, synced, and has filled every gap it knows of."""
    for client in clients:
        await client.wait_connected(10)
        await client.wait_synced(10)
        await client.engine.settle()


def received(client: Client) -> list[str]:
    got: list[str] = []
    client.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
    return got


async def test_cut_connection_reconnects_and_queued_sends_go_out_once(
    login: Login, proxy: Proxy
) -> None:
    alice = await login("alice")
    bob = Client(proxy.url, reconnect_delay=FAST)
    statuses: list[NetworkStatus] = []
    bob.events.network.add(lambda status, code, desc: statuses.append(status))
    await bob.login("bob", sig("bob"))
    await bob.wait_synced()
    got = received(bob)
    try:
        proxy.down = True
        proxy.cut()
        await until(bob, lambda: not bob.connected)
        sending = asyncio.ensure_future(bob.messages.send_text(C2C, "alice", "while offline"))
        sent = [await alice.messages.send_text(C2C, "bob", f"m{i}") for i in range(5)]
        assert not sending.done()
        proxy.down = False
        async with asyncio.timeout(10):
            mine = await sending
        await settled(bob)
        assert got == [m.msg_id for m in sent]
        assert bob.conversations.total_unread() == 0  # replying read the five
        history = await alice.messages.history(C2C, "bob", count=100)
        assert Counter(m.msg_id for m in history)[mine.msg_id] == 1
        assert NetworkStatus.DISCONNECTED in statuses
        assert statuses[-1] is NetworkStatus.CONNECTED
        assert bob.engine.full_passes == 1
    finally:
        await bob.close()


async def test_connection_cut_mid_frame_loses_and_doubles_nothing(
    login: Login, proxy: Proxy
) -> None:
    await login("alice")
    bob = Client(proxy.url, reconnect_delay=FAST)
    await bob.login("bob", sig("bob"))
    await bob.wait_synced()
    try:
        msgs = [
            bob.messages.new_message([{"elem_type": 0, "text_elem_content": f"{i}"}])
            for i in range(40)
        ]
        sends = [asyncio.ensure_future(bob.messages.send(C2C, "alice", m)) for m in msgs]
        proxy.cut_mid_frame = True  # the next frame from the server is cut in half
        async with asyncio.timeout(15):
            stored = await asyncio.gather(*sends)
        assert proxy.cuts >= 1
        assert sorted(m.seq for m in stored) == list(range(1, 41))
        history = await bob.messages.history(C2C, "alice", count=100)
        assert sorted(m.msg_id for m in history) == sorted(m.msg_id for m in msgs)
    finally:
        await bob.close()


async def test_offline_device_catches_up_exactly(
    login: Login, proxy: Proxy, tmp_path: Path
) -> None:
    peers = [await login(f"peer{i}") for i in range(10)]
    b1 = await login("bob", device_id="b1")
    for peer in peers:
        await peer.messages.send_text(C2C, "bob", "hello")
    b2 = Client(proxy.url, device_id="b2", data_dir=tmp_path, reconnect_delay=FAST)
    await b2.login("bob", sig("bob"))
    await settled(b2)
    got = received(b2)
    try:
        proxy.down = True
        proxy.cut()
        await until(b2, lambda: not b2.connected)
        sent: list[str] = []
        by_peer: dict[str, list[str]] = {p.user_id: [] for p in peers}
        for round_ in range(10):
            for peer in peers:
                for i in range(10):
                    msg = await peer.messages.send_text(C2C, "bob", f"{round_}-{i}")
                    sent.append(msg.msg_id)
                    by_peer[peer.user_id].append(msg.msg_id)
        assert len(sent) == 1000
        # 50 conversation changes on the other device, then a deletion.
        for n, peer in enumerate(peers):
            pid = peer.user_id
            await b1.conversations.pin(C2C, pid, True)
            await b1.conversations.set_draft(C2C, pid, Draft(user_define=f"d{n}"))
            await b1.conversations.mark_read(C2C, pid, seq=50 + n)
            await b1.conversations.set_draft(C2C, pid, Draft(user_define=f"d{n} again"))
            if n % 2:
                await b1.conversations.pin(C2C, pid, False)
            else:
                await b1.conversations.cancel_draft(C2C, pid)
        await b1.conversations.delete(C2C, "peer9")
        proxy.down = False
        await settled(b2, b1)
        server = await truth(b1.server_url, "bob")
        assert state(b2) == server
        assert state(b1) == server
        # Every message missed while offline reached the app once, in order per conversation;
        # those of the conversation deleted meanwhile are not replayed.
        assert len(got) == len(set(got))
        assert set(got) == set(sent) - set(by_peer["peer9"])
        for peer_id in ("peer0", "peer5"):
            assert [m for m in got if m in set(by_peer[peer_id])] == by_peer[peer_id]
        assert b2.engine.full_passes == 1
    finally:
        await b2.close()


async def test_deleted_conversation_stays_deleted_across_reconnects(
    login: Login, proxy: Proxy
) -> None:
    alice = await login("alice")
    b1 = await login("bob", device_id="b1")
    b2 = Client(proxy.url, device_id="b2", reconnect_delay=FAST)
    await b2.login("bob", sig("bob"))
    try:
        await alice.messages.send_text(C2C, "bob", "before")
        await until(b2, lambda: "alice" in ids(b2))
        proxy.down = True
        proxy.cut()
        await until(b2, lambda: not b2.connected)
        await b1.conversations.delete(C2C, "alice")
        proxy.down = False
        await settled(b2)
        assert "alice" not in ids(b2)
        for _ in range(3):
            proxy.cut()
            await until(b2, lambda: not b2.connected)
            await settled(b2)
            assert "alice" not in ids(b2)
        got = received(b2)
        after = await alice.messages.send_text(C2C, "bob", "after")
        await until(b2, lambda: "alice" in ids(b2))
        await settled(b2)
        assert got == [after.msg_id]
        assert [m.msg_id for m in await b2.messages.history(C2C, "alice")] == [after.msg_id]
        assert state(b2) == state(b1) == await truth(b1.server_url, "bob")
    finally:
        await b2.close()


async def test_draft_edited_offline_reaches_other_devices_and_later_edit_wins(
    login: Login, proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK stamps each edit from its own clock (the app's ``edit_time`` is ignored): an
    edit made offline earlier loses to a later one that reached the server first."""

    def device_clock(at: int) -> None:
        monkeypatch.setattr("opentim.sdk.conversations.now_stamp", lambda: at)

    await login("alice")
    b1 = await login("bob", device_id="b1")
    b2 = Client(proxy.url, device_id="b2", reconnect_delay=FAST)
    await b2.login("bob", sig("bob"))
    try:
        await b1.conversations.create(C2C, "alice")
        await until(b2, lambda: "alice" in ids(b2))
        proxy.down = True
        proxy.cut()
        await until(b2, lambda: not b2.connected)
        device_clock(100)
        await b2.conversations.set_draft(C2C, "alice", Draft(user_define="offline", edit_time=9))
        local = b2.conversations.cached(C2C, "alice")
        assert local is not None
        assert local.draft is not None  # at once, locally
        proxy.down = False
        await settled(b2)

        def b1_has(text: str) -> bool:
            c = b1.conversations.cached(C2C, "alice")
            return c is not None and c.draft is not None and c.draft.user_define == text

        await until(b1, lambda: b1_has("offline"))
        proxy.down = True
        proxy.cut()
        await until(b2, lambda: not b2.connected)
        device_clock(200)
        await b2.conversations.set_draft(C2C, "alice", Draft(user_define="older", edit_time=999))
        device_clock(300)
        await b1.conversations.set_draft(C2C, "alice", Draft(user_define="later", edit_time=1))
        mine = b2.conversations.cached(C2C, "alice")
        assert mine is not None
        assert mine.draft == Draft(user_define="older", edit_time=200), "shown until it is sent"
        proxy.down = False
        await settled(b2)
        await until(b2, lambda: state(b2) == state(b1))
        assert b1_has("later")
        later = b1.conversations.cached(C2C, "alice")
        assert later is not None
        assert later.draft is not None
        assert later.draft.edit_time == 300
    finally:
        await b2.close()


async def test_cold_start_shows_cached_list_without_the_network(
    server: Server, tmp_path: Path, proxy: Proxy
) -> None:
    me = Client(server.url, device_id="phone", data_dir=tmp_path)
    await me.login("me", sig("me"))
    peers = [Client(server.url) for _ in range(3)]
    for n, peer in enumerate(peers):
        await peer.login(f"p{n}", sig(f"p{n}"))
        await peer.messages.send_text(C2C, "me", "hi")
        await peer.close()
    await until(me, lambda: len(me.conversations.list()) == 3)
    await me.close()

    proxy.down = True  # no network at all
    again = Client(proxy.url, device_id="phone", data_dir=tmp_path, reconnect_delay=FAST)
    try:
        await again.open_cache("me")
        assert {c.conv_id for c in again.conversations.list()} == {"p0", "p1", "p2"}
        assert again.conversations.total_unread() == 3
        proxy.down = False
        proxy.delay = 0.2  # a slow network: every frame from the server comes late
        logging_in = asyncio.ensure_future(again.login("me", sig("me")))
        await until(again, lambda: again.server_time_offset != 0 or logging_in.done())
        assert not again.synced  # the list above was there before the network answered
        await logging_in
        proxy.delay = 0.0
        await settled(again)
        assert again.engine.full_passes == 0  # the cached token continued incrementally
        assert state(again) == await truth(server.url, "me")
    finally:
        await again.close()


async def test_cold_start_with_10000_cached_conversations_needs_no_network(
    tmp_path: Path,
) -> None:
    from opentim.protocol import Conversation
    from opentim.sdk.store import LocalStore, cache_path

    store = LocalStore(cache_path(tmp_path, 1400000000, "me"))
    await store.open()
    convs = [
        (
            Conversation(
                conv_type=1,
                conv_id=f"peer{i}",
                max_seq=2,
                count=2,
                read_count=1,
                activity=i + 1,
                pos=i + 1,
            ),
            2,
        )
        for i in range(10_000)
    ]
    store.save_conversations(convs, "an-earlier-token")
    await store.close()
    offline = Client("ws://127.0.0.1:9/ws", device_id="phone", data_dir=tmp_path)
    try:
        await offline.open_cache("me")
        listed = offline.conversations.list()
        assert len(listed) == 10_000
        assert listed[0].conv_id == "peer9999"
        assert offline.conversations.total_unread() == 10_000
    finally:
        await offline.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_server_process(data_dir: Path, port: int) -> asyncio.subprocess.Process:
    env = {**os.environ, "OPENTIM_SECRET_KEY": SECRET_KEY}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from opentim.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    async with asyncio.timeout(20):
        while not (await proc.stdout.readline()).startswith(b"opentim listening"):
            pass
    return proc


@pytest.mark.slow
async def test_server_killed_and_restarted_loses_nothing_acknowledged(tmp_path: Path) -> None:
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws"
    proc = await start_server_process(tmp_path / "data", port)
    clients: list[Client] = []

    async def device(user: str, device_id: str) -> Client:
        client = Client(url, device_id=device_id, reconnect_delay=FAST)
        clients.append(client)
        await client.login(user, sig(user))
        await client.wait_synced()
        return client

    try:
        alice, bob1, bob2 = (
            await device("alice", "a"),
            await device("bob", "b1"),
            await device("bob", "b2"),
        )
        await alice.groups.create("g", group_id="g", members=["bob"])
        await settled(bob1, bob2)
        await until(bob1, lambda: "g" in ids(bob1))
        await until(bob2, lambda: "g" in ids(bob2))
        await settled(bob1, bob2)  # the group's tip has been delivered: count only what follows
        got1, got2 = received(bob1), received(bob2)
        acked = [await alice.messages.send_text(C2C, "bob", f"m{i}") for i in range(30)]
        acked += [await alice.messages.send_text(GROUP, "g", f"g{i}") for i in range(10)]
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        await until(bob1, lambda: not bob1.connected)
        proc = await start_server_process(tmp_path / "data", port)
        await settled(alice, bob1, bob2)
        for got in (got1, got2):
            assert sorted(got) == sorted(m.msg_id for m in acked)
        for client in (bob1, bob2):
            c2c = await client.messages.history(C2C, "alice", count=100)
            group = await client.messages.history(GROUP, "g", count=100)
            msg_ids = [m.msg_id for m in c2c + group]
            assert Counter(msg_ids)[acked[0].msg_id] == 1
            assert {m.msg_id for m in acked} <= set(msg_ids)
            assert client.conversations.total_unread() == 40
        assert state(bob1) == state(bob2) == await truth(url, "bob")
    finally:
        for client in clients:
            await client.close()
        proc.send_signal(signal.SIGTERM)
        await proc.wait()


async def test_sync_events_bracket_each_sync(login: Login, proxy: Proxy) -> None:
    await login("alice")
    bob = Client(proxy.url, reconnect_delay=FAST)
    kinds: list[ConvEvent] = []
    bob.events.conversations.add(lambda kind, convs: kinds.append(kind))
    await bob.login("bob", sig("bob"))
    await bob.wait_synced()
    proxy.cut()
    await until(bob, lambda: not bob.connected)
    await settled(bob)
    syncs = [k for k in kinds if k in (ConvEvent.SYNC_STARTED, ConvEvent.SYNC_FINISHED)]
    assert syncs == [ConvEvent.SYNC_STARTED, ConvEvent.SYNC_FINISHED] * 2
    await bob.close()


async def test_delayed_frames_still_arrive_once_and_in_order(login: Login, proxy: Proxy) -> None:
    alice = await login("alice")
    bob = Client(proxy.url, reconnect_delay=FAST)
    await bob.login("bob", sig("bob"))
    await bob.wait_synced()
    got = received(bob)
    try:
        proxy.delay = 0.05
        sent = [(await alice.messages.send_text(C2C, "bob", f"m{i}")).msg_id for i in range(20)]
        await until(bob, lambda: len(got) >= 20, timeout=10)
        assert got == sent
        proxy.delay = 0.0
        await settled(bob)
        assert bob.conversations.total_unread() == 20
        assert state(bob) == await truth(bob.server_url, "bob")
    finally:
        await bob.close()
