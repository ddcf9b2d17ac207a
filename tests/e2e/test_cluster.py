"""Three ``opentim serve`` processes on different ports sharing PostgreSQL and a bus (Redis or
NATS): users on different nodes chat, one user's two devices on two nodes agree (also on marks,
custom data and conversation groups), @-mentions and revokes reach group members on every node,
concurrent senders on three nodes make one gap-free sequence, and a killed node loses no
acknowledged message (a device behind a balancer reconnects to another node, catches up and
sends again what was not acknowledged)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from opentim.protocol import AtType, ConvType, ErrorCode, Mark, Message, Profile, UserStatus
from opentim.protocol.ops import OutMessage
from opentim.protocol.rules.users import StatusType
from opentim.sdk import (
    Client,
    Conversation,
    ConvGroupEvent,
    ConvGroupEventKind,
    NetworkStatus,
    SdkError,
)
from opentim.server.app import Server

from ..conftest import SECRET_KEY, server_config, sig
from ..faults import Proxy
from ..helpers import until
from ..services import BUS_URLS, POSTGRES_URL, bus_prefix, temp_schema
from .test_paging import biggest, biggest_profile

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
OPENTIM = [sys.executable, "-c", "from opentim.cli import main; main()"]
C2C, GROUP = ConvType.C2C, ConvType.GROUP


class Cluster:
    """Server processes on one schema and one bus prefix, and the clients logged in to them."""

    def __init__(self, store: str, bus: str, prefix: str, data_dir: Path) -> None:
        self.store, self.bus, self.prefix, self.data_dir = store, bus, prefix, data_dir
        self.procs: list[asyncio.subprocess.Process] = []
        self.urls: list[str] = []
        self.clients: list[Client] = []

    async def start(self, count: int) -> None:
        started = await asyncio.gather(*(self._spawn(i) for i in range(count)))
        for proc, url in started:
            self.procs.append(proc)
            self.urls.append(url)

    async def _spawn(self, i: int) -> tuple[asyncio.subprocess.Process, str]:
        # The store and bus come from the environment, the node id from a flag: both paths.
        env = {**os.environ, "OPENTIM_STORE": self.store, "OPENTIM_BUS": self.bus}
        proc = await asyncio.create_subprocess_exec(
            *OPENTIM,
            "serve",
            "--port",
            "0",
            "--node-id",
            f"node{i}",
            "--bus-prefix",
            self.prefix,
            "--secret-key",
            SECRET_KEY,
            "--data-dir",
            str(self.data_dir / f"node{i}"),
            env=env,
            stdout=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            while True:
                line = (await proc.stdout.readline()).decode()
                assert line, f"node{i} exited before listening"
                if line.startswith("opentim listening on "):
                    return proc, line.removeprefix("opentim listening on ").strip()

    async def login(self, user_id: str, node: int, device_id: str | None = None) -> Client:
        client = Client(self.urls[node], device_id=device_id)
        self.clients.append(client)
        await client.login(user_id, sig(user_id))
        await client.wait_synced(15)
        return client

    def kill(self, node: int) -> None:
        self.procs[node].send_signal(signal.SIGKILL)

    async def close(self) -> None:
        for client in self.clients:
            with contextlib.suppress(Exception):
                await client.close()
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                async with asyncio.timeout(15):
                    await proc.communicate()
            except TimeoutError:
                proc.kill()
                await proc.wait()


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("nats", marks=pytest.mark.nats),
    ]
)
async def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cluster]:
    async with temp_schema() as store:
        nodes = Cluster(store, BUS_URLS[request.param], bus_prefix(), tmp_path)
        try:
            await nodes.start(3)
            yield nodes
        finally:
            await nodes.close()


def texts(msgs: list[Message]) -> list[str]:
    return [m.elems[0]["text_elem_content"] for m in msgs if not m.is_tips]


async def test_users_on_different_nodes_chat_and_two_devices_agree(cluster: Cluster) -> None:
    alice = await cluster.login("alice", 0)
    bob = await cluster.login("bob", 1)
    carol = await cluster.login("carol", 2)
    alice_phone = await cluster.login("alice", 2)  # alice's second device, on another node
    got: dict[str, list[str]] = {"bob": [], "carol": [], "phone": []}
    bob.events.new_messages.add(lambda ms: got["bob"].extend(texts(ms)))
    carol.events.new_messages.add(lambda ms: got["carol"].extend(texts(ms)))
    alice_phone.events.new_messages.add(lambda ms: got["phone"].extend(texts(ms)))

    for i in range(3):
        await alice.messages.send_text(C2C, "bob", f"c2c {i}")
    await until(bob, lambda: got["bob"] == ["c2c 0", "c2c 1", "c2c 2"])
    await until(alice_phone, lambda: got["phone"] == ["c2c 0", "c2c 1", "c2c 2"])
    await until(bob, lambda: bob.conversations.total_unread() == 3)

    gid = await alice.groups.create("team", group_id="team", members=["bob", "carol"])
    await until(carol, lambda: carol.conversations.cached(GROUP, gid) is not None)
    await bob.messages.send_text(GROUP, gid, "hello from node 1")
    await carol.messages.send_text(GROUP, gid, "hello from node 2")
    await until(
        alice_phone, lambda: got["phone"][-2:] == ["hello from node 1", "hello from node 2"]
    )
    await until(carol, lambda: got["carol"] == ["hello from node 1"])

    # The second device sees what the first one does, and the other way round.
    await alice_phone.conversations.pin(C2C, "bob", True)
    await until(
        alice, lambda: (c := alice.conversations.cached(C2C, "bob")) is not None and c.pinned
    )
    await alice.conversations.mark_read(GROUP, gid)
    await until(alice_phone, lambda: alice_phone.conversations.total_unread() == 0)
    assert [c.conv_id for c in alice.conversations.list()] == [
        c.conv_id for c in alice_phone.conversations.list()
    ]
    # A profile changed through one node is what another node sends with the next message.
    bob_tablet = await cluster.login("bob", 2)
    await bob.set_profile(nick="Bob")
    received: list[Message] = []
    alice.events.new_messages.add(received.extend)
    async with asyncio.timeout(10):
        while True:  # the change reaches node 2 over the bus; its next message shows it
            sent = await bob_tablet.messages.send_text(C2C, "alice", "with my new name")
            if sent.sender_profile is not None and sent.sender_profile.nick == "Bob":
                break
    await until(alice, lambda: any(m.msg_id == sent.msg_id for m in received))
    pushed = next(m for m in received if m.msg_id == sent.msg_id)
    assert pushed.sender_profile is not None
    assert pushed.sender_profile.nick == "Bob"
    # A blacklist changed through one node holds on another, whose sends check a cached copy.
    await alice.friendship.block(["bob"])
    refused = 0
    async with asyncio.timeout(10):
        while not refused:  # the change reaches node 2 over the bus; it then refuses bob
            try:
                await bob_tablet.messages.send_text(C2C, "alice", "still there?")
            except SdkError as exc:
                refused = exc.code
    assert refused == ErrorCode.ERR_SVR_MSG_IN_PEER_BLACKLIST
    await alice.friendship.unblock(["bob"])
    async with asyncio.timeout(10):
        while True:
            with contextlib.suppress(SdkError):
                await bob_tablet.messages.send_text(C2C, "alice", "back again")
                break


def conv(client: Client, conv_type: int, conv_id: str) -> Conversation:
    found = client.conversations.cached(conv_type, conv_id)
    assert found is not None, f"{client.user_id} has no {conv_id}"
    return found


async def test_conversation_state_and_revokes_reach_devices_on_other_nodes(
    cluster: Cluster,
) -> None:
    alice = await cluster.login("alice", 0)
    tablet = await cluster.login("alice", 1, device_id="alice-tablet")
    bob = await cluster.login("bob", 1)
    carol = await cluster.login("carol", 2)
    await bob.messages.send_text(C2C, "alice", "hi from bob")
    await carol.messages.send_text(C2C, "alice", "hi from carol")
    for device in (alice, tablet):
        await until(
            device,
            lambda d=device: all(d.conversations.cached(C2C, p) for p in ("bob", "carol")),  # type: ignore[misc]
        )

    # Marks, custom data and a conversation group set through node 0 reach the tablet on node 1.
    group_events: list[ConvGroupEvent] = []
    created = asyncio.Event()

    def on_group_event(event: ConvGroupEvent) -> None:
        group_events.append(event)
        created.set()

    tablet.events.conv_groups.add(on_group_event)
    await alice.conversations.mark([(C2C, "bob")], Mark.STAR, True)
    await alice.conversations.set_custom_data([(C2C, "carol")], "vip")
    await alice.conversations.create_group("work", [(C2C, "bob"), (C2C, "carol")])
    await alice.conversations.mark([(C2C, "carol")], Mark.HIDE, True)

    def tablet_agrees() -> bool:
        b, c = tablet.conversations.cached(C2C, "bob"), tablet.conversations.cached(C2C, "carol")
        return (
            b is not None
            and c is not None
            and (b.marks, b.groups) == (Mark.STAR, ["work"])
            and (c.marks, c.custom_data, c.groups) == (Mark.HIDE, "vip", ["work"])
        )

    await until(tablet, tablet_agrees, timeout=10)
    async with asyncio.timeout(10):
        await created.wait()
    assert [(e.kind, e.name) for e in group_events] == [(ConvGroupEventKind.CREATED, "work")]
    assert tablet.conversations.group_names() == ["work"]
    assert [c.conv_id for c in tablet.conversations.list()] == ["bob"], "carol is hidden"
    # Carol writes again through node 2: the Hide lifts on both of alice's devices.
    await carol.messages.send_text(C2C, "alice", "still there?")
    for device in (alice, tablet):
        await until(
            device,
            lambda d=device: {c.conv_id for c in d.conversations.list()} == {"bob", "carol"},  # type: ignore[misc]
            timeout=10,
        )
    # The tablet renames the group through node 1; alice's first device on node 0 follows.
    await tablet.conversations.rename_group("work", "office")
    await until(alice, lambda: conv(alice, C2C, "bob").groups == ["office"], timeout=10)
    assert alice.conversations.group_names() == ["office"]

    # In a group with a member on every node: a mention from node 2, then its revoke.
    gid = await alice.groups.create("team", group_id="team", members=["bob", "carol"])
    members = {"alice": alice, "tablet": tablet, "bob": bob, "carol": carol}
    for device in members.values():
        await until(
            device,
            lambda d=device: d.conversations.cached(GROUP, gid) is not None,  # type: ignore[misc]
            timeout=10,
        )
    revoked: dict[str, list[str]] = {name: [] for name in members}
    for name, device in members.items():
        device.events.revoked.add(
            lambda ms, k=name: revoked[k].extend(m.msg_id for m in ms)  # type: ignore[misc]
        )
    out = carol.messages.new_message(
        [{"elem_type": 0, "text_elem_content": "@bob"}], at_users=["bob"]
    )
    sent = await carol.messages.send(GROUP, gid, out)
    await until(
        bob,
        lambda: (
            [(a.seq, a.at_type) for a in conv(bob, GROUP, gid).at_info]
            == [(sent.seq, AtType.AT_ME)]
        ),
        timeout=10,
    )
    await carol.messages.revoke(GROUP, gid, sent, "wrong group")
    for name in ("alice", "tablet", "bob"):
        await until(
            members[name],
            lambda k=name, d=members[name]: (  # type: ignore[misc]
                revoked[k] == [sent.msg_id]
                and (m := conv(d, GROUP, gid).last_msg) is not None
                and m.revoked
            ),
            timeout=10,
        )
    assert conv(bob, GROUP, gid).unread == 1, "a revoked message stays counted"
    # A device that logs in afterwards, on yet another node, syncs it revoked.
    late = await cluster.login("bob", 0, device_id="bob-laptop")
    last = conv(late, GROUP, gid).last_msg
    assert last is not None
    assert (last.msg_id, last.revoked) == (sent.msg_id, True)
    (history,) = await late.messages.history(GROUP, gid, count=1)
    assert (history.revoker, history.revoke_reason, history.elems) == ("carol", "wrong group", [])


async def test_concurrent_senders_on_three_nodes_make_one_gap_free_sequence(
    cluster: Cluster,
) -> None:
    senders = [await cluster.login(f"s{i}", i) for i in range(3)]
    listeners = [await cluster.login(f"l{i}", i) for i in range(3)]
    members = [c.user_id for c in senders[1:] + listeners]
    gid = await senders[0].groups.create("busy", group_id="busy", members=members)
    seen: dict[str, list[int]] = {c.user_id: [] for c in listeners}
    for c in listeners:
        await until(c, lambda c=c: c.conversations.cached(GROUP, gid) is not None)  # type: ignore[misc]
        c.events.new_messages.add(
            lambda ms, u=c.user_id: seen[u].extend(m.seq for m in ms if not m.is_tips)  # type: ignore[misc]
        )
    per_sender = 60

    async def burst(client: Client) -> list[int]:
        sends = [
            client.messages.send_text(GROUP, gid, f"{client.user_id}-{i}")
            for i in range(per_sender)
        ]
        return [m.seq for m in await asyncio.gather(*sends)]

    acked = await asyncio.gather(*(burst(c) for c in senders))
    total = 3 * per_sender
    all_seqs = sorted(s for seqs in acked for s in seqs)
    assert all_seqs == list(range(2, 2 + total))  # seq 1 is the creation tip
    for c in listeners:
        await until(c, lambda u=c.user_id: len(seen[u]) >= total, timeout=30)  # type: ignore[misc]
        assert seen[c.user_id] == list(range(2, 2 + total)), "each node delivers in seq order"
        conv = c.conversations.cached(GROUP, gid)
        assert conv is not None
        assert (conv.max_seq, conv.unread) == (1 + total, total)


async def test_a_killed_node_loses_no_acknowledged_message(cluster: Cluster) -> None:
    """The victim's phone reaches node 2 through a balancer (a TCP proxy). Node 2 is killed with
    sends in flight; the others go on talking; then the balancer sends new connections to node 0.
    The phone's SDK reconnects there and sends again what was not acknowledged (same msg_id):
    every message is stored once, gap-free, and what was acknowledged kept its seq."""
    owner = await cluster.login("owner", 0)
    peer = await cluster.login("peer", 1)
    node2 = urlsplit(cluster.urls[2])
    balancer = Proxy(node2.port or 0, node2.hostname or "127.0.0.1")
    port = await balancer.start()
    try:
        via_balancer = urlunsplit(node2._replace(netloc=f"127.0.0.1:{port}"))
        victim = Client(via_balancer, device_id="victim-phone")
        cluster.clients.append(victim)
        await victim.login("victim", sig("victim"))
        await victim.wait_synced(15)
        gid = await owner.groups.create("g", group_id="crash", members=["victim", "peer"])
        await until(victim, lambda: victim.conversations.cached(GROUP, gid) is not None)
        outgoing = [
            victim.messages.new_message([{"elem_type": 0, "text_elem_content": f"v{i}"}])
            for i in range(150)
        ]
        acked: dict[str, int] = {}
        forty = asyncio.Event()
        lost = asyncio.Event()
        victim.events.network.add(
            lambda status, *_: lost.set() if status == NetworkStatus.DISCONNECTED else None
        )

        async def window(part: list[OutMessage]) -> None:  # 4 of these: 4 sends in flight
            for m in part:
                stored = await victim.messages.send(GROUP, gid, m)
                acked[stored.msg_id] = stored.seq
                if len(acked) >= 40:
                    forty.set()

        senders = asyncio.gather(*(window(outgoing[k::4]) for k in range(4)))
        async with asyncio.timeout(20):
            await forty.wait()
        cluster.kill(2)  # with sends in flight
        async with asyncio.timeout(10):
            await lost.wait()
        before_kill = dict(acked)
        assert 40 <= len(before_kill) < len(outgoing)
        # While the victim is away, the others go on talking.
        await peer.messages.send_text(GROUP, gid, "are you there?")
        await owner.messages.send_text(C2C, "victim", "ping")

        # The balancer now sends the phone to node 0: it reconnects, catches up, sends the rest.
        node0 = urlsplit(cluster.urls[0])
        balancer.retarget(node0.hostname or "127.0.0.1", node0.port or 0)
        async with asyncio.timeout(60):
            await senders
        assert len(acked) == len(outgoing)
        assert all(acked[msg_id] == seq for msg_id, seq in before_kill.items())
        await until(
            victim,
            lambda: (c := victim.conversations.cached(C2C, "owner")) is not None and c.unread == 1,
            timeout=15,
        )
        history: list[Message] = []
        before = 0
        for _ in range(20):
            page = await victim.messages.history(GROUP, gid, before_seq=before, count=100)
            history += page
            if len(page) < 100:
                break
            before = page[-1].seq
        by_id = {m.msg_id: m.seq for m in history}
        assert len(by_id) == len(history), "no message twice"
        assert all(by_id.get(msg_id) == seq for msg_id, seq in acked.items()), "every ack kept"
        seqs = sorted(m.seq for m in history)
        assert seqs == list(range(1, len(history) + 1)), "gap-free"
        assert len(history) == 1 + len(outgoing) + 1  # the creation tip and the peer's question
        group = victim.conversations.cached(GROUP, gid)
        assert group is not None
        assert group.last_msg is not None
        assert group.max_seq == len(history)
        # Sending the same messages again, through yet another node, stores nothing new.
        tablet = await cluster.login("victim", 1, device_id="victim-tablet")
        again = [await tablet.messages.send(GROUP, gid, m) for m in outgoing[:20]]
        assert [m.seq for m in again] == [acked[m.msg_id] for m in outgoing[:20]]
        assert (await tablet.messages.history(GROUP, gid, count=1))[0].seq == len(history)
    finally:
        await balancer.stop()


@pytest.mark.parametrize(
    "kind",
    [pytest.param("redis", marks=pytest.mark.redis), pytest.param("nats", marks=pytest.mark.nats)],
)
async def test_a_node_that_loses_postgres_or_its_bus_refuses_clearly_and_recovers(
    kind: str, tmp_path: Path
) -> None:
    pg, bus_url = urlsplit(POSTGRES_URL), urlsplit(BUS_URLS[kind])
    pg_proxy = Proxy(pg.port or 5432, pg.hostname or "127.0.0.1")
    bus_proxy = Proxy(bus_url.port or 0, bus_url.hostname or "127.0.0.1")
    pg_port, bus_port = await pg_proxy.start(), await bus_proxy.start()
    async with temp_schema() as store:
        config = server_config(
            tmp_path,
            store=store.replace(f":{pg.port or 5432}/", f":{pg_port}/"),
            bus=f"{bus_url.scheme}://127.0.0.1:{bus_port}{bus_url.path}",
            bus_prefix=bus_prefix(),
        )
        server = Server(config)
        await server.start()
        try:
            alice, bob = Client(server.url), Client(server.url)
            await alice.login("alice", sig("alice"))
            await bob.login("bob", sig("bob"))
            before = await alice.messages.send_text(C2C, "bob", "before")

            pg_proxy.go_down()
            with pytest.raises(SdkError) as refused:
                await alice.messages.send_text(C2C, "bob", "while the database is away")
            assert refused.value.code == ErrorCode.ERR_SDK_COMM_DATABASE_FAILURE
            pg_proxy.restore()
            after_db = await alice.messages.send_text(C2C, "bob", "database back")
            assert after_db.seq == before.seq + 1

            bus_proxy.go_down()
            code = 0
            async with asyncio.timeout(10):  # the node notices (poll its state: no fixed sleep)
                while not code:
                    try:
                        await alice.conversations.pin(C2C, "bob", True)
                    except SdkError as exc:
                        code = exc.code
                    else:
                        await asyncio.sleep(0.02)
            assert code == ErrorCode.ERR_SVR_MSG_INTERNAL_ERROR1
            bus_proxy.restore()
            async with asyncio.timeout(10):
                while True:
                    try:
                        sent = await alice.messages.send_text(C2C, "bob", "bus back")
                        break
                    except SdkError:
                        await asyncio.sleep(0.02)
            history = await bob.messages.history(C2C, "alice", count=10)
            assert history[0].msg_id == sent.msg_id
            assert {before.msg_id, after_db.msg_id} <= {m.msg_id for m in history}
            await alice.close()
            await bob.close()
        finally:
            await server.stop()
            await pg_proxy.stop()
            await bus_proxy.stop()


async def test_a_device_catches_up_maximum_size_messages_through_another_node(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Issue 9, finding 1, on PostgreSQL: answers are paged by bytes on every node."""
    alice = await cluster.login("alice", 0)
    await biggest_profile(alice)
    first = Client(cluster.urls[1], device_id="b", data_dir=tmp_path / "bob")
    await first.login("bob", sig("bob"))
    await first.wait_synced(15)
    await first.close()
    sent = [(await alice.messages.send(C2C, "bob", biggest(alice, i))).msg_id for i in range(30)]
    bob = Client(cluster.urls[2], device_id="b", data_dir=tmp_path / "bob")
    cluster.clients.append(bob)
    got: list[str] = []
    bob.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
    await bob.login("bob", sig("bob"))
    await bob.wait_synced(15)
    await bob.engine.settle()
    assert got == sent
    history = await bob.messages.history(C2C, "alice", count=30)
    assert [m.msg_id for m in history] == sent[::-1]


