"""PostgresStore with several nodes writing at once, and with the database going away.

The contract suite (test_store_contract.py) shows one PostgresStore behaves as SqliteStore; these
show what only a shared database can get wrong: seqs and the clock under concurrent writers, and
recovery from a lost connection.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest

from opentim.protocol import Conversation, ConvType, SyncToken, group_channel
from opentim.protocol.cursors import INCREMENTAL
from opentim.server.store.base import ConvChange, StoreUnavailableError
from opentim.server.store.postgres import PostgresStore
from opentim.server.store.schema import MIGRATIONS

from ..faults import Proxy
from ..services import POSTGRES_URL, temp_schema
from .test_store_contract import c2c, group_msg, group_row, tip

pytestmark = pytest.mark.postgres


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with temp_schema() as u:
        yield u


@pytest.fixture
async def nodes(url: str) -> AsyncIterator[list[PostgresStore]]:
    """Three stores on one database: three nodes' worth of writers."""
    stores = [PostgresStore(url) for _ in range(3)]
    for s in stores:
        await s.open()
    yield stores
    for s in stores:
        await s.close()


async def test_concurrent_nodes_make_one_gap_free_sequence(nodes: list[PostgresStore]) -> None:
    await nodes[0].groups.create_group(group_row("g"), {"o": 400}, tip("g", "t"), 1)

    async def send(node: PostgresStore, n: int) -> list[int]:
        futures = [
            node.messages.append(group_msg("o", "g", f"{id(node)}-{i}"), 1) for i in range(n)
        ]
        return [r.msg.seq for r in await asyncio.gather(*futures)]

    per_node = await asyncio.gather(*(send(node, 150) for node in nodes))
    seqs = sorted(s for node_seqs in per_node for s in node_seqs)
    assert seqs == list(range(2, 2 + 450))  # the tip is seq 1
    for node_seqs in per_node:
        assert node_seqs == sorted(node_seqs)  # each node's own order is kept
    stored = await nodes[1].messages.messages_between(group_channel("g"), 0, 1000)
    assert [m.seq for m in stored] == list(range(1, 452))
    assert [m.count for m in stored] == [0, *range(1, 451)]


async def test_a_resend_through_another_node_is_the_same_message(
    nodes: list[PostgresStore],
) -> None:
    results = await asyncio.gather(*(n.messages.append(c2c("a", "b", "same"), 1) for n in nodes))
    assert {r.msg.seq for r in results} == {1}
    assert sorted(r.duplicate for r in results) == [False, True, True]
    assert len(await nodes[0].messages.history("b", 1, "a", 0, 10)) == 1


