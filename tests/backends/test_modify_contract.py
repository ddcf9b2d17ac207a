"""Modifying a message on every engine: the version guard (a change from an older version
changes nothing), the channel's change position, the last message of every participant's
conversation and what history and sync bring a device that was away."""

from __future__ import annotations

import asyncio

from opentim.protocol import ConvType, SyncToken, c2c_channel, group_channel
from opentim.protocol.cursors import INCREMENTAL
from opentim.server.store.base import Store

from .test_store_contract import c2c, group_msg, make_group

C2C, GROUP = ConvType.C2C, ConvType.GROUP


def text(s: str) -> list[dict[str, object]]:
    return [{"elem_type": 0, "text_elem_content": s}]


async def test_modify_changes_elems_and_data_and_moves_the_position_not_the_order(
    store: Store,
) -> None:
    sent = (await store.messages.append(c2c("a", "b", "x"), 100)).msg
    assert sent.version == 0
    (before,) = await store.convs.get_conversations("b", [(C2C, "a")])
    channel = c2c_channel("a", "b")
    msg, pos = await store.messages.modify_message(channel, sent.seq, 0, text("fixed"), "cd")
    assert msg is not None
    assert (msg.elems, msg.cloud_custom_data, msg.version) == (text("fixed"), "cd", 1)
    for user, peer in (("a", "b"), ("b", "a")):
        (after,) = await store.convs.get_conversations(user, [(C2C, peer)])
        assert after.last_msg is not None
        assert after.last_msg.elems == text("fixed"), f"{user}'s last message follows"
        assert after.pos == pos > before.pos
        assert after.order_key == before.order_key
    (bob,) = await store.convs.get_conversations("b", [(C2C, "a")])
    assert bob.unread == before.unread == 1, "a modification is not a new message"
    (history,) = await store.messages.history("b", C2C, "a", 0, 10)
    assert (history.elems, history.version) == (text("fixed"), 1)
    page, _, _ = await store.convs.sync_conversations(
        "b", SyncToken(phase=INCREMENTAL, pos=before.pos), 10
    )
    assert [c.conv_id for c in page] == ["a"], "a device that syncs sees the modification"


async def test_a_change_from_an_older_version_or_of_a_revoked_message_changes_nothing(
    store: Store,
) -> None:
    await make_group(store, ["owner", "me"])
    sent = (await store.messages.append(group_msg("me", "g", "m"), 100)).msg
    channel = group_channel("g")
    first, pos = await store.messages.modify_message(channel, sent.seq, 0, text("one"), "")
    assert first is not None
    assert pos > 0
    stale, stale_pos = await store.messages.modify_message(channel, sent.seq, 0, text("two"), "")
    assert stale_pos == 0
    assert stale is not None
    assert (stale.elems, stale.version) == (text("one"), 1), "the stored message, unchanged"
    missing, missing_pos = await store.messages.modify_message(channel, 99, 0, text("x"), "")
    assert (missing, missing_pos) == (None, 0)
    await store.messages.revoke_message(channel, sent.seq, "owner", "")
    revoked, revoked_pos = await store.messages.modify_message(channel, sent.seq, 1, text("z"), "")
    assert revoked_pos == 0
    assert revoked is not None
    assert revoked.revoked
    assert revoked.elems == []


async def test_concurrent_modifications_from_one_version_one_wins(store: Store) -> None:
    sent = (await store.messages.append(c2c("a", "b", "x"), 100)).msg
    channel = c2c_channel("a", "b")
    results = await asyncio.gather(
        *(store.messages.modify_message(channel, sent.seq, 0, text(f"v{i}"), "") for i in range(5))
    )
    winners = [m for m, pos in results if pos > 0]
    assert len(winners) == 1
    (now,) = await store.messages.history("a", C2C, "b", 0, 1)
    assert winners[0] is not None
    assert (now.elems, now.version) == (winners[0].elems, 1)