# --- issue 11, users: status and profile changes across nodes ----------------------------------
async def test_status_and_profile_changes_reach_subscribers_on_other_nodes(
    cluster: Cluster,
) -> None:
    watcher = await cluster.login("watcher", 0)
    statuses: list[UserStatus] = []
    watcher.events.statuses.add(statuses.extend)
    await watcher.users.subscribe_status(["bob"])
    fan = await cluster.login("fan", 2)
    changes: list[Profile] = []
    fan.events.profiles.add(lambda p, changed: changes.append(p))
    await fan.users.subscribe_info(["bob"])

    async def seen(pred: Callable[[UserStatus], bool]) -> None:
        async with asyncio.timeout(15):
            while not any(pred(s) for s in statuses):
                await watcher.users.statuses(["bob"])  # a round trip lets pushes in

    await cluster.login("bob", 1, device_id="desk")
    await seen(lambda s: s.online_devices == ["desk"])
    laptop = await cluster.login("bob", 2, device_id="laptop")
    await seen(lambda s: sorted(s.online_devices) == ["desk", "laptop"])
    await laptop.users.set_custom_status("away")
    await seen(lambda s: s.custom_status == "away")
    await laptop.users.set_profile(nick="Bob on node 2")
    async with asyncio.timeout(15):
        while not any(p.nick == "Bob on node 2" for p in changes):
            await fan.users.statuses(["bob"])

    # A node killed with a session on it: its restart (same node id) clears what it left.
    cluster.kill(2)
    proc, url = await cluster._spawn(2)
    cluster.procs[2], cluster.urls[2] = proc, url
    await seen(lambda s: s.online_devices == ["desk"] and s.status_type == StatusType.ONLINE)
    [now] = await watcher.users.statuses(["bob"])
    assert now.online_devices == ["desk"]
