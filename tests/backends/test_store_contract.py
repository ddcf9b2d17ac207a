"""The Store contract, on every engine (SQLite file, PostgreSQL schema): seqs, idempotency,
group commit, unread arithmetic, sync paging, groups, durability across reopening; and the
conversation state of issue 3: batch changes, marks and Hide, custom data, receive options
before any message, conversation groups with eviction, mentions, revoke, per-user deletion,
clearing history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from opentim.protocol import (
    AT_ALL,
    AtType,
    ConvType,
    Draft,
    Mark,
    SyncToken,
    c2c_channel,
    group_channel,
)
from opentim.protocol.cursors import FULL, INCREMENTAL
from opentim.protocol.limits import MAX_AT_INFO
from opentim.server.store import postgres as postgres_store, sqlite as sqlite_store
from opentim.server.store.base import (
    ConvChange,
    DuplicateConvGroupError,
    DuplicateGroupError,
    GroupRow,
    NewMessage,
    Store,
)
from opentim.server.store.postgres import PostgresStore
from opentim.server.store.repos import conversations as conversations_repo
from opentim.server.store.rows import CONV_SELECT, MSG_COLS, REMARK_JOIN
from opentim.server.store.schema import MIGRATIONS
from opentim.server.store.sqlite import SqliteStore

from ..services import temp_schema

Factory = Callable[[], Store]
C2C, GROUP = ConvType.C2C, ConvType.GROUP


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
    futures = [store.messages.append(c2c("a", "b", f"m{i}"), 100) for i in range(500)]
    results = await asyncio.gather(*futures)
    assert [r.msg.seq for r in results] == list(range(1, 501))
    assert [r.msg.count for r in results] == list(range(1, 501))


async def test_the_clock_is_never_below_a_position_a_reader_saw(store: Store) -> None:
    """The service refuses a sync token beyond ``clock_now`` as another history's: while
    writes commit, no page may hand out a position the clock has not reached."""
    token = SyncToken(phase=INCREMENTAL, pos=await store.clock_now())
    finished = False

    async def write() -> None:
        nonlocal finished
        for i in range(150):
            await asyncio.gather(
                *(store.messages.append(c2c(f"p{k}", "me", f"m{i}-{k}"), 1) for k in range(3))
            )
        finished = True

    async def read() -> None:
        nonlocal token
        while not finished:
            _, token, _ = await store.convs.sync_conversations("me", token, 100)
            assert token.pos <= await store.clock_now()

    await asyncio.gather(write(), read())
    assert token.pos > 0


async def test_resend_with_same_msg_id_is_the_same_message(store: Store) -> None:
    first = await store.messages.append(c2c("a", "b", "x"), 100)
    again = await store.messages.append(c2c("a", "b", "x"), 200)
    assert not first.duplicate
    assert again.duplicate
    assert again.msg.seq == first.msg.seq == 1
    assert len(await store.messages.history("a", ConvType.C2C, "b", 0, 10)) == 1


async def test_unread_is_sequence_arithmetic_and_own_messages_never_count(
    store: Store,
) -> None:
    for i in range(3):
        await store.messages.append(c2c("a", "b", f"a{i}"), 100)
    await store.messages.append(c2c("a", "b", "tip", excluded_from_unread=True), 100)
    (bob,) = await store.convs.get_conversations("b", [(1, "a")])
    (alice,) = await store.convs.get_conversations("a", [(1, "b")])
    assert (bob.unread, alice.unread) == (3, 0)
    await store.messages.append(c2c("b", "a", "reply"), 100)
    (bob,) = await store.convs.get_conversations("b", [(1, "a")])
    (alice,) = await store.convs.get_conversations("a", [(1, "b")])
    assert (bob.unread, alice.unread) == (0, 1)
    assert bob.last_msg is not None
    assert bob.last_msg.msg_id == "reply"


async def test_delete_hides_until_a_later_message_shows_only_what_follows(
    store: Store,
) -> None:
    await store.messages.append(c2c("a", "b", "old"), 100)
    deleted = await store.convs.change_conversation("b", 1, "a", ConvChange(delete=True))
    assert deleted is not None
    assert deleted.deleted
    assert deleted.unread == 0
    assert await store.messages.history("b", 1, "a", 0, 10) == []
    await store.messages.append(c2c("a", "b", "new"), 100)
    (back,) = await store.convs.get_conversations("b", [(1, "a")])
    assert not back.deleted
    assert back.unread == 1
    assert [m.msg_id for m in await store.messages.history("b", 1, "a", 0, 10)] == ["new"]
    assert [m.msg_id for m in await store.messages.history("a", 1, "b", 0, 10)] == ["new", "old"]


async def test_order_key_bumps_on_draft_and_pin_not_on_unpin_or_read(store: Store) -> None:
    await store.messages.append(c2c("a", "b", "m"), 100)
    (c,) = await store.convs.get_conversations("a", [(1, "b")])
    pinned = await store.convs.change_conversation("a", 1, "b", ConvChange(pinned=True))
    assert pinned is not None
    assert pinned.activity > c.activity
    unpinned = await store.convs.change_conversation("a", 1, "b", ConvChange(pinned=False))
    assert unpinned is not None
    assert unpinned.activity == pinned.activity
    drafted = await store.convs.change_conversation(
        "a", 1, "b", ConvChange(draft=Draft(user_define="d"))
    )
    assert drafted is not None
    assert drafted.activity > pinned.activity
    read = await store.convs.change_conversation("a", 1, "b", ConvChange(read_up_to=0))
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
        page, token, more = await store.convs.sync_conversations("me", token, limit)
        seen += [c.conv_id for c in page]
        pages += 1
    return seen, token, pages


async def test_sync_pages_every_conversation_then_only_new_changes(store: Store) -> None:
    for i in range(25):
        await store.messages.append(c2c(f"p{i}", "me", f"m{i}"), 100)
    seen, token, pages = await sync_all(store, SyncToken())
    assert sorted(seen) == sorted(f"p{i}" for i in range(25))
    assert pages == 4  # three full pages, then an empty incremental one
    assert token.phase == INCREMENTAL
    assert await store.convs.sync_conversations("me", token, 10) == ([], token, False)
    await store.messages.append(c2c("p3", "me", "again"), 100)
    page, _, more = await store.convs.sync_conversations("me", token, 10)
    assert [c.conv_id for c in page] == ["p3"]
    assert not more


async def test_changes_during_a_full_pass_come_after_it(store: Store) -> None:
    for i in range(12):
        await store.messages.append(c2c(f"p{i:02}", "me", f"m{i}"), 100)
    first, token, _ = await store.convs.sync_conversations("me", SyncToken(), 5)
    assert token.phase == FULL
    await store.messages.append(c2c("p00", "me", "during"), 100)  # already returned in this pass
    await store.messages.append(
        c2c("p99", "me", "new peer"), 100
    )  # a conversation born in the pass
    rest, token, _ = await sync_all(store, token, 5)
    seen = [c.conv_id for c in first] + rest
    assert set(seen) == {f"p{i:02}" for i in range(12)} | {"p99"}
    assert "p00" in rest  # its change after the horizon is delivered again


async def test_everything_acknowledged_survives_reopening(factory: Factory) -> None:
    store = factory()
    await store.open()
    acked = await asyncio.gather(
        *(store.messages.append(c2c("a", "b", f"m{i}"), 1) for i in range(50))
    )
    await store.close()
    reopened = factory()
    await reopened.open()
    try:
        history = await reopened.messages.history("b", 1, "a", 0, 100)
        assert sorted(m.seq for m in history) == [r.msg.seq for r in acked]
        nxt = await reopened.messages.append(c2c("a", "b", "after"), 1)
        assert nxt.msg.seq == 51
    finally:
        await reopened.close()


async def test_a_deleted_conversation_refuses_changes_until_created_again(
    store: Store,
) -> None:
    await store.messages.append(c2c("a", "b", "m"), 100)
    await store.convs.change_conversation("b", 1, "a", ConvChange(pinned=True))
    assert await store.convs.change_conversation("b", 1, "a", ConvChange(delete=True)) is not None
    assert await store.convs.change_conversation("b", 1, "a", ConvChange(delete=True)) is None
    assert await store.convs.change_conversation("b", 1, "a", ConvChange(pinned=True)) is None
    back = await store.convs.change_conversation("b", 1, "a", ConvChange(create=True))
    assert back is not None
    assert not back.deleted
    assert not back.pinned
    assert back.unread == 0


def draft_edit(text: str, stamp: int, *, create: bool = False) -> ConvChange:
    return ConvChange(
        draft=Draft(user_define=text, edit_time=stamp), draft_time=stamp, create=create
    )


async def test_the_later_draft_stamp_wins_and_a_tie_goes_to_the_later_arrival(
    store: Store,
) -> None:
    await store.messages.append(c2c("a", "b", "m"), 100)
    await store.convs.change_conversation("a", 1, "b", draft_edit("newer", 200))
    kept = await store.convs.change_conversation("a", 1, "b", draft_edit("older", 150))
    assert kept is not None
    assert kept.draft == Draft(user_define="newer", edit_time=200)
    stale_cancel = await store.convs.change_conversation(
        "a", 1, "b", ConvChange(clear_draft=True, draft_time=199)
    )
    assert stale_cancel is not None
    assert stale_cancel.draft is not None
    # Same second: the edit that arrives last wins, a set then a cancel ends cancelled.
    tie = await store.convs.change_conversation("a", 1, "b", draft_edit("same second", 200))
    assert tie is not None
    assert tie.draft == Draft(user_define="same second", edit_time=200)
    cancel = await store.convs.change_conversation(
        "a", 1, "b", ConvChange(clear_draft=True, draft_time=200)
    )
    assert cancel is not None
    assert cancel.draft is None
    again = await store.convs.change_conversation("a", 1, "b", draft_edit("back", 200))
    assert again is not None
    assert again.draft == Draft(user_define="back", edit_time=200)


async def test_a_draft_with_create_makes_the_conversation_and_sets_it(store: Store) -> None:
    assert await store.convs.change_conversation("a", 1, "b", draft_edit("new", 10)) is None
    made = await store.convs.change_conversation("a", 1, "b", draft_edit("new", 10, create=True))
    assert made is not None
    assert not made.deleted
    assert made.draft == Draft(user_define="new", edit_time=10)
    # A deleted conversation comes back with the draft, not without it.
    await store.messages.append(c2c("b", "a", "m"), 100)
    assert await store.convs.change_conversation("a", 1, "b", ConvChange(delete=True)) is not None
    back = await store.convs.change_conversation("a", 1, "b", draft_edit("again", 15, create=True))
    assert back is not None
    assert (back.deleted, back.unread, back.draft) == (
        False,
        0,
        Draft(user_define="again", edit_time=15),
    )


@pytest.mark.parametrize(
    ("legacy", "seconds"),
    [
        (1_700_000_000_123, 1_700_000_000),  # milliseconds
        (1_700_000_000_123_456, 1_700_000_000),  # microseconds
        (638_357_568_001_234_567, 1_700_160_000),  # .NET ticks (100 ns since year 1)
    ],
)
async def test_draft_times_of_the_previous_release_become_seconds_and_block_nothing(
    factory: Factory, monkeypatch: pytest.MonkeyPatch, legacy: int, seconds: int
) -> None:
    """The previous release stored the app's draft_edit_time as it came: after the upgrade the
    draft reads back in seconds, devices sync it again, and a later edit takes effect."""
    with monkeypatch.context() as before_upgrade:
        for module in (sqlite_store, postgres_store):
            before_upgrade.setattr(module, "MIGRATIONS", MIGRATIONS[:3])
        # That release's conversation reads knew no friends table (migration 5) and no message
        # versions (issue 12).
        without_friends = (
            CONV_SELECT.replace(REMARK_JOIN, "")
            .replace("fr.remark", "NULL")
            .replace("m.version", "0")
        )
        before_upgrade.setattr(conversations_repo, "CONV_SELECT", without_friends)
        before_upgrade.setattr(postgres_store, "MSG_COLS", MSG_COLS.replace("m.version", "0"))
        old = factory()
        await old.open()
        await old.messages.append(c2c("a", "b", "m"), 100)
        stored = await old.convs.change_conversation("a", 1, "b", draft_edit("typed", legacy))
        assert stored is not None
        assert stored.draft is not None
        assert stored.draft.edit_time == legacy
        _, token, _ = await old.convs.sync_conversations("a", SyncToken(), 10)
        await old.close()
    store = factory()
    await store.open()
    try:
        changed, _, _ = await store.convs.sync_conversations("a", token, 10)
        assert [c.conv_id for c in changed] == ["b"], "devices see the corrected draft"
        assert changed[0].draft == Draft(user_define="typed", edit_time=seconds)
        later = await store.convs.change_conversation(
            "a", 1, "b", draft_edit("later", seconds + 60)
        )
        assert later is not None
        assert later.draft == Draft(user_define="later", edit_time=seconds + 60)
        cancel = await store.convs.change_conversation(
            "a", 1, "b", ConvChange(clear_draft=True, draft_time=seconds + 61)
        )
        assert cancel is not None
        assert cancel.draft is None
    finally:
        await store.close()


async def test_messages_after_a_seq_come_oldest_first_within_what_the_user_may_see(
    store: Store,
) -> None:
    for i in range(5):
        await store.messages.append(c2c("a", "b", f"m{i}"), 100)
    after = await store.messages.messages_after("b", 1, "a", 2, 10)
    assert [m.seq for m in after] == [3, 4, 5]
    await store.convs.change_conversation("b", 1, "a", ConvChange(delete=True))
    await store.messages.append(c2c("a", "b", "new"), 100)
    assert [m.seq for m in await store.messages.messages_after("b", 1, "a", 0, 10)] == [6]
    assert await store.messages.messages_after("nobody", 1, "a", 0, 10) == []


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


def group_msg(
    sender: str, group_id: str, msg_id: str, at_users: list[str] | None = None
) -> NewMessage:
    return NewMessage(
        channel_id=group_channel(group_id),
        conv_type=ConvType.GROUP,
        sender=sender,
        receiver=group_id,
        msg_id=msg_id,
        elems=[{"elem_type": 0, "text_elem_content": msg_id}],
        at_users=at_users or [],
    )


def group_row(group_id: str, owner: str = "o") -> GroupRow:
    return GroupRow(group_id=group_id, name=group_id, group_type=1, owner=owner, add_option=2)


async def test_group_members_conversations_and_unread(store: Store) -> None:
    for user in ("o", "a", "b"):
        await store.users.ensure_user(user, create=True)
    created = await store.groups.create_group(
        group_row("g"), {"o": 400, "a": 200}, tip("g", "t1"), 1
    )
    assert (created.seq, created.count) == (1, 0)
    assert await store.groups.get_members("g") == {"o": 400, "a": 200}
    assert await store.groups.member_role("g", "a") == 200
    assert await store.groups.member_role("g", "b") is None
    with pytest.raises(DuplicateGroupError):
        await store.groups.create_group(group_row("g"), {"o": 400}, tip("g", "t2"), 1)
    (fresh,) = await store.convs.get_conversations("a", [(2, "g")])
    assert (fresh.unread, fresh.show_name, fresh.max_seq) == (0, "g", 1)
    await store.messages.append(group_msg("o", "g", "hello"), 2)
    await store.groups.add_members("g", {"b": 200}, tip("g", "t3"), 3)
    (b_conv,) = await store.convs.get_conversations("b", [(2, "g")])
    assert b_conv.unread == 0  # joins read up to the group's max_seq
    await store.messages.append(group_msg("a", "g", "hi"), 4)
    unread = {u: (await store.convs.get_conversations(u, [(2, "g")]))[0].unread for u in "oab"}
    assert unread == {"o": 1, "a": 0, "b": 1}
    removed = await store.groups.remove_members("g", ["a"], tip("g", "t4"), 5)
    (ended,) = await store.convs.get_conversations("a", [(2, "g")])
    assert ended.ended
    assert ended.max_seq == removed.seq
    await store.messages.append(group_msg("o", "g", "after a left"), 6)
    (ended,) = await store.convs.get_conversations("a", [(2, "g")])
    assert ended.max_seq == removed.seq  # a sees nothing after leaving
    assert [g.group_id for g in await store.groups.joined_groups("b")] == ["g"]
    assert await store.groups.joined_groups("a") == []
    await store.groups.dismiss_group("g", tip("g", "t5"), 7)
    assert await store.groups.get_group("g") is None
    assert await store.groups.get_members("g") == {}


async def test_messages_between_reads_a_channel_range_oldest_first(store: Store) -> None:
    await store.users.ensure_user("a", create=True)
    for i in range(6):
        await store.messages.append(c2c("a", "b", f"m{i}"), 100)
    found = await store.messages.messages_between(c2c_channel("a", "b"), 2, 5)
    assert [m.seq for m in found] == [3, 4, 5]
    assert [m.msg_id for m in found] == ["m2", "m3", "m4"]
    assert found[0].sender_profile is not None
    assert await store.messages.messages_between(c2c_channel("a", "b"), 6, 10) == []


async def test_profiles_are_created_once_and_updated(store: Store) -> None:
    assert await store.users.ensure_user("x", create=False) is None
    made = await store.users.ensure_user("x", create=True)
    assert made is not None
    assert made.user_id == "x"
    changed = await store.users.update_profile("x", {"nick": "X"})
    assert changed.nick == "X"
    assert (await store.users.get_profiles(["x", "nobody"]))["x"].nick == "X"


async def test_a_failing_write_leaves_the_others_in_its_batch(store: Store) -> None:
    await store.groups.create_group(group_row("g1"), {"o": 400}, tip("g1", "t1"), 1)
    results = await asyncio.gather(
        store.messages.append(c2c("a", "b", "before"), 1),
        store.groups.create_group(group_row("g1"), {"o": 400}, tip("g1", "t2"), 1),
        store.messages.append(c2c("a", "b", "after"), 1),
        return_exceptions=True,
    )
    assert isinstance(results[1], DuplicateGroupError)
    assert [r.msg.seq for r in (results[0], results[2])] == [1, 2]  # type: ignore[union-attr]
    (g1,) = await store.convs.get_conversations("o", [(2, "g1")])
    assert g1.max_seq == 1


# --- issue 3: per-user conversation state, conversation groups, mentions, revoke, deletion ----


async def make_group(store: Store, members: list[str], group_id: str = "g") -> None:
    """A group owned by the first of ``members``; its creation tip is seq 1."""
    await store.groups.create_group(
        group_row(group_id, members[0]),
        dict.fromkeys(members, 200),
        tip(group_id, f"t-{group_id}"),
        100,
    )


async def test_batch_changes_report_unknown_conversations_as_none(store: Store) -> None:
    await store.messages.append(c2c("p1", "me", "a"), 100)
    found = await store.convs.change_conversations(
        "me", [(C2C, "p1"), (C2C, "nobody")], ConvChange(mark_set=Mark.STAR, custom_data="x")
    )
    assert found[1] is None
    assert found[0] is not None
    assert (found[0].marks, found[0].custom_data) == (Mark.STAR, "x")
    assert await store.convs.count_conversations("me", marked=True) == 1
    assert await store.convs.count_conversations("me", custom_data=True) == 1


async def test_marks_and_custom_data_are_set_and_cleared(store: Store) -> None:
    for peer in ("p1", "p2"):
        await store.messages.append(c2c(peer, "me", peer), 100)
    keys = [(C2C, "p1"), (C2C, "p2")]
    both = await store.convs.change_conversations(
        "me", keys, ConvChange(mark_set=Mark.STAR | 1 << 40)
    )
    assert [c.marks if c else None for c in both] == [Mark.STAR | 1 << 40] * 2
    (p1,) = await store.convs.change_conversations(
        "me", keys[:1], ConvChange(mark_clear=Mark.STAR, custom_data="cd")
    )
    assert p1 is not None
    assert (p1.marks, p1.custom_data) == (1 << 40, "cd")
    assert p1.pos > max(c.pos for c in both if c)
    (p1,) = await store.convs.change_conversations(
        "me", keys[:1], ConvChange(mark_clear=1 << 40, custom_data="")
    )
    assert p1 is not None
    assert (p1.marks, p1.custom_data) == (0, "")
    assert await store.convs.count_conversations("me", marked=True) == 1
    assert await store.convs.count_conversations("me", custom_data=True) == 0


async def test_uint64_values_round_trip_in_signed_columns(factory: Factory) -> None:
    # Marks, client times and randoms are uint64 in the reference (issue 9, finding 5): bit 63
    # and 2^64-1 are stored and read back as themselves, after reopening too.
    top, bit63 = (1 << 64) - 1, 1 << 63
    store = factory()
    await store.open()
    try:
        sent = await store.messages.append(
            c2c("p1", "me", "big", client_time=top, random=bit63), 100
        )
        assert (sent.msg.client_time, sent.msg.random) == (top, bit63)
        (conv,) = await store.convs.change_conversations(
            "me", [(C2C, "p1")], ConvChange(mark_set=bit63 | Mark.STAR)
        )
        assert conv is not None
        assert conv.marks == bit63 | Mark.STAR
        (conv,) = await store.convs.change_conversations(
            "me", [(C2C, "p1")], ConvChange(mark_set=1 << 32, mark_clear=Mark.STAR)
        )
        assert conv is not None
        assert conv.marks == bit63 | 1 << 32
    finally:
        await store.close()
    reopened = factory()
    await reopened.open()
    try:
        (msg,) = await reopened.messages.history("me", C2C, "p1", 0, 10)
        assert (msg.client_time, msg.random) == (top, bit63)
        (conv,) = await reopened.convs.get_conversations("me", [(C2C, "p1")])
        assert conv.marks == bit63 | 1 << 32
        assert conv.last_msg is not None
        assert conv.last_msg.client_time == top
        assert await reopened.convs.count_conversations("me", marked=True) == 1
    finally:
        await reopened.close()


async def test_hide_holds_until_a_new_message(store: Store) -> None:
    await store.messages.append(c2c("p1", "me", "a"), 100)
    (conv,) = await store.convs.change_conversations(
        "me", [(C2C, "p1")], ConvChange(mark_set=Mark.HIDE)
    )
    assert conv is not None
    assert conv.marks == Mark.HIDE
    before = conv.pos
    await store.messages.append(c2c("p1", "me", "b"), 100)
    (conv2,) = await store.convs.get_conversations("me", [(C2C, "p1")])
    assert conv2.marks == 0
    assert conv2.pos > before
    # A Hide that a message already lifted does not come back with another mark.
    starred = await store.convs.change_conversation("me", C2C, "p1", ConvChange(mark_set=Mark.STAR))
    assert starred is not None
    assert starred.marks == Mark.STAR
    hidden = await store.convs.change_conversation("me", C2C, "p1", ConvChange(mark_set=Mark.HIDE))
    assert hidden is not None
    assert (hidden.marks, hidden.hide_seq) == (Mark.STAR | Mark.HIDE, 2)


async def test_recv_opt_before_any_message_is_kept_hidden(store: Store) -> None:
    for user in ("me", "p1"):
        await store.users.ensure_user(user, True)
    (conv,) = await store.convs.change_conversations(
        "me", [(C2C, "p1")], ConvChange(recv_opt=2, ensure=True)
    )
    assert conv is not None
    assert conv.deleted, "a settings-only row is not listed"
    assert await store.convs.recv_opts("me", C2C, ["p1", "p2"]) == {"p1": 2}
    assert await store.convs.change_conversation("me", C2C, "p1", ConvChange(pinned=True)) is None
    await store.messages.append(c2c("p1", "me", "a"), 100)
    (after,) = await store.convs.get_conversations("me", [(C2C, "p1")])
    assert (after.deleted, after.recv_opt, after.unread) == (False, 2, 1)
    assert [m.msg_id for m in await store.messages.history("me", C2C, "p1", 0, 10)] == ["a"]


async def test_ensure_on_a_listed_conversation_only_changes_settings(store: Store) -> None:
    await store.messages.append(c2c("p1", "me", "a"), 100)
    conv = await store.convs.change_conversation(
        "me", C2C, "p1", ConvChange(recv_opt=1, ensure=True)
    )
    assert conv is not None
    assert (conv.deleted, conv.recv_opt, conv.unread) == (False, 1, 1)
    assert await store.convs.recv_opts("me", C2C, ["p1"]) == {"p1": 1}


async def test_conversation_groups_evict_the_earliest_added(store: Store) -> None:
    for peer in ("p1", "p2", "p3"):
        await store.messages.append(c2c(peer, "me", peer), 100)
    added = await store.conv_groups.create_conv_group(
        "me", "a", [(C2C, "p1"), (C2C, "p2"), (C2C, "x")], 0
    )
    assert [c.conv_id for c in added] == ["p1", "p2"]
    assert await store.conv_groups.conv_groups("me") == ["a"]
    found = await store.conv_groups.add_to_conv_group("me", "a", [(C2C, "p3")], 2)
    assert found is not None
    new, evicted = found
    assert [c.conv_id for c in new] == ["p3"]
    assert [(c.conv_id, c.groups) for c in evicted] == [("p1", [])]
    renamed = await store.conv_groups.rename_conv_group("me", "a", "b")
    assert renamed is not None
    assert sorted((c.conv_id, tuple(c.groups)) for c in renamed) == [("p2", ("b",)), ("p3", ("b",))]
    assert await store.conv_groups.rename_conv_group("me", "nope", "c") is None
    removed = await store.conv_groups.remove_from_conv_group("me", "b", [(C2C, "p2"), (C2C, "p1")])
    assert removed is not None
    assert [c.conv_id for c in removed] == ["p2"]
    gone = await store.conv_groups.delete_conv_group("me", "b")
    assert gone is not None
    assert [(c.conv_id, c.groups) for c in gone] == [("p3", [])]
    assert await store.conv_groups.conv_groups("me") == []


async def test_conversation_group_names_are_unique_and_missing_groups_are_none(
    store: Store,
) -> None:
    for peer in ("p1", "p2"):
        await store.messages.append(c2c(peer, "me", peer), 100)
    await store.conv_groups.create_conv_group("me", "work", [(C2C, "p1")], 0)
    await store.conv_groups.create_conv_group("me", "home", [(C2C, "p1"), (C2C, "p2")], 0)
    assert await store.conv_groups.conv_groups("me") == ["work", "home"], "in creation order"
    assert await store.conv_groups.conv_groups("p1") == [], "each user has their own"
    with pytest.raises(DuplicateConvGroupError):
        await store.conv_groups.create_conv_group("me", "work", [(C2C, "p2")], 0)
    with pytest.raises(DuplicateConvGroupError):
        await store.conv_groups.rename_conv_group("me", "work", "home")
    (p1,) = await store.convs.get_conversations("me", [(C2C, "p1")])
    assert p1.groups == ["work", "home"]
    assert await store.conv_groups.add_to_conv_group("me", "nope", [(C2C, "p1")], 10) is None
    assert await store.conv_groups.remove_from_conv_group("me", "nope", [(C2C, "p1")]) is None
    assert await store.conv_groups.delete_conv_group("me", "nope") is None
    again = await store.conv_groups.add_to_conv_group("me", "work", [(C2C, "p1"), (C2C, "p2")], 10)
    assert again is not None
    assert ([c.conv_id for c in again[0]], again[1]) == (["p2"], []), "members stay as they are"


async def test_deleting_a_conversation_takes_it_out_of_its_groups(store: Store) -> None:
    for peer in ("p1", "p2"):
        await store.messages.append(c2c(peer, "me", peer), 100)
    await store.conv_groups.create_conv_group("me", "g1", [(C2C, "p1"), (C2C, "p2")], 0)
    deleted = await store.convs.change_conversation("me", C2C, "p1", ConvChange(delete=True))
    assert deleted is not None
    assert deleted.groups == []
    gone = await store.conv_groups.delete_conv_group("me", "g1")
    assert gone is not None
    assert [c.conv_id for c in gone] == ["p2"]
    await store.conv_groups.create_conv_group("me", "g2", [], 0)
    found = await store.conv_groups.add_to_conv_group("me", "g2", [(C2C, "p1"), (C2C, "p2")], 10)
    assert found is not None
    assert [c.conv_id for c in found[0]] == ["p2"], "a deleted conversation cannot be added"


async def test_mentions_are_pending_until_read(store: Store) -> None:
    await make_group(store, ["owner", "me", "other"])
    m1 = (await store.messages.append(group_msg("owner", "g", "m1", ["me"]), 100)).msg
    m2 = (await store.messages.append(group_msg("owner", "g", "m2", [AT_ALL]), 100)).msg
    m3 = (await store.messages.append(group_msg("owner", "g", "m3", [AT_ALL, "me"]), 100)).msg
    (me,) = await store.convs.get_conversations("me", [(GROUP, "g")])
    assert [(a.seq, a.at_type) for a in me.at_info] == [
        (m1.seq, AtType.AT_ME),
        (m2.seq, AtType.AT_ALL),
        (m3.seq, AtType.AT_ALL_AT_ME),
    ]
    (other,) = await store.convs.get_conversations("other", [(GROUP, "g")])
    assert [a.at_type for a in other.at_info] == [AtType.AT_ALL, AtType.AT_ALL]
    (owner,) = await store.convs.get_conversations("owner", [(GROUP, "g")])
    assert owner.at_info == []
    await store.convs.change_conversation("me", GROUP, "g", ConvChange(read_up_to=m2.seq))
    (me,) = await store.convs.get_conversations("me", [(GROUP, "g")])
    assert [a.seq for a in me.at_info] == [m3.seq]
    page, _, _ = await store.convs.sync_conversations("other", SyncToken(), 10)
    assert [len(c.at_info) for c in page] == [2], "a sync page carries them too"


async def test_a_snapshot_lists_only_the_latest_pending_mentions(store: Store) -> None:
    await make_group(store, ["owner", "me"])
    for i in range(MAX_AT_INFO + 5):
        await store.messages.append(group_msg("owner", "g", f"at{i}", ["me"]), 100)
    (me,) = await store.convs.get_conversations("me", [(GROUP, "g")])
    assert len(me.at_info) == MAX_AT_INFO, "however many messages mention the user"
    assert me.at_info[-1].seq == me.max_seq
    page, _, _ = await store.convs.sync_conversations("me", SyncToken(), 10)
    assert [len(c.at_info) for c in page] == [MAX_AT_INFO]


async def test_mentions_in_several_groups_each_stay_in_their_own(store: Store) -> None:
    await make_group(store, ["owner", "me"], "g1")
    await make_group(store, ["owner", "me"], "g2")
    await store.messages.append(group_msg("owner", "g1", "x1", ["me"]), 100)
    await store.messages.append(group_msg("owner", "g2", "y1", [AT_ALL]), 100)
    await store.messages.append(group_msg("owner", "g2", "y2", []), 100)
    g1, g2 = await store.convs.get_conversations("me", [(GROUP, "g1"), (GROUP, "g2")])
    assert [(a.seq, a.at_type) for a in g1.at_info] == [(2, AtType.AT_ME)]
    assert [(a.seq, a.at_type) for a in g2.at_info] == [(2, AtType.AT_ALL)]
    cleared = await store.convs.change_conversation(
        "me", GROUP, "g2", ConvChange(clear_history=True)
    )
    assert cleared is not None
    assert cleared.at_info == []


async def test_revoke_moves_the_channel_position_not_the_order(store: Store) -> None:
    sent = (await store.messages.append(c2c("a", "b", "x"), 100)).msg
    (before,) = await store.convs.get_conversations("b", [(C2C, "a")])
    done = await store.messages.revoke_message(c2c("a", "b", "x").channel_id, sent.seq, "a", "typo")
    assert done is not None
    assert (done.msg.revoker, done.msg.revoke_reason, done.msg.elems) == ("a", "typo", [])
    (after,) = await store.convs.get_conversations("b", [(C2C, "a")])
    assert after.pos == done.pos > before.pos
    assert after.order_key == before.order_key
    assert after.unread == before.unread == 1
    assert after.last_msg is not None
    assert after.last_msg.revoked
    token = SyncToken(phase=INCREMENTAL, pos=before.pos)
    page, _, _ = await store.convs.sync_conversations("b", token, 10)
    assert [c.conv_id for c in page] == ["a"], "a device that syncs sees the revoke"


async def test_a_message_is_revoked_once_and_read_back_revoked(store: Store) -> None:
    await make_group(store, ["owner", "me"])
    sent = (await store.messages.append(group_msg("me", "g", "oops"), 100)).msg
    channel = group_channel("g")
    found = await store.messages.get_message(channel, sent.seq)
    assert found is not None
    assert (found.msg_id, found.revoked) == ("oops", False)
    assert await store.messages.get_message(channel, 99) is None
    done = await store.messages.revoke_message(channel, sent.seq, "owner", "")
    assert done is not None
    assert await store.messages.revoke_message(channel, sent.seq, "me", "again") is None
    assert await store.messages.revoke_message(channel, 99, "me", "") is None
    (history,) = await store.messages.history("me", GROUP, "g", 0, 1)
    assert (history.msg_id, history.revoker, history.elems) == ("oops", "owner", [])
    owner, me = [
        (await store.convs.get_conversations(u, [(GROUP, "g")]))[0] for u in ("owner", "me")
    ]
    assert owner.pos == me.pos == done.pos, "every member's conversation moved"
    assert owner.unread == 1


async def test_per_user_deletion_and_clearing_history(store: Store) -> None:
    first = (await store.messages.append(c2c("a", "b", "one"), 100)).msg
    second = (await store.messages.append(c2c("a", "b", "two"), 100)).msg
    conv = await store.messages.delete_messages("b", C2C, "a", [second.seq])
    assert conv is not None
    assert conv.last_msg is not None
    assert conv.last_msg.msg_id == first.msg_id
    assert [m.seq for m in await store.messages.history("b", C2C, "a", 0, 10)] == [1]
    assert [m.seq for m in await store.messages.history("a", C2C, "b", 0, 10)] == [2, 1]
    cleared = await store.convs.change_conversation("a", C2C, "b", ConvChange(clear_history=True))
    assert cleared is not None
    assert (cleared.deleted, cleared.last_msg, cleared.unread) == (False, None, 0)
    assert await store.messages.history("a", C2C, "b", 0, 10) == []


async def test_deletion_skips_excluded_messages_and_catch_up_honours_it(store: Store) -> None:
    for i in range(3):
        await store.messages.append(c2c("a", "b", f"m{i}"), 100)
    await store.messages.append(c2c("a", "b", "quiet", excluded_from_last=True), 100)
    await store.messages.append(c2c("a", "b", "m4"), 100)
    conv = await store.messages.delete_messages("b", C2C, "a", [5, 3, 5])
    assert conv is not None
    assert conv.last_msg is not None
    assert conv.last_msg.msg_id == "m1", "neither deleted nor excluded from the last message"
    assert [m.seq for m in await store.messages.messages_after("b", C2C, "a", 0, 10)] == [1, 2, 4]
    assert [m.seq for m in await store.messages.messages_after("a", C2C, "b", 3, 10)] == [4, 5]
    assert await store.messages.delete_messages("b", C2C, "nobody", [1]) is None
    everything = await store.messages.delete_messages("b", C2C, "a", [1, 2, 4])
    assert everything is not None
    assert (everything.last_msg, everything.deleted) == (None, False)


async def test_cleared_history_stays_hidden_from_catch_up(store: Store) -> None:
    for i in range(3):
        await store.messages.append(c2c("a", "b", f"m{i}"), 100)
    await store.convs.change_conversation("b", C2C, "a", ConvChange(clear_history=True))
    await store.messages.append(c2c("a", "b", "m3"), 100)
    assert [m.seq for m in await store.messages.messages_after("b", C2C, "a", 0, 10)] == [4]
    assert [m.seq for m in await store.messages.history("b", C2C, "a", 0, 10)] == [4]
    (conv,) = await store.convs.get_conversations("b", [(C2C, "a")])
    assert conv.last_msg is not None
    assert (conv.last_msg.seq, conv.unread) == (4, 1)


async def test_deleting_with_keep_history_leaves_the_messages_readable(store: Store) -> None:
    for i in range(2):
        await store.messages.append(c2c("a", "b", f"m{i}"), 100)
    await store.messages.append(c2c("b", "a", "r"), 100)
    kept = await store.convs.change_conversation(
        "b", C2C, "a", ConvChange(delete=True, keep_history=True)
    )
    assert kept is not None
    assert (kept.deleted, kept.unread) == (True, 0)
    assert [m.seq for m in await store.messages.history("b", C2C, "a", 0, 10)] == [3, 2, 1]
    dropped = await store.convs.change_conversation("a", C2C, "b", ConvChange(delete=True))
    assert dropped is not None
    assert await store.messages.history("a", C2C, "b", 0, 10) == []
    await store.messages.append(c2c("b", "a", "back"), 100)
    (b_side,) = await store.convs.get_conversations("b", [(C2C, "a")])
    assert not b_side.deleted
    assert [m.seq for m in await store.messages.history("b", C2C, "a", 0, 10)] == [4, 3, 2, 1]
    assert [m.seq for m in await store.messages.history("a", C2C, "b", 0, 10)] == [4]


async def test_joining_again_starts_the_history_at_the_join(store: Store) -> None:
    await make_group(store, ["owner", "me"])
    await store.messages.append(group_msg("owner", "g", "before"), 100)
    await store.convs.change_conversation("me", GROUP, "g", ConvChange(clear_history=True))
    await store.groups.remove_members("g", ["me"], tip("g", "kick"), 100)
    await store.messages.append(group_msg("owner", "g", "while away"), 100)
    rejoined = await store.groups.add_members("g", {"me": 200}, tip("g", "back"), 100)
    (conv,) = await store.convs.get_conversations("me", [(GROUP, "g")])
    assert (conv.ended, conv.deleted, conv.unread, conv.max_seq) == (
        False,
        False,
        0,
        rejoined.seq,
    )
    assert await store.messages.history("me", GROUP, "g", 0, 10) == []
    await store.messages.append(group_msg("owner", "g", "after"), 100)
    assert [m.msg_id for m in await store.messages.history("me", GROUP, "g", 0, 10)] == ["after"]
    assert [m.msg_id for m in await store.messages.messages_after("me", GROUP, "g", 0, 10)] == [
        "after"
    ]
