"""SqliteStore on a real file: seqs, idempotency, group commit, unread arithmetic, sync paging."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from opentim.protocol import ConvType, Draft, SyncToken, c2c_channel
from opentim.protocol.cursors import FULL, INCREMENTAL
from opentim.server.store.base import ConvChange, NewMessage
from opentim.server.store.sqlite import SqliteStore


def c2c(sender: str, receiver: str, msg_id: str, **kw: object) -> NewMessage:
    return NewMessage(
        channel_id=c2c_channel(sender, receiver),
        conv_type=ConvType.C2C,
        sender=sender,
        receiver=receiver,
        msg_id=msg_id,
        elems=[{"elem_type": 0, "text_elem_content": msg_id}],
        owners=((sender, 1, receiver), (receiver, 1, sender)),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = SqliteStore(tmp_path / "t.db")
    await s.open()
    yield s
    await s.close()


async def test_concurrent_appends_get_gap_free_seqs_in_call_order(store: SqliteStore) -> None:
    futures = [store.append(c2c("a", "b", f"m{i}"), 100) for i in range(500)]
    results = await asyncio.gather(*futures)
    assert [r.msg.seq for r in results] == list(range(1, 501))
    assert [r.msg.count for r in results] == list(range(1, 501))


async def test_resend_with_same_msg_id_is_the_same_message(store: SqliteStore) -> None:
    first = await store.append(c2c("a", "b", "x"), 100)
    again = await store.append(c2c("a", "b", "x"), 200)
    assert not first.duplicate
    assert again.duplicate
    assert again.msg.seq == first.msg.seq == 1
    assert len(await store.history("a", ConvType.C2C, "b", 0, 10)) == 1


async def test_unread_is_sequence_arithmetic_and_own_messages_never_count(
    store: SqliteStore,
) -> None:
    for i in range(3):
        await store.append(c2c("a", "b", f"a{i}"), 100)
    await store.append(c2c("a", "b", "tip", excluded_from_unread=True), 100)
    (bob,) = await store.get_conversations("b", [(1, "a")])
    (alice,) = await store.get_conversations("a", [(1, "b")])
    assert (bob.unread, alice.unread) == (3, 0)
    await store.append(c2c("b", "a", "reply"), 100)
    (bob,) = await store.get_conversations("b", [(1, "a")])
    (alice,) = await store.get_conversations("a", [(1, "b")])
    assert (bob.unread, alice.unread) == (0, 1)
    assert bob.last_msg is not None
    assert bob.last_msg.msg_id == "reply"


async def test_delete_hides_until_a_later_message_shows_only_what_follows(
    store: SqliteStore,
) -> None:
    await store.append(c2c("a", "b", "old"), 100)
    deleted = await store.change_conversation("b", 1, "a", ConvChange(delete=True))
    assert deleted is not None
    assert deleted.deleted
    assert deleted.unread == 0
    assert await store.history("b", 1, "a", 0, 10) == []
    await store.append(c2c("a", "b", "new"), 100)
    (back,) = await store.get_conversations("b", [(1, "a")])
    assert not back.deleted
    assert back.unread == 1
    assert [m.msg_id for m in await store.history("b", 1, "a", 0, 10)] == ["new"]
    assert [m.msg_id for m in await store.history("a", 1, "b", 0, 10)] == ["new", "old"]


async def test_order_key_bumps_on_draft_and_pin_not_on_unpin_or_read(store: SqliteStore) -> None:
    await store.append(c2c("a", "b", "m"), 100)
    (c,) = await store.get_conversations("a", [(1, "b")])
    pinned = await store.change_conversation("a", 1, "b", ConvChange(pinned=True))
    assert pinned is not None
    assert pinned.activity > c.activity
    unpinned = await store.change_conversation("a", 1, "b", ConvChange(pinned=False))
    assert unpinned is not None
    assert unpinned.activity == pinned.activity
    drafted = await store.change_conversation("a", 1, "b", ConvChange(draft=Draft(user_define="d")))
    assert drafted is not None
    assert drafted.activity > pinned.activity
    read = await store.change_conversation("a", 1, "b", ConvChange(read_up_to=0))
    assert read is not None
    assert read.activity == drafted.activity
    assert read.pos > drafted.pos


async def sync_all(
    store: SqliteStore, token: SyncToken, limit: int = 10
) -> tuple[list[str], SyncToken, int]:
    """Page until the store says nothing more: the ids seen, the last token, pages asked."""
    seen: list[str] = []
    more, pages = True, 0
    while more:
        page, token, more = await store.sync_conversations("me", token, limit)
        seen += [c.conv_id for c in page]
        pages += 1
    return seen, token, pages


async def test_sync_pages_every_conversation_then_only_new_changes(store: SqliteStore) -> None:
    for i in range(25):
        await store.append(c2c(f"p{i}", "me", f"m{i}"), 100)
    seen, token, pages = await sync_all(store, SyncToken())
    assert sorted(seen) == sorted(f"p{i}" for i in range(25))
    assert pages == 4  # three full pages, then an empty incremental one
    assert token.phase == INCREMENTAL
    assert await store.sync_conversations("me", token, 10) == ([], token, False)
    await store.append(c2c("p3", "me", "again"), 100)
    page, _, more = await store.sync_conversations("me", token, 10)
    assert [c.conv_id for c in page] == ["p3"]
    assert not more


async def test_changes_during_a_full_pass_come_after_it(store: SqliteStore) -> None:
    for i in range(12):
        await store.append(c2c(f"p{i:02}", "me", f"m{i}"), 100)
    first, token, _ = await store.sync_conversations("me", SyncToken(), 5)
    assert token.phase == FULL
    await store.append(c2c("p00", "me", "during"), 100)  # already returned in this pass
    await store.append(c2c("p99", "me", "new peer"), 100)  # a conversation born in the pass
    rest, token, _ = await sync_all(store, token, 5)
    seen = [c.conv_id for c in first] + rest
    assert set(seen) == {f"p{i:02}" for i in range(12)} | {"p99"}
    assert "p00" in rest  # its change after the horizon is delivered again


async def test_everything_acknowledged_survives_reopening(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "t.db")
    await store.open()
    acked = await asyncio.gather(*(store.append(c2c("a", "b", f"m{i}"), 1) for i in range(50)))
    await store.close()
    reopened = SqliteStore(tmp_path / "t.db")
    await reopened.open()
    try:
        history = await reopened.history("b", 1, "a", 0, 100)
        assert sorted(m.seq for m in history) == [r.msg.seq for r in acked]
        nxt = await reopened.append(c2c("a", "b", "after"), 1)
        assert nxt.msg.seq == 51
    finally:
        await reopened.close()


async def test_a_deleted_conversation_refuses_changes_until_created_again(
    store: SqliteStore,
) -> None:
    await store.append(c2c("a", "b", "m"), 100)
    await store.change_conversation("b", 1, "a", ConvChange(pinned=True))
    assert await store.change_conversation("b", 1, "a", ConvChange(delete=True)) is not None
    assert await store.change_conversation("b", 1, "a", ConvChange(delete=True)) is None
    assert await store.change_conversation("b", 1, "a", ConvChange(pinned=True)) is None
    back = await store.change_conversation("b", 1, "a", ConvChange(create=True))
    assert back is not None
    assert not back.deleted
    assert not back.pinned
    assert back.unread == 0


async def test_the_later_draft_edit_wins(store: SqliteStore) -> None:
    await store.append(c2c("a", "b", "m"), 100)
    newer = ConvChange(draft=Draft(user_define="newer", edit_time=200), draft_time=200)
    older = ConvChange(draft=Draft(user_define="older", edit_time=150), draft_time=150)
    await store.change_conversation("a", 1, "b", newer)
    kept = await store.change_conversation("a", 1, "b", older)
    assert kept is not None
    assert kept.draft is not None
    assert kept.draft.user_define == "newer"
    stale_cancel = await store.change_conversation(
        "a", 1, "b", ConvChange(clear_draft=True, draft_time=199)
    )
    assert stale_cancel is not None
    assert stale_cancel.draft is not None
    cancel = await store.change_conversation(
        "a", 1, "b", ConvChange(clear_draft=True, draft_time=201)
    )
    assert cancel is not None
    assert cancel.draft is None


async def test_messages_after_a_seq_come_oldest_first_within_what_the_user_may_see(
    store: SqliteStore,
) -> None:
    for i in range(5):
        await store.append(c2c("a", "b", f"m{i}"), 100)
    after = await store.messages_after("b", 1, "a", 2, 10)
    assert [m.seq for m in after] == [3, 4, 5]
    await store.change_conversation("b", 1, "a", ConvChange(delete=True))
    await store.append(c2c("a", "b", "new"), 100)
    assert [m.seq for m in await store.messages_after("b", 1, "a", 0, 10)] == [6]
    assert await store.messages_after("nobody", 1, "a", 0, 10) == []
