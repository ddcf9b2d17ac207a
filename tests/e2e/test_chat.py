"""C2C and group chat end to end: delivery, unread, order, multi-device state, restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from opentim.protocol import PINNED_BIT, ConvType, Draft, ErrorCode
from opentim.sdk import Client, ConvEvent, SdkError
from opentim.server.app import Server

from ..conftest import Login, server_config, sig
from ..helpers import conv, ids, until

pytestmark = pytest.mark.e2e
C2C, GROUP = ConvType.C2C, ConvType.GROUP


async def test_c2c_message_reaches_peer_and_counts_unread_only_there(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    got: list[str] = []
    bob.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
    sent = [await alice.messages.send_text(C2C, "bob", f"m{i}") for i in range(4)]
    await until(bob, lambda: bob.conversations.total_unread() == 4)
    assert got == [m.msg_id for m in sent]
    assert [m.seq for m in sent] == [1, 2, 3, 4]
    assert conv(bob, C2C, "alice").unread == 4
    assert conv(alice, C2C, "bob").unread == 0
    assert alice.conversations.total_unread() == 0
    last = conv(bob, C2C, "alice").last_msg
    assert last is not None
    assert last.msg_id == sent[-1].msg_id
    await bob.conversations.mark_read(C2C, "alice")
    assert bob.conversations.total_unread() == 0


async def test_unread_across_c2c_and_groups_and_own_messages_never_count(login: Login) -> None:
    alice, bob, carol = await login("alice"), await login("bob"), await login("carol")
    await alice.groups.create("team", group_id="team", members=["bob", "carol"])
    await alice.messages.send_text(GROUP, "team", "hello team")
    await carol.messages.send_text(GROUP, "team", "hi from carol")
    await alice.messages.send_text(C2C, "bob", "psst")
    await until(bob, lambda: bob.conversations.total_unread() == 3)
    assert conv(bob, GROUP, "team").unread == 2
    assert conv(alice, GROUP, "team").unread == 1
    assert conv(carol, GROUP, "team").unread == 0  # replying reads what came before
    await bob.messages.send_text(GROUP, "team", "reply")
    assert conv(bob, GROUP, "team").unread == 0
    assert bob.conversations.total_unread() == 1


async def test_list_is_ordered_by_activity_with_pinned_first(login: Login) -> None:
    me = await login("me")
    for peer in ("p1", "p2", "p3"):
        await login(peer)
    for peer in ("p1", "p2", "p3"):
        await me.messages.send_text(C2C, peer, "hi")
    assert ids(me) == ["p3", "p2", "p1"]
    pinned = await me.conversations.pin(C2C, "p1", True)
    assert pinned.order_key & PINNED_BIT
    assert ids(me) == ["p1", "p3", "p2"]
    await me.conversations.set_draft(C2C, "p2", Draft(user_define="later"))
    assert ids(me) == ["p1", "p2", "p3"]
    await me.conversations.pin(C2C, "p1", False)  # keeps the bump pinning gave it
    assert ids(me) == ["p2", "p1", "p3"]
    await me.messages.send_text(C2C, "p3", "newest")
    assert ids(me) == ["p3", "p2", "p1"]
    keys = [c.order_key for c in me.conversations.list()]
    assert keys == sorted(keys, reverse=True)
    assert len(set(keys)) == 3


async def test_two_devices_of_one_user_share_pins_drafts_and_read_state(login: Login) -> None:
    alice = await login("alice")
    phone = await login("bob", device_id="phone")
    laptop = await login("bob", device_id="laptop")
    for i in range(3):
        await alice.messages.send_text(C2C, "bob", f"m{i}")
    await until(laptop, lambda: laptop.conversations.total_unread() == 3)
    await until(phone, lambda: phone.conversations.total_unread() == 3)
    await phone.conversations.pin(C2C, "alice", True)
    await phone.conversations.set_draft(C2C, "alice", Draft(user_define="draft from phone"))
    await phone.conversations.mark_read(C2C, "alice")

    def laptop_agrees() -> bool:
        c = laptop.conversations.cached(C2C, "alice")
        return (
            c is not None
            and c.pinned
            and c.draft is not None
            and c.draft.user_define == "draft from phone"
            and c.unread == 0
        )

    await until(laptop, laptop_agrees)
    assert laptop.conversations.total_unread() == 0
    # Sending from one device marks the conversation read on the other.
    await alice.messages.send_text(C2C, "bob", "again")
    await until(laptop, lambda: laptop.conversations.total_unread() == 1)
    await laptop.messages.send_text(C2C, "alice", "answer")
    await until(
        phone,
        lambda: conv(phone, C2C, "alice").unread == 0 and phone.conversations.total_unread() == 0,
    )


async def test_delete_removes_for_all_my_devices_and_peer_keeps_theirs(login: Login) -> None:
    alice = await login("alice")
    bob1, bob2 = await login("bob", device_id="1"), await login("bob", device_id="2")
    await alice.messages.send_text(C2C, "bob", "old")
    await until(bob2, lambda: "alice" in ids(bob2))
    deleted: list[str] = []
    bob2.events.conversations.add(
        lambda kind, convs: (
            deleted.extend(c.conv_id for c in convs) if kind is ConvEvent.DELETED else None
        )
    )
    await bob1.conversations.delete(C2C, "alice")
    assert "alice" not in ids(bob1)
    await until(bob2, lambda: deleted == ["alice"])
    assert "alice" not in ids(bob2)
    assert await bob1.messages.history(C2C, "alice") == []
    assert len(await alice.messages.history(C2C, "bob")) == 1
    await alice.messages.send_text(C2C, "bob", "new")
    await until(bob2, lambda: "alice" in ids(bob2))
    assert conv(bob2, C2C, "alice").unread == 1
    assert [m.elems[0]["text_elem_content"] for m in await bob2.messages.history(C2C, "alice")] == [
        "new"
    ]


async def test_create_conversation_is_server_state(login: Login) -> None:
    alice = await login("alice", device_id="a1")
    await login("bob")
    other = await login("alice", device_id="a2")
    created = await alice.conversations.create(C2C, "bob")
    assert created.conv_id == "bob"
    assert created.last_msg is None
    await until(other, lambda: "bob" in ids(other))
    again = await alice.conversations.create(C2C, "bob")
    assert again.activity == created.activity
    with pytest.raises(SdkError) as info:
        await alice.conversations.create(C2C, "nobody")
    assert info.value.code == ErrorCode.ERR_INVALID_MSG_RECEIVER
    with pytest.raises(SdkError) as info:
        await alice.conversations.pin(C2C, "never-talked", True)
    assert info.value.code == ErrorCode.ERR_INVALID_CONVERSATION


async def test_bad_messages_are_refused_and_nothing_is_stored(login: Login) -> None:
    alice = await login("alice")
    await login("bob")
    big = alice.messages.new_message([{"elem_type": 0, "text_elem_content": "x" * 13_000}])
    with pytest.raises(SdkError) as info:
        await alice.messages.send(C2C, "bob", big)
    assert info.value.code == ErrorCode.ERR_SDK_MSG_BODY_SIZE_LIMIT
    with pytest.raises(SdkError) as info:
        await alice.messages.send_text(C2C, "ghost", "hi")
    assert info.value.code == ErrorCode.ERR_INVALID_MSG_RECEIVER
    tips = alice.messages.new_message([{"elem_type": 5}])
    with pytest.raises(SdkError) as info:
        await alice.messages.send(C2C, "bob", tips)
    assert info.value.code == ErrorCode.ERR_INVALID_MSG_ELEM
    assert alice.conversations.list() == []
    assert await alice.messages.history(C2C, "bob") == []


async def test_resending_a_message_is_idempotent(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    msg = alice.messages.new_message([{"elem_type": 0, "text_elem_content": "once"}])
    first = await alice.messages.send(C2C, "bob", msg)
    second = await alice.messages.send(C2C, "bob", msg)
    assert (first.seq, first.msg_id) == (second.seq, second.msg_id)
    await until(bob, lambda: bob.conversations.total_unread() == 1)
    assert len(await bob.messages.history(C2C, "alice")) == 1


async def test_restart_loses_nothing_acknowledged(tmp_path: Path) -> None:
    srv = Server(server_config(tmp_path))
    await srv.start()
    alice = Client(srv.url)
    await alice.login("alice", sig("alice"))
    bob = Client(srv.url)
    await bob.login("bob", sig("bob"))
    await alice.groups.create("g", group_id="g", members=["bob"])
    acked = [await alice.messages.send_text(C2C, "bob", f"m{i}") for i in range(20)]
    acked += [await alice.messages.send_text(GROUP, "g", f"g{i}") for i in range(5)]
    await alice.conversations.pin(C2C, "bob", True)
    await alice.close()
    await bob.close()
    await srv.stop()

    srv = Server(server_config(tmp_path))
    await srv.start()
    try:
        bob = Client(srv.url)
        await bob.login("bob", sig("bob"))
        await bob.wait_synced()
        assert bob.conversations.total_unread() == 25
        c2c = await bob.messages.history(C2C, "alice", count=100)
        group = await bob.messages.history(GROUP, "g", count=100)
        assert {m.msg_id for m in acked} <= {m.msg_id for m in c2c + group}
        alice = Client(srv.url)
        await alice.login("alice", sig("alice"))
        await alice.wait_synced()
        assert conv(alice, C2C, "bob").pinned
        await bob.close()
        await alice.close()
    finally:
        await srv.stop()
