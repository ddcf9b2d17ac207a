"""How far the C2C peer read, on every engine: derived from the peer's read position (no write
on the send path), carried by the reader's peer's snapshot, and synced to devices that were
away."""

from __future__ import annotations

from opentim.protocol import ConvType, SyncToken
from opentim.protocol.cursors import INCREMENTAL
from opentim.server.store.base import ConvChange, Store

from .test_store_contract import c2c

C2C = ConvType.C2C


async def test_the_senders_snapshot_shows_how_far_the_peer_read(store: Store) -> None:
    for i in range(3):
        await store.messages.append(c2c("a", "b", f"m{i}"), 100)
    (alice,) = await store.convs.get_conversations("a", [(C2C, "b")])
    assert alice.peer_read_seq == 0, "sending writes nothing of the peer's reading"
    await store.convs.change_conversation("b", C2C, "a", ConvChange(read_up_to=2))
    (after,) = await store.convs.get_conversations("a", [(C2C, "b")])
    assert after.peer_read_seq == 2
    assert after.pos > alice.pos, "the reader's peer's devices sync the receipt"
    page, _, _ = await store.convs.sync_conversations(
        "a", SyncToken(phase=INCREMENTAL, pos=alice.pos), 10
    )
    assert [(c.conv_id, c.peer_read_seq) for c in page] == [("b", 2)]
    await store.convs.change_conversation("b", C2C, "a", ConvChange(read_up_to=0))
    (everything,) = await store.convs.get_conversations("a", [(C2C, "b")])
    assert everything.peer_read_seq == 3
    (bob,) = await store.convs.get_conversations("b", [(C2C, "a")])
    assert bob.peer_read_seq == 3, "one's own messages are read by oneself: b sent none, a read all"


async def test_reading_again_moves_nothing(store: Store) -> None:
    await store.messages.append(c2c("a", "b", "m"), 100)
    await store.convs.change_conversation("b", C2C, "a", ConvChange(read_up_to=1))
    (before,) = await store.convs.get_conversations("a", [(C2C, "b")])
    await store.convs.change_conversation("b", C2C, "a", ConvChange(read_up_to=1))
    (after,) = await store.convs.get_conversations("a", [(C2C, "b")])
    assert (after.pos, after.peer_read_seq) == (before.pos, 1)
