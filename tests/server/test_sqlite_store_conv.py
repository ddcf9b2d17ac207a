"""SqliteStore, the methods of issue 3: batch conversation changes, marks and Hide, receive
options before any message, conversation groups with eviction, mentions, revoke, per-user
deletion, clearing history, and the upgrade of a schema-1 file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from opentim.protocol import AT_ALL, AtType, ConvType, Mark, SyncToken, group_channel
from opentim.protocol.cursors import INCREMENTAL
from opentim.server.store.base import ConvChange, GroupRow, NewMessage
from opentim.server.store.schema import MIGRATIONS
from opentim.server.store.sqlite import SqliteStore

from .test_sqlite_store import c2c

C2C, GROUP = ConvType.C2C, ConvType.GROUP


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = SqliteStore(tmp_path / "t.db")
    await s.open()
    yield s
    await s.close()


def group_msg(sender: str, msg_id: str, at_users: list[str] | None = None) -> NewMessage:
    return NewMessage(
        channel_id=group_channel("g"),
        conv_type=GROUP,
        sender=sender,
        receiver="g",
        msg_id=msg_id,
        elems=[{"elem_type": 0}],
        at_users=at_users or [],
    )


async def make_group(store: SqliteStore, members: list[str]) -> None:
    tip = NewMessage(
        channel_id=group_channel("g"),
        conv_type=GROUP,
        sender="@TIM#SYSTEM",
        receiver="g",
        msg_id="tip",
        elems=[{"elem_type": 5}],
        is_tips=True,
    )
    row = GroupRow(group_id="g", name="G", group_type=0, owner=members[0], add_option=2)
    await store.create_group(row, dict.fromkeys(members, 200), tip, 100)


async def test_batch_changes_report_unknown_conversations_as_none(store: SqliteStore) -> None:
    await store.append(c2c("p1", "me", "a"), 100)
    found = await store.change_conversations(
        "me", [(C2C, "p1"), (C2C, "nobody")], ConvChange(mark_set=Mark.STAR, custom_data="x")
    )
    assert found[1] is None
    assert found[0] is not None
    assert (found[0].marks, found[0].custom_data) == (Mark.STAR, "x")
    assert await store.count_conversations("me", marked=True) == 1
    assert await store.count_conversations("me", custom_data=True) == 1


async def test_hide_holds_until_a_new_message(store: SqliteStore) -> None:
    await store.append(c2c("p1", "me", "a"), 100)
    (conv,) = await store.change_conversations("me", [(C2C, "p1")], ConvChange(mark_set=Mark.HIDE))
    assert conv is not None
    assert conv.marks == Mark.HIDE
    before = conv.pos
    await store.append(c2c("p1", "me", "b"), 100)
    (conv2,) = await store.get_conversations("me", [(C2C, "p1")])
    assert conv2.marks == 0
    assert conv2.pos > before


async def test_recv_opt_before_any_message_is_kept_hidden(store: SqliteStore) -> None:
    for user in ("me", "p1"):
        await store.ensure_user(user, True)
    (conv,) = await store.change_conversations(
        "me", [(C2C, "p1")], ConvChange(recv_opt=2, ensure=True)
    )
    assert conv is not None
    assert conv.deleted, "a settings-only row is not listed"
    assert await store.recv_opts("me", C2C, ["p1", "p2"]) == {"p1": 2}
    await store.append(c2c("p1", "me", "a"), 100)
    (after,) = await store.get_conversations("me", [(C2C, "p1")])
    assert (after.deleted, after.recv_opt, after.unread) == (False, 2, 1)


async def test_conversation_groups_evict_the_earliest_added(store: SqliteStore) -> None:
    for peer in ("p1", "p2", "p3"):
        await store.append(c2c(peer, "me", peer), 100)
    added = await store.create_conv_group("me", "a", [(C2C, "p1"), (C2C, "p2"), (C2C, "x")], 0)
    assert [c.conv_id for c in added] == ["p1", "p2"]
    assert await store.conv_groups("me") == ["a"]
    found = await store.add_to_conv_group("me", "a", [(C2C, "p3")], 2)
    assert found is not None
    new, evicted = found
    assert [c.conv_id for c in new] == ["p3"]
    assert [(c.conv_id, c.groups) for c in evicted] == [("p1", [])]
    renamed = await store.rename_conv_group("me", "a", "b")
    assert renamed is not None
    assert sorted((c.conv_id, tuple(c.groups)) for c in renamed) == [("p2", ("b",)), ("p3", ("b",))]
    assert await store.rename_conv_group("me", "nope", "c") is None
    removed = await store.remove_from_conv_group("me", "b", [(C2C, "p2"), (C2C, "p1")])
    assert removed is not None
    assert [c.conv_id for c in removed] == ["p2"]
    gone = await store.delete_conv_group("me", "b")
    assert gone is not None
    assert [(c.conv_id, c.groups) for c in gone] == [("p3", [])]
    assert await store.conv_groups("me") == []


async def test_mentions_are_pending_until_read(store: SqliteStore) -> None:
    await make_group(store, ["owner", "me", "other"])
    m1 = (await store.append(group_msg("owner", "m1", ["me"]), 100)).msg
    m2 = (await store.append(group_msg("owner", "m2", [AT_ALL]), 100)).msg
    m3 = (await store.append(group_msg("owner", "m3", [AT_ALL, "me"]), 100)).msg
    (me,) = await store.get_conversations("me", [(GROUP, "g")])
    assert [(a.seq, a.at_type) for a in me.at_info] == [
        (m1.seq, AtType.AT_ME),
        (m2.seq, AtType.AT_ALL),
        (m3.seq, AtType.AT_ALL_AT_ME),
    ]
    (other,) = await store.get_conversations("other", [(GROUP, "g")])
    assert [a.at_type for a in other.at_info] == [AtType.AT_ALL, AtType.AT_ALL]
    (owner,) = await store.get_conversations("owner", [(GROUP, "g")])
    assert owner.at_info == []
    await store.change_conversation("me", GROUP, "g", ConvChange(read_up_to=m2.seq))
    (me,) = await store.get_conversations("me", [(GROUP, "g")])
    assert [a.seq for a in me.at_info] == [m3.seq]


async def test_revoke_moves_the_channel_position_not_the_order(store: SqliteStore) -> None:
    sent = (await store.append(c2c("a", "b", "x"), 100)).msg
    (before,) = await store.get_conversations("b", [(C2C, "a")])
    done = await store.revoke_message(c2c("a", "b", "x").channel_id, sent.seq, "a", "typo")
    assert done is not None
    assert (done.msg.revoker, done.msg.revoke_reason, done.msg.elems) == ("a", "typo", [])
    (after,) = await store.get_conversations("b", [(C2C, "a")])
    assert after.pos == done.pos > before.pos
    assert after.order_key == before.order_key
    assert after.unread == before.unread == 1
    assert after.last_msg is not None
    assert after.last_msg.revoked
    token = SyncToken(phase=INCREMENTAL, pos=before.pos)
    page, _, _ = await store.sync_conversations("b", token, 10)
    assert [c.conv_id for c in page] == ["a"], "a device that syncs sees the revoke"


async def test_per_user_deletion_and_clearing_history(store: SqliteStore) -> None:
    first = (await store.append(c2c("a", "b", "one"), 100)).msg
    second = (await store.append(c2c("a", "b", "two"), 100)).msg
    conv = await store.delete_messages("b", C2C, "a", [second.seq])
    assert conv is not None
    assert conv.last_msg is not None
    assert conv.last_msg.msg_id == first.msg_id
    assert [m.seq for m in await store.history("b", C2C, "a", 0, 10)] == [1]
    assert [m.seq for m in await store.history("a", C2C, "b", 0, 10)] == [2, 1]
    cleared = await store.change_conversation("a", C2C, "b", ConvChange(clear_history=True))
    assert cleared is not None
    assert (cleared.deleted, cleared.last_msg, cleared.unread) == (False, None, 0)
    assert await store.history("a", C2C, "b", 0, 10) == []


async def test_a_schema_1_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for sql in MIGRATIONS[0]:
        conn.execute(sql)
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    conn.execute("INSERT INTO channels VALUES ('c:1:a:b', 3, 3, 3, 7)")
    conn.execute(
        "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, deleted, "
        "deleted_up_to, changed) VALUES ('a', 1, 'b', 'c:1:a:b', 1, 2, 5)"
    )
    conn.commit()
    conn.close()
    store = SqliteStore(path)
    await store.open()
    try:
        (conv,) = await store.get_conversations("a", [(C2C, "b")])
        assert conv.pos == 7, "the channel's change position starts at its activity"
        assert conv.marks == 0
        assert conv.groups == []
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT cleared_up_to FROM conversations").fetchone() == (2,)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (len(MIGRATIONS),)
    conn.close()