async def test_sync_under_concurrent_writers_never_skips_a_change(
    nodes: list[PostgresStore],
) -> None:
    """Writers on two nodes change one user's conversations (messages, revokes, pins, marks)
    while a third node syncs
    incrementally in a loop; the reader's final view must equal the truth. A clock value
    committed after a larger one became visible would be skipped for good."""
    reader, writers = nodes[0], nodes[1:]
    peers = [f"p{i}" for i in range(8)]
    for p in peers:
        await writers[0].append(c2c(p, "me", f"init-{p}"), 1)
    seen: dict[tuple[int, str], Conversation] = {}

    def apply(convs: list[Conversation]) -> None:
        for conv in convs:
            key = (conv.conv_type, conv.conv_id)
            if key not in seen or conv.pos >= seen[key].pos:
                seen[key] = conv

    token = SyncToken()
    more = True
    while more:
        page, token, more = await reader.convs.sync_conversations("me", token, 100)
        apply(page)
    assert token.phase == INCREMENTAL
    done = asyncio.Event()
    rng = random.Random(5)

    async def write(node: PostgresStore, tag: str) -> None:
        for i in range(60):
            peer = rng.choice(peers)
            if i % 3 == 0:
                await node.convs.change_conversation("me", 1, peer, ConvChange(pinned=i % 2 == 0))
            elif i % 5 == 0:
                await node.convs.change_conversation("me", 1, peer, ConvChange(mark_set=1 << i % 4))
            else:
                sent = await node.messages.append(c2c(peer, "me", f"{tag}-{i}"), 1)
                if i % 4 == 1:  # a revoke moves the channel's position, not its seq
                    await node.messages.revoke_message(
                        c2c(peer, "me", "").channel_id, sent.msg.seq, peer, ""
                    )

    async def read() -> None:
        # Until a page read after the writers were done comes back empty: a page whose read
        # began before the last commit may miss it (the timeout below bounds the loop).
        nonlocal token
        while True:
            finished = done.is_set()
            page, token, _ = await reader.convs.sync_conversations("me", token, 100)
            apply(page)
            if finished and not page:
                return
            await asyncio.sleep(0)

    async def writers_then_done() -> None:
        await asyncio.gather(*(write(n, f"w{k}") for k, n in enumerate(writers)))
        done.set()

    async with asyncio.timeout(60):
        await asyncio.gather(read(), writers_then_done())
    truth = await reader.convs.get_conversations("me", [(1, p) for p in peers])

    def state(c: Conversation) -> tuple[object, ...]:
        last = c.last_msg
        return c.conv_id, c.max_seq, c.pinned, c.marks, c.pos, last and (last.seq, last.revoked)

    assert {state(c) for c in truth} == {state(c) for c in seen.values()}


async def test_a_lost_database_fails_requests_clearly_and_the_store_recovers(url: str) -> None:
    parts = urlsplit(POSTGRES_URL)
    proxy = Proxy(parts.port or 5432, parts.hostname or "127.0.0.1")
    port = await proxy.start()
    store = PostgresStore(url.replace(f":{parts.port or 5432}/", f":{port}/"), connect_timeout=2)
    await store.open()
    try:
        acked = await store.messages.append(c2c("a", "b", "before"), 1)
        proxy.go_down()
        with pytest.raises(StoreUnavailableError):
            await store.messages.append(c2c("a", "b", "during"), 1)
        with pytest.raises(StoreUnavailableError):
            await store.messages.history("b", ConvType.C2C, "a", 0, 10)
        proxy.restore()
        again = await store.messages.append(c2c("a", "b", "during"), 1)  # the client's retry
        assert again.msg.seq == acked.msg.seq + 1
        history = await store.messages.history("b", ConvType.C2C, "a", 0, 10)
        assert [m.msg_id for m in history] == ["during", "before"]
    finally:
        await store.close()
        await proxy.stop()


async def test_an_unreachable_database_is_named_at_open() -> None:
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/test", connect_timeout=2)
    with pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1:1\b"):
        await store.open()


async def test_a_schema_1_database_is_upgraded_in_place(url: str) -> None:
    """A database a node of before issue 3 made gets the newer columns and tables on open."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE schema_version (version INTEGER)")
        for sql in MIGRATIONS[0]:
            await conn.execute(sql)
        await conn.execute("INSERT INTO schema_version (version) VALUES (1)")
        await conn.execute("INSERT INTO channels VALUES ('c:1:a:b', 3, 3, 3, 7)")
        await conn.execute(
            "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, deleted, "
            "deleted_up_to, changed) VALUES ('a', 1, 'b', 'c:1:a:b', 1, 2, 5)"
        )
    finally:
        await conn.close()
    store = PostgresStore(url)
    await store.open()
    try:
        (conv,) = await store.convs.get_conversations("a", [(ConvType.C2C, "b")])
        assert conv.pos == 7, "the channel's change position starts at its activity"
        assert (conv.marks, conv.groups, conv.draft) == (0, [], None)
    finally:
        await store.close()
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT cleared_up_to FROM conversations") == 2
        assert await conn.fetchval("SELECT version FROM schema_version") == len(MIGRATIONS)
    finally:
        await conn.close()
