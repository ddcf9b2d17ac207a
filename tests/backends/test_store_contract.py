"""The Store contract, on every engine (SQLite file, PostgreSQL schema): seqs, idempotency,
group commit, unread arithmetic, sync paging, groups, durability across reopening."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from opentim.protocol import ConvType, Draft, SyncToken, c2c_channel, group_channel
from opentim.protocol.cursors import FULL, INCREMENTAL
from opentim.server.store.base import (
    ConvChange,
    DuplicateGroupError,
    GroupRow,
    NewMessage,
    Store,
)
from opentim.server.store.postgres import PostgresStore
from opentim.server.store.sqlite import SqliteStore

from ..services import temp_schema

Factory = Callable[[], Store]


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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Factory]:
    """Makes (unopened) stores of one engine on one private database."""
    if request.param == "sqlite":
        path = tmp_path / "t.db"
        yield lambda: SqliteStore(path)
    else:
        async with temp_schema() as url:
            yield lambda: PostgresStore(url)


@pytest.fixture
async def store(factory: Factory) -> AsyncIterator[Store]:
    s = factory()
    await s.open()
    yield s
    await s.close()


async def test_concurrent_appends_get_gap_free_seqs_in_call_order(store: Store) -> None:
    futures = [store.append(c2c("a", "b", f"m{i}"), 100) for i in range(500)]
    results = await asyncio.gather(*futures)
    assert [r.msg.seq for r in results] == list(range(1, 501))
    assert [r.msg.count for r in results] == list(range(1, 501))


async def test_resend_with_same_msg_id_is_the_same_message(store: Store) -> None:
    first = await store.append(c2c("a", "b", "x"), 100)
    again = await store.append(c2c("a", "b", "x"), 200)
    assert not first.duplicate
    assert again.duplicate
    assert again.msg.seq == first.msg.seq == 1
    assert len(await store.history("a", ConvType.C2C, "b", 0, 10)) == 1


async def test_unread_is_sequence_arithmetic_and_own_messages_never_count(
    store: Store,
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
    store: Store,
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


async def test_order_key_bumps_on_draft_and_pin_not_on_unpin_or_read(store: Store) -> None:
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
    store: Store, token: SyncToken, limit: int = 10
) -> tuple[list[str], SyncToken, int]:
    """Page until the store says nothing more: the ids seen, the last token, pages asked."""
    seen: list[str] = []
    more, pages = True, 0
    while more:
        page, token, more = await store.sync_conversations("me", token, limit)
        seen += [c.conv_id for c in page]
        pages += 1
    return seen, token, pages


async def test_sync_pages_every_conversation_then_only_new_changes(store: Store) -> None:
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


async def test_changes_during_a_full_pass_come_after_it(store: Store) -> None:
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


async def test_everything_acknowledged_survives_reopening(factory: Factory) -> None:
    store = factory()
    await store.open()
    acked = await asyncio.gather(*(store.append(c2c("a", "b", f"m{i}"), 1) for i in range(50)))
    await store.close()
    reopened = factory()
    await reopened.open()
    try:
        history = await reopened.history("b", 1, "a", 0, 100)
        assert sorted(m.seq for m in history) == [r.msg.seq for r in acked]
        nxt = await reopened.append(c2c("a", "b", "after"), 1)
        assert nxt.msg.seq == 51
    finally:
        await reopened.close()


async def test_a_deleted_conversation_refuses_changes_until_created_again(
    store: Store,
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


def tip(group_id: str, msg_id: str) -> NewMessage:
    return NewMessage(
        channel_id=group_channel(group_id),
        conv_type=ConvType.GROUP,
        sender="@TIM#SYSTEM",
        receiver=group_id,
        msg_id=msg_id,
        elems=[{"elem_type": 5}],
        is_tips=True,
        excluded_from_unread=True,
    )


def group_msg(sender: str, group_id: str, msg_id: str) -> NewMessage:
    return NewMessage(
        channel_id=group_channel(group_id),
        conv_type=ConvType.GROUP,
        sender=sender,
        receiver=group_id,
        msg_id=msg_id,
        elems=[{"elem_type": 0, "text_elem_content": msg_id}],
    )


def group_row(group_id: str, owner: str = "o") -> GroupRow:
    return GroupRow(group_id=group_id, name=group_id, group_type=1, owner=owner, add_option=2)


async def test_group_members_conversations_and_unread(store: Store) -> None:
    for user in ("o", "a", "b"):
        await store.ensure_user(user, create=True)
    created = await store.create_group(group_row("g"), {"o": 400, "a": 200}, tip("g", "t1"), 1)
    assert (created.seq, created.count) == (1, 0)
    assert await store.get_members("g") == {"o": 400, "a": 200}
    assert await store.member_role("g", "a") == 200
    assert await store.member_role("g", "b") is None
    with pytest.raises(DuplicateGroupError):
        await store.create_group(group_row("g"), {"o": 400}, tip("g", "t2"), 1)
    (fresh,) = await store.get_conversations("a", [(2, "g")])
    assert (fresh.unread, fresh.show_name, fresh.max_seq) == (0, "g", 1)
    await store.append(group_msg("o", "g", "hello"), 2)
    await store.add_members("g", {"b": 200}, tip("g", "t3"), 3)
    (b_conv,) = await store.get_conversations("b", [(2, "g")])
    assert b_conv.unread == 0  # joins read up to the group's max_seq
    await store.append(group_msg("a", "g", "hi"), 4)
    unread = {u: (await store.get_conversations(u, [(2, "g")]))[0].unread for u in "oab"}
    assert unread == {"o": 1, "a": 0, "b": 1}
    removed = await store.remove_members("g", ["a"], tip("g", "t4"), 5)
    (ended,) = await store.get_conversations("a", [(2, "g")])
    assert ended.ended
    assert ended.max_seq == removed.seq
    await store.append(group_msg("o", "g", "after a left"), 6)
    (ended,) = await store.get_conversations("a", [(2, "g")])
    assert ended.max_seq == removed.seq  # a sees nothing after leaving
    assert [g.group_id for g in await store.joined_groups("b")] == ["g"]
    assert await store.joined_groups("a") == []
    await store.dismiss_group("g", tip("g", "t5"), 7)
    assert await store.get_group("g") is None
    assert await store.get_members("g") == {}


async def test_messages_between_reads_a_channel_range_oldest_first(store: Store) -> None:
    await store.ensure_user("a", create=True)
    for i in range(6):
        await store.append(c2c("a", "b", f"m{i}"), 100)
    found = await store.messages_between(c2c_channel("a", "b"), 2, 5)
    assert [m.seq for m in found] == [3, 4, 5]
    assert [m.msg_id for m in found] == ["m2", "m3", "m4"]
    assert found[0].sender_profile is not None
    assert await store.messages_between(c2c_channel("a", "b"), 6, 10) == []


async def test_profiles_are_created_once_and_updated(store: Store) -> None:
    assert await store.ensure_user("x", create=False) is None
    made = await store.ensure_user("x", create=True)
    assert made is not None
    assert made.user_id == "x"
    changed = await store.update_profile("x", {"nick": "X"})
    assert changed.nick == "X"
    assert (await store.get_profiles(["x", "nobody"]))["x"].nick == "X"


async def test_a_failing_write_leaves_the_others_in_its_batch(store: Store) -> None:
    await store.create_group(group_row("g1"), {"o": 400}, tip("g1", "t1"), 1)
    results = await asyncio.gather(
        store.append(c2c("a", "b", "before"), 1),
        store.create_group(group_row("g1"), {"o": 400}, tip("g1", "t2"), 1),
        store.append(c2c("a", "b", "after"), 1),
        return_exceptions=True,
    )
    assert isinstance(results[1], DuplicateGroupError)
    assert [r.msg.seq for r in (results[0], results[2])] == [1, 2]  # type: ignore[union-attr]
    (g1,) = await store.get_conversations("o", [(2, "g1")])
    assert g1.max_seq == 1
