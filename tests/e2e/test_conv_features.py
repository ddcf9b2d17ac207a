"""The conversation API of issue 3 through the asyncio SDK, over a real server: marks, custom
data, conversation groups, filters and stable paging, unread by filter and subscriptions,
receive options, @-mentions, revoke, message deletion, clearing history, read receipts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from opentim.protocol import AT_ALL, AtType, ConvType, ErrorCode, Mark, RecvOpt
from opentim.sdk import (
    Client,
    ConvFilter,
    ConvGroupEvent,
    ConvGroupEventKind,
    Receipt,
    SdkError,
)
from opentim.server.app import Server
from opentim.server.config import Limits

from ..conftest import Login, server_config, sig
from ..helpers import conv, until

pytestmark = pytest.mark.e2e
C2C, GROUP = ConvType.C2C, ConvType.GROUP


async def chat(login: Login, me: str, peers: list[str]) -> Client:
    """``me`` logged in, with one C2C conversation per peer (each peer sent one message)."""
    client = await login(me)
    for peer in peers:
        other = await login(peer)
        await other.messages.send_text(C2C, me, f"hi from {peer}")
    await until(client, lambda: all(client.conversations.cached(C2C, p) for p in peers))
    return client


# --- marks and custom data ------------------------------------------------------------------
async def test_marks_are_flags_synced_to_every_device(login: Login) -> None:
    me = await chat(login, "me", ["p1", "p2"])
    tablet = await login("me", device_id="tablet")
    results = await me.conversations.mark([(C2C, "p1"), (C2C, "ghost")], Mark.STAR | 1 << 40, True)
    assert [r.code for r in results] == [0, ErrorCode.ERR_INVALID_CONVERSATION]
    assert conv(me, C2C, "p1").marks == Mark.STAR | 1 << 40
    await until(tablet, lambda: conv(tablet, C2C, "p1").marks == Mark.STAR | 1 << 40)

    # The Unread mark is a flag: it changes no count.
    total = me.conversations.total_unread()
    await me.conversations.mark([(C2C, "p2")], Mark.UNREAD, True)
    assert me.conversations.total_unread() == total
    await me.conversations.mark([(C2C, "p1")], Mark.STAR, False)
    assert conv(me, C2C, "p1").marks == 1 << 40

    with pytest.raises(SdkError) as bad:
        await me.conversations.mark([(C2C, "p1")], 1 << 8, True)
    assert bad.value.code == ErrorCode.ERR_INVALID_PARAMETERS


async def test_hidden_conversation_stays_out_of_the_list_until_a_new_message(
    login: Login,
) -> None:
    me = await chat(login, "me", ["p1", "p2"])
    await me.conversations.mark([(C2C, "p1")], Mark.HIDE, True)
    assert [c.conv_id for c in me.conversations.list()] == ["p2"]
    assert {c.conv_id for c in me.conversations.list(include_hidden=True)} == {"p1", "p2"}
    hidden_page, _, _ = me.conversations.page(ConvFilter(mark=Mark.HIDE))
    assert [c.conv_id for c in hidden_page] == ["p1"]
    p1 = await login("p1")
    await p1.messages.send_text(C2C, "me", "back again")
    await until(me, lambda: [c.conv_id for c in me.conversations.list()] == ["p1", "p2"])
    assert not conv(me, C2C, "p1").marks & Mark.HIDE
    # A device that syncs afterwards agrees.
    laptop = await login("me", device_id="laptop")
    assert [c.conv_id for c in laptop.conversations.list()] == ["p1", "p2"]


async def test_custom_data_is_per_user_synced_and_limited(login: Login) -> None:
    me = await chat(login, "me", ["p1"])
    phone = await login("me", device_id="phone")
    results = await me.conversations.set_custom_data([(C2C, "p1")], "x" * 256)
    assert [r.code for r in results] == [0]
    await until(phone, lambda: conv(phone, C2C, "p1").custom_data == "x" * 256)
    p1 = await login("p1")
    assert conv(p1, C2C, "me").custom_data == "", "custom data is the user's own"
    with pytest.raises(SdkError) as over:
        await me.conversations.set_custom_data([(C2C, "p1")], "y" * 257)
    assert over.value.code == ErrorCode.ERR_INVALID_PARAMETERS
    assert conv(me, C2C, "p1").custom_data == "x" * 256


async def test_batch_calls_refuse_over_100_ids_and_change_nothing(login: Login) -> None:
    me = await chat(login, "me", ["p1"])
    keys = [(C2C, "p1")] + [(C2C, f"u{i}") for i in range(100)]
    for call in (
        me.conversations.mark(keys, Mark.STAR, True),
        me.conversations.set_custom_data(keys, "d"),
        me.conversations.create_group("g", keys),
    ):
        with pytest.raises(SdkError) as over:
            await call
        assert over.value.code == ErrorCode.ERR_SVR_CONV_CONV_MARK_REQ_COUNT_EXCEED_LIMIT
    assert conv(me, C2C, "p1").marks == 0
    assert me.conversations.group_names() == []


async def test_delete_list_keeps_or_clears_history(login: Login) -> None:
    me = await chat(login, "me", ["p1", "p2"])
    results = await me.conversations.delete_many([(C2C, "p1"), (C2C, "zz")], clear_messages=False)
    assert [r.code for r in results] == [0, ErrorCode.ERR_INVALID_CONVERSATION]
    await me.conversations.delete_many([(C2C, "p2")], clear_messages=True)
    assert me.conversations.list() == []
    p1, p2 = await login("p1"), await login("p2")
    await p1.messages.send_text(C2C, "me", "again")
    await p2.messages.send_text(C2C, "me", "again")
    await until(me, lambda: len(me.conversations.list()) == 2)
    assert len(await me.messages.history(C2C, "p1")) == 2, "history kept"
    assert len(await me.messages.history(C2C, "p2")) == 1, "history cleared"


# --- conversation groups --------------------------------------------------------------------
async def test_conversation_groups_with_events_on_a_second_device(login: Login) -> None:
    me = await chat(login, "me", ["p1", "p2", "p3"])
    tablet = await login("me", device_id="tablet")
    seen: list[ConvGroupEvent] = []
    tablet.events.conv_groups.add(seen.append)

    results = await me.conversations.create_group("work", [(C2C, "p1"), (C2C, "p2")])
    assert [r.code for r in results] == [0, 0]
    assert me.conversations.group_names() == ["work"]
    assert conv(me, C2C, "p1").groups == ["work"]
    await me.conversations.add_to_group("work", [(C2C, "p3")])
    await me.conversations.remove_from_group("work", [(C2C, "p1")])
    await me.conversations.rename_group("work", "job")
    assert conv(me, C2C, "p2").groups == ["job"]
    await until(tablet, lambda: len(seen) == 4)
    assert [(e.kind, e.name) for e in seen] == [
        (ConvGroupEventKind.CREATED, "work"),
        (ConvGroupEventKind.ADDED, "work"),
        (ConvGroupEventKind.REMOVED, "work"),
        (ConvGroupEventKind.RENAMED, "work"),
    ]
    assert [c.conv_id for c in seen[0].convs] == ["p1", "p2"]
    assert seen[3].new_name == "job"
    assert tablet.conversations.group_names() == ["job"]
    assert conv(tablet, C2C, "p3").groups == ["job"]
    page, _, _ = tablet.conversations.page(ConvFilter(group="job"))
    assert {c.conv_id for c in page} == {"p2", "p3"}
    page, _, _ = tablet.conversations.page(ConvFilter(group=""))
    assert [c.conv_id for c in page] == ["p1"]

    await me.conversations.delete_group("job")
    await until(tablet, lambda: tablet.conversations.group_names() == [])
    assert seen[-1].kind == ConvGroupEventKind.DELETED
    assert conv(tablet, C2C, "p2").groups == []
    # A device that logs in later has the same state.
    laptop = await login("me", device_id="laptop")
    assert laptop.conversations.group_names() == []


async def test_conversation_group_limits(tmp_path: Path) -> None:
    limits = Limits(conv_groups=2, convs_per_group=2)
    server = Server(server_config(tmp_path / "data", limits=limits))
    await server.start()
    clients: list[Client] = []
    try:

        async def login(user: str) -> Client:
            c = Client(server.url)
            clients.append(c)
            await c.login(user, sig(user))
            await c.wait_synced()
            return c

        me = await login("me")
        for p in ("p1", "p2", "p3"):
            await (await login(p)).messages.send_text(C2C, "me", "hi")
        await until(me, lambda: len(me.conversations.list()) == 3)
        seen: list[ConvGroupEvent] = []
        me.events.conv_groups.add(seen.append)
        cases = [
            (me.conversations.create_group("x" * 33, [(C2C, "p1")]), 51011),
            (me.conversations.add_to_group("nope", [(C2C, "p1")]), 51009),
            (me.conversations.rename_group("nope", "b"), 51009),
            (me.conversations.delete_group("nope"), 51009),
            (me.conversations.remove_from_group("nope", [(C2C, "p1")]), 51009),
        ]
        for call, code in cases:
            with pytest.raises(SdkError) as refused:
                await call
            assert refused.value.code == code
        await me.conversations.create_group("a", [(C2C, "p1"), (C2C, "p2")])
        await me.conversations.create_group("b", [(C2C, "p1")])
        with pytest.raises(SdkError) as third:
            await me.conversations.create_group("c", [(C2C, "p1")])
        assert third.value.code == ErrorCode.ERR_SVR_CONV_CONV_GROUP_TOTAL_COUNT_EXCEED_LIMIT
        assert me.conversations.group_names() == ["a", "b"]
        # "a" is full: adding p3 evicts p1, the earliest added, with reason 1.
        await me.conversations.add_to_group("a", [(C2C, "p3")])
        assert seen[-1].kind == ConvGroupEventKind.REMOVED
        assert seen[-1].reason == 1
        assert [c.conv_id for c in seen[-1].convs] == ["p1"]
        assert conv(me, C2C, "p1").groups == ["b"]
        assert conv(me, C2C, "p3").groups == ["a"]
    finally:
        for c in clients:
            await c.close()
        await server.stop()


# --- filters, paging, unread by filter ------------------------------------------------------
async def test_filters_combine(login: Login) -> None:
    me = await chat(login, "me", ["p1", "p2", "p3"])
    owner = await login("owner")
    await owner.groups.create("g1", group_id="g1", members=["me"])
    await owner.messages.send_text(GROUP, "g1", "hey")
    await until(me, lambda: conv(me, GROUP, "g1").unread == 1)
    await me.conversations.mark([(C2C, "p1"), (GROUP, "g1")], Mark.STAR, True)
    await me.conversations.mark_read(C2C, "p2")
    await me.conversations.create_group("fav", [(C2C, "p1"), (C2C, "p2")])

    def ids(f: ConvFilter) -> set[str]:
        return {c.conv_id for c in me.conversations.page(f, 0, 100)[0]}

    assert ids(ConvFilter()) == {"p1", "p2", "p3", "g1"}
    assert ids(ConvFilter(conv_type=C2C)) == {"p1", "p2", "p3"}
    assert ids(ConvFilter(conv_type=GROUP, mark=Mark.STAR)) == {"g1"}
    assert ids(ConvFilter(mark=0)) == {"p2", "p3"}
    assert ids(ConvFilter(group="fav", has_unread=True)) == {"p1"}
    assert ids(ConvFilter(group="fav", mark=Mark.STAR, has_unread=False)) == set()
    assert ids(ConvFilter(has_unread=False)) == {"p2"}
    assert ids(ConvFilter(conv_type=C2C, group="")) == {"p3"}
    assert me.conversations.unread_total(ConvFilter(conv_type=C2C)) == 2
    assert me.conversations.unread_total(ConvFilter(mark=Mark.STAR)) == 2
    assert me.conversations.unread_total(ConvFilter(group="fav")) == 1
    assert me.conversations.unread_total() == me.conversations.total_unread() == 3


async def test_paging_1000_conversations_while_messages_arrive(server: Server) -> None:
    n = 1000
    peers = [f"peer{i:04d}" for i in range(n)]
    await asyncio.gather(*(server.store.users.ensure_user(p, True) for p in [*peers, "late"]))
    me = Client(server.url)
    await me.login("me", sig("me"))
    await me.wait_synced()
    try:
        sends = [me.messages.send_text(C2C, p, "hi") for p in peers]
        await asyncio.gather(*sends)
        assert len(me.conversations.list()) == n
        order_at_start = [c.conv_id for c in me.conversations.list()]

        seen: list[str] = []
        next_seq, finished = 0, False
        page_no = 0
        while not finished:
            page, next_seq, finished = me.conversations.page(ConvFilter(), next_seq, 100)
            seen += [c.conv_id for c in page]
            page_no += 1
            # Between pages, conversations move to the top: some already returned, some not
            # yet; and a new conversation appears.
            if not finished:
                await me.messages.send_text(C2C, order_at_start[page_no * 100 + 50], "moved")
                await me.messages.send_text(C2C, order_at_start[10], "moved again")
                if page_no == 3:
                    await me.messages.send_text(C2C, "late", "new")
        assert len(seen) == n, "no repeat"
        assert set(seen) == set(peers), "no skip"
        assert seen == order_at_start, "in the order the pass began with"
        assert me.conversations.list()[0].conv_id == order_at_start[10]
        with pytest.raises(SdkError) as stale:
            me.conversations.page(ConvFilter(), next_seq or 5 << 32, 100)
        assert stale.value.code == ErrorCode.ERR_INVALID_PARAMETERS
    finally:
        await me.close()


async def test_subscriptions_fire_once_per_change_of_their_total(login: Login) -> None:
    me = await chat(login, "me", ["p1", "p2"])
    await me.conversations.mark_read(C2C, "p1")
    await me.conversations.mark_read(C2C, "p2")
    await me.conversations.mark([(C2C, "p1")], Mark.STAR, True)
    fired: list[tuple[ConvFilter, int]] = []
    me.events.filter_unread.add(lambda f, t: fired.append((f, t)))
    starred, c2c = ConvFilter(mark=Mark.STAR), ConvFilter(conv_type=C2C)
    me.conversations.subscribe_unread(starred)
    me.conversations.subscribe_unread(c2c)
    p1, p2 = await login("p1"), await login("p2")
    await p2.messages.send_text(C2C, "me", "x")
    await until(me, lambda: len(fired) == 1)
    assert fired == [(c2c, 1)], "only the filter whose total changed"
    await p1.messages.send_text(C2C, "me", "y")
    await until(me, lambda: len(fired) == 3)
    assert sorted(fired[1:], key=lambda x: x[1]) == [(starred, 1), (c2c, 2)]
    await me.conversations.pin(C2C, "p2", True)  # changes no total
    await me.conversations.mark_read(C2C, "p1")
    assert fired[3:] == [(starred, 0), (c2c, 1)]
    assert me.conversations.unsubscribe_unread(starred)
    await p1.messages.send_text(C2C, "me", "z")
    await until(me, lambda: len(fired) == 6)
    assert fired[5] == (c2c, 2)


# --- receive options ------------------------------------------------------------------------
async def test_do_not_disturb_conversations_leave_the_totals(login: Login) -> None:
    me = await chat(login, "me", ["p1", "p2", "p3", "p4"])
    assert me.conversations.total_unread() == 4
    await me.messages.set_recv_opt(C2C, ["p1"], RecvOpt.NOT_RECEIVE)
    await me.messages.set_recv_opt(C2C, ["p2"], RecvOpt.NOT_NOTIFY)
    await me.messages.set_recv_opt(C2C, ["p3"], RecvOpt.NOT_NOTIFY_EXCEPT_AT)
    assert me.conversations.total_unread() == 1
    assert me.conversations.unread_total(ConvFilter(conv_type=C2C)) == 1
    assert conv(me, C2C, "p1").unread == 1, "the conversation still shows its own count"
    assert await me.messages.c2c_recv_opts(["p1", "p2", "p4", "stranger"]) == {
        "p1": 1,
        "p2": 2,
        "p4": 0,
        "stranger": 0,
    }
    # Set before any conversation exists, and seen by the next device.
    await login("quiet")
    await me.messages.set_recv_opt(C2C, ["quiet"], RecvOpt.NOT_NOTIFY)
    assert me.conversations.cached(C2C, "quiet") is None
    quiet = await login("quiet")
    await quiet.messages.send_text(C2C, "me", "shh")
    await until(me, lambda: me.conversations.cached(C2C, "quiet") is not None)
    assert conv(me, C2C, "quiet").recv_opt == RecvOpt.NOT_NOTIFY
    assert me.conversations.total_unread() == 1
    laptop = await login("me", device_id="laptop")
    assert laptop.conversations.total_unread() == 1

    owner = await login("owner")
    await owner.groups.create("g", group_id="g", members=["me"])
    await me.messages.set_recv_opt(GROUP, ["g"], RecvOpt.NOT_NOTIFY)
    await owner.messages.send_text(GROUP, "g", "hello")
    await until(me, lambda: conv(me, GROUP, "g").unread == 1)
    assert me.conversations.total_unread() == 1
    with pytest.raises(SdkError) as missing:
        await me.messages.set_recv_opt(GROUP, ["nogroup"], RecvOpt.NOT_NOTIFY)
    assert missing.value.code == ErrorCode.ERR_SVR_GROUP_NOT_FOUND


# --- @ mentions -----------------------------------------------------------------------------
async def test_group_mentions_until_read(login: Login) -> None:
    owner, me, other = await login("owner"), await login("me"), await login("other")
    await owner.groups.create("g", group_id="g", members=["me", "other"])
    send = owner.messages
    m1 = await send.send(GROUP, "g", send.new_message([{"elem_type": 0}], at_users=["me"]))
    m2 = await send.send(GROUP, "g", send.new_message([{"elem_type": 0}], at_users=[AT_ALL]))
    both = send.new_message([{"elem_type": 0}], at_users=[AT_ALL, "me"])
    m3 = await send.send(GROUP, "g", both)
    await until(me, lambda: len(conv(me, GROUP, "g").at_info) == 3)
    assert [(a.seq, a.at_type) for a in conv(me, GROUP, "g").at_info] == [
        (m1.seq, AtType.AT_ME),
        (m2.seq, AtType.AT_ALL),
        (m3.seq, AtType.AT_ALL_AT_ME),
    ]
    await until(other, lambda: len(conv(other, GROUP, "g").at_info) == 2)
    assert conv(owner, GROUP, "g").at_info == [], "not for the sender"
    page, _, _ = me.conversations.page(ConvFilter(has_at=True))
    assert [c.conv_id for c in page] == ["g"]
    # A second device, syncing from the server, computes the same.
    tablet = await login("me", device_id="tablet")
    assert conv(tablet, GROUP, "g").at_info == conv(me, GROUP, "g").at_info
    await me.conversations.mark_read(GROUP, "g", m2.seq)
    assert [a.seq for a in conv(me, GROUP, "g").at_info] == [m3.seq]
    await me.conversations.mark_read(GROUP, "g")
    assert conv(me, GROUP, "g").at_info == []
    await until(tablet, lambda: conv(tablet, GROUP, "g").at_info == [])


# --- revoke, delete, clear, receipts --------------------------------------------------------
async def test_revoke_keeps_counts_and_the_last_message_follows(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    revoked: list[str] = []
    bob.events.revoked.add(lambda msgs: revoked.extend(m.msg_id for m in msgs))
    sent = await alice.messages.send_text(C2C, "bob", "oops")
    await until(bob, lambda: conv(bob, C2C, "alice").unread == 1)
    done = await alice.messages.revoke(C2C, "bob", sent)
    assert done.revoker == "alice"
    assert done.elems == []
    await until(bob, lambda: revoked == [sent.msg_id])
    last = conv(bob, C2C, "alice").last_msg
    assert last is not None
    assert last.revoked
    assert conv(bob, C2C, "alice").unread == 1, "a revoked message stays counted"
    mine = conv(alice, C2C, "bob").last_msg
    assert mine is not None
    assert mine.revoked
    with pytest.raises(SdkError) as not_yours:
        await bob.messages.revoke(C2C, "alice", sent)
    assert not_yours.value.code == ErrorCode.ERR_SDK_INVALID_OPERATION
    history = await bob.messages.history(C2C, "alice")
    assert history[0].revoker == "alice"
    # A device that syncs later sees the revoked message as the last one.
    laptop = await login("bob", device_id="laptop")
    last = conv(laptop, C2C, "alice").last_msg
    assert last is not None
    assert last.revoked


async def test_group_admin_revokes_others_and_members_cannot(login: Login) -> None:
    owner, me, other = await login("owner"), await login("me"), await login("other")
    await owner.groups.create("g", group_id="g", members=["me", "other"])
    sent = await me.messages.send_text(GROUP, "g", "hello")
    with pytest.raises(SdkError) as denied:
        await other.messages.revoke(GROUP, "g", sent)
    assert denied.value.code == ErrorCode.ERR_SVR_GROUP_REVOKE_MSG_DENY
    await owner.messages.revoke(GROUP, "g", sent)
    await until(other, lambda: (m := conv(other, GROUP, "g").last_msg) is not None and m.revoked)


async def test_delete_messages_for_me_only_and_clear_history(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    first = await alice.messages.send_text(C2C, "bob", "one")
    second = await alice.messages.send_text(C2C, "bob", "two")
    phone = await login("bob", device_id="phone")
    await until(bob, lambda: conv(bob, C2C, "alice").max_seq == 2)
    await bob.messages.delete(C2C, "alice", [second], cloud=True)
    last = conv(bob, C2C, "alice").last_msg
    assert last is not None
    assert last.msg_id == first.msg_id, "the one before becomes the last"
    assert [m.seq for m in await bob.messages.history(C2C, "alice")] == [1]
    assert [m.seq for m in await phone.messages.history(C2C, "alice")] == [1]
    assert [m.seq for m in await alice.messages.history(C2C, "bob")] == [2, 1]
    await phone.messages.delete(C2C, "alice", [first], cloud=False)
    assert await phone.messages.history(C2C, "alice") == []
    assert [m.seq for m in await bob.messages.history(C2C, "alice")] == [1], "local only"

    await alice.conversations.clear_history(C2C, "bob")
    assert await alice.messages.history(C2C, "bob") == []
    assert conv(alice, C2C, "bob").last_msg is None
    assert [c.conv_id for c in alice.conversations.list()] == ["bob"], "still listed"


async def test_reading_a_c2c_conversation_sends_a_receipt(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    receipts: list[Receipt] = []
    alice.events.receipts.add(receipts.extend)
    sent = await alice.messages.send_text(C2C, "bob", "read me")
    await until(bob, lambda: conv(bob, C2C, "alice").unread == 1)
    await bob.conversations.mark_read(C2C, "alice")
    await until(alice, lambda: len(receipts) == 1)
    assert receipts[0].reader == "bob"
    assert receipts[0].seq == sent.seq
    assert receipts[0].msg_id == sent.msg_id


async def test_a_device_back_from_away_hears_of_groups_made_meanwhile(login: Login) -> None:
    me = await chat(login, "me", ["p1"])
    await me.conversations.create_group("old", [(C2C, "p1")])
    tablet = await login("me", device_id="tablet")
    seen: list[ConvGroupEvent] = []
    tablet.events.conv_groups.add(seen.append)
    assert tablet.conversations.group_names() == ["old"]
    assert seen == [], "the first sync only learns the list"
    await tablet.logout()
    await me.conversations.create_group("new", [(C2C, "p1")])
    await me.conversations.delete_group("old")
    await tablet.login("me", sig("me"))
    await tablet.wait_synced()
    assert tablet.conversations.group_names() == ["new"]
    assert sorted((e.kind, e.name) for e in seen) == [
        (ConvGroupEventKind.CREATED, "new"),
        (ConvGroupEventKind.DELETED, "old"),
    ]
    created = next(e for e in seen if e.kind == ConvGroupEventKind.CREATED)
    assert [c.conv_id for c in created.convs] == ["p1"]
