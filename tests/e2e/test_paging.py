"""Field limits and answers paged by bytes (issue 9, finding 1): no message or profile can make
an answer too big for the SDK, so none can stop another user's devices from syncing."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import msgspec
import pytest

from opentim.protocol import ConvType, Draft, ErrorCode, Mark, Profile, c2c_channel
from opentim.protocol.limits import (
    MAX_DRAFT_BYTES,
    MAX_ELEMS_BYTES,
    MAX_FRAME_BYTES,
    MAX_LOCATION_BYTES,
    MAX_MSG_BYTES,
    MAX_PROFILE_STRING_BYTES,
)
from opentim.protocol.ops import (
    ConvGetReq,
    ConvKey,
    ConvsRes,
    GroupJoinedReq,
    GroupListRes,
    HistoryReq,
    HistoryRes,
    OutMessage,
    ProfileGetReq,
    ProfilesRes,
    SendReq,
    SendRes,
    SyncReq,
    SyncRes,
)
from opentim.sdk import Client, NetworkStatus, SdkError, connection
from opentim.server.app import Server
from opentim.server.store.base import NewMessage

from ..conftest import FAST, Login, sig
from ..faults import Proxy
from ..helpers import until

pytestmark = pytest.mark.e2e
C2C = ConvType.C2C
ITEM_BYTES = 40_000
"""What docs/security.md says the largest stored item takes at most, limits in force."""
_encoder = msgspec.json.Encoder()


def biggest(client: Client, n: int = 0) -> OutMessage:
    """A message as large as the limits allow: 12 KB of elements, the rest of the 16 KB a
    message may take in ``cloud_custom_data``."""
    elem = {"elem_type": 0, "text_elem_content": ""}
    elem["text_elem_content"] = f"{n}:".ljust(MAX_ELEMS_BYTES - len(_encoder.encode([elem])), "x")
    msg = client.messages.new_message([elem], cloud_custom_data="y")
    room = MAX_MSG_BYTES - len(_encoder.encode(msg))
    out = msgspec.structs.replace(msg, cloud_custom_data="y" * (room + 1))
    assert len(_encoder.encode(out.elems)) == MAX_ELEMS_BYTES
    assert len(_encoder.encode(out)) == MAX_MSG_BYTES
    return out


async def biggest_profile(client: Client) -> None:
    """The sender's profile as large as the limits allow (it rides on every message)."""
    await client.set_profile(
        nick="n" * MAX_PROFILE_STRING_BYTES,
        face_url="f" * MAX_PROFILE_STRING_BYTES,
        self_signature="s" * MAX_PROFILE_STRING_BYTES,
        location="l" * MAX_LOCATION_BYTES,
    )


async def settled(client: Client) -> None:
    await client.wait_connected(10)
    await client.wait_synced(10)
    await client.engine.settle()


async def test_offline_user_receives_30_maximum_size_messages(
    login: Login, proxy: Proxy, tmp_path: Path
) -> None:
    alice = await login("alice")
    await biggest_profile(alice)
    bob = Client(proxy.url, device_id="b", data_dir=tmp_path, reconnect_delay=FAST)
    await bob.login("bob", sig("bob"))
    await settled(bob)
    got: list[str] = []
    bob.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
    try:
        proxy.go_down()
        await until(bob, lambda: not bob.connected)
        sent = [
            (await alice.messages.send(C2C, "bob", biggest(alice, i))).msg_id for i in range(30)
        ]
        proxy.restore()
        await settled(bob)
        assert got == sent, "every message once, in order, by catch-up"
        history = await bob.messages.history(C2C, "alice", count=30)
        assert [m.msg_id for m in history] == sent[::-1]
        assert history[0].sender_profile is not None
        assert history[0].sender_profile.nick == "n" * MAX_PROFILE_STRING_BYTES
    finally:
        await bob.close()


async def test_history_of_100_maximum_size_messages_comes_in_pages(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    await biggest_profile(alice)
    sent = [(await alice.messages.send(C2C, "bob", biggest(alice, i))) for i in range(100)]
    # One answer holds what fits in a frame, and says more follows.
    page = await bob.request(
        "history", HistoryReq(conv_type=C2C, conv_id="alice", count=100), HistoryRes
    )
    assert 0 < len(page.msgs) < 100
    assert page.more
    assert len(_encoder.encode(page)) < MAX_FRAME_BYTES
    # The app still gets the count it asked for.
    history = await bob.messages.history(C2C, "alice", count=100)
    assert [m.seq for m in history] == [m.seq for m in reversed(sent)]
    # The largest message the limits allow, with the largest sender profile, stays small.
    assert len(_encoder.encode(history[0])) < ITEM_BYTES
    older = await bob.messages.history(C2C, "alice", before_seq=sent[50].seq, count=100)
    assert [m.seq for m in older] == [m.seq for m in reversed(sent[:50])]


async def test_oversize_cloud_custom_data_is_refused_and_nothing_stored(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    small = alice.messages.new_message([{"elem_type": 0, "text_elem_content": "hi"}])
    for size in (261_800, MAX_MSG_BYTES):
        msg = msgspec.structs.replace(small, cloud_custom_data="y" * size)
        # The server refuses it (the frame itself is within the frame limit) …
        req = SendReq(conv_type=C2C, conv_id="bob", msg=msg)
        with pytest.raises(SdkError) as info:
            await alice.request("send", req, SendRes)
        assert info.value.code == ErrorCode.ERR_SDK_MSG_BODY_SIZE_LIMIT
        # … and the SDK before it goes to the outbox.
        with pytest.raises(SdkError) as info:
            await alice.messages.send(C2C, "bob", msg)
        assert info.value.code == ErrorCode.ERR_SDK_MSG_BODY_SIZE_LIMIT
    assert await alice.messages.history(C2C, "bob") == []
    assert await bob.messages.history(C2C, "alice") == []
    assert alice.conversations.list() == []
    await alice.messages.send(C2C, "bob", biggest(alice))
    assert len(await bob.messages.history(C2C, "alice")) == 1


async def test_oversize_profile_fields_are_refused(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    for field, size in (
        ("nick", 200_000),
        ("nick", MAX_PROFILE_STRING_BYTES + 1),
        ("face_url", MAX_PROFILE_STRING_BYTES + 1),
        ("self_signature", MAX_PROFILE_STRING_BYTES + 1),
        ("location", MAX_LOCATION_BYTES + 1),
    ):
        with pytest.raises(SdkError) as info:
            await alice.set_profile(**{field: "x" * size})
        assert info.value.code == ErrorCode.ERR_SVR_PROFILE_SIZE_LIMIT, field
    (profile,) = await bob.get_profiles(["alice"])
    assert profile.nick == ""
    assert profile.face_url == ""
    await biggest_profile(alice)
    await alice.messages.send_text(C2C, "bob", "hi")
    (msg,) = await bob.messages.history(C2C, "alice")
    assert msg.sender_profile is not None
    assert msg.sender_profile.nick == "n" * MAX_PROFILE_STRING_BYTES


async def test_oversize_group_fields_are_refused(login: Login) -> None:
    owner = await login("owner")
    for field, size, code in (
        ("face_url", 101, ErrorCode.ERR_SDK_GROUP_INVALID_FACE_URL),
        ("introduction", 241, ErrorCode.ERR_SDK_GROUP_INVALID_INTRODUCTION),
        ("notification", 301, ErrorCode.ERR_SDK_GROUP_INVALID_NOTIFICATION),
    ):
        with pytest.raises(SdkError) as info:
            await owner.groups.create("g", **{field: "x" * size})
        assert info.value.code == code, field
    assert await owner.groups.joined() == []


async def test_rows_stored_before_the_limits_are_still_delivered(
    login: Login, server: Server, proxy: Proxy, tmp_path: Path
) -> None:
    alice = await login("alice")
    bob = Client(proxy.url, device_id="b", data_dir=tmp_path, reconnect_delay=FAST)
    await bob.login("bob", sig("bob"))
    await settled(bob)
    got: list[str] = []
    bob.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
    try:
        proxy.go_down()
        await until(bob, lambda: not bob.connected)
        before = await alice.messages.send_text(C2C, "bob", "before")
        # What an earlier release accepted: a 250 KB cloud_custom_data, a 200 KB nick, both
        # written straight into the SQLite store, past today's checks.
        await server.store.users.update_profile("alice", {"nick": "N" * 200_000})
        legacy = await server.store.messages.append(
            NewMessage(
                channel_id=c2c_channel("alice", "bob"),
                conv_type=C2C,
                sender="alice",
                receiver="bob",
                msg_id="legacy-1",
                elems=[{"elem_type": 0, "text_elem_content": "old"}],
                cloud_custom_data="y" * 250_000,
                owners=((("alice", C2C, "bob")), ("bob", C2C, "alice")),
            ),
            int(time.time()),
        )
        after = await alice.messages.send(C2C, "bob", biggest(alice))
        proxy.restore()
        await settled(bob)
        assert got == [before.msg_id, "legacy-1", after.msg_id]
        history = await bob.messages.history(C2C, "alice", count=10)
        assert [m.msg_id for m in history] == [after.msg_id, "legacy-1", before.msg_id]
        assert history[1].cloud_custom_data == "y" * 250_000
        assert history[1].sender_profile is not None
        assert len(history[1].sender_profile.nick) == 200_000
        assert legacy.msg.seq == history[1].seq
    finally:
        await bob.close()


async def test_sync_and_conv_get_are_paged_by_bytes(login: Login) -> None:
    bob = await login("bob", device_id="b1")
    peers = [await login(f"peer{i}") for i in range(20)]
    for peer in peers:
        await biggest_profile(peer)
        await peer.messages.send(C2C, "bob", biggest(peer))
    draft = Draft(user_define="d" * (MAX_DRAFT_BYTES - 200))
    for peer in peers:
        await bob.conversations.set_draft(C2C, peer.user_id, draft)
    # A fresh device: its full pass comes in pages that each fit in a frame.
    page = await bob.request("conv_sync", SyncReq(), SyncRes)
    assert 0 < len(page.convs) < 20
    assert page.more
    assert len(_encoder.encode(page)) < MAX_FRAME_BYTES
    fresh = await login("bob", device_id="b2")
    listed = {c.conv_id for c in fresh.conversations.list()}
    assert listed == {p.user_id for p in peers}
    assert all(c.draft is not None for c in fresh.conversations.list())
    assert max(len(_encoder.encode(c)) for c in fresh.conversations.list()) < ITEM_BYTES
    # conv_get answers what fits and names the keys left to ask for; the SDK asks for them.
    keys = [ConvKey(conv_type=C2C, conv_id=p.user_id) for p in peers]
    res = await bob.request("conv_get", ConvGetReq(keys=keys), ConvsRes)
    assert 0 < len(res.convs) < 20
    assert len(res.convs) + len(res.left) == 20
    assert len(_encoder.encode(res)) < MAX_FRAME_BYTES
    other = await login("bob", device_id="b3")
    other.conversations._convs.clear()
    got = await other.conversations.get([(C2C, p.user_id) for p in peers])
    assert [c.conv_id for c in got] == [p.user_id for p in peers]


def legacy_sql(server: Server, sql: str, *args: object) -> None:
    """Write a row as an earlier release could have, straight into the server's SQLite file."""
    conn = sqlite3.connect(server.config.db_path)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute(sql, args)
        conn.commit()
    finally:
        conn.close()


async def test_group_and_profile_lists_are_paged_by_bytes(login: Login, server: Server) -> None:
    owner, bob = await login("owner"), await login("bob")
    gids = [await owner.groups.create(f"g{i}", group_id=f"g{i}") for i in range(4)]
    for gid in gids:
        legacy_sql(
            server, "UPDATE groups SET introduction = ? WHERE group_id = ?", "i" * 100_000, gid
        )
    page = await owner.request("group_joined", GroupJoinedReq(), GroupListRes)
    assert 0 < len(page.groups) < 4
    assert page.more
    assert len(_encoder.encode(page)) < MAX_FRAME_BYTES
    joined = await owner.groups.joined()
    assert [g.group_id for g in joined] == gids
    assert all(len(g.introduction) == 100_000 for g in joined)
    users = [f"u{i}" for i in range(4)]
    for user in users:
        await (await login(user)).close()
        legacy_sql(
            server,
            "UPDATE users SET profile = ? WHERE user_id = ?",
            _encoder.encode(Profile(user_id=user, nick="n" * 100_000)).decode(),
            user,
        )
    res = await bob.request("profile_get", ProfileGetReq(user_ids=users), ProfilesRes)
    assert 0 < len(res.profiles) < 4
    assert len(res.profiles) + len(res.left) == 4
    profiles = await bob.get_profiles(users)
    assert [p.user_id for p in profiles] == users
    assert all(len(p.nick) == 100_000 for p in profiles)


async def test_batch_answers_and_pushes_of_many_large_conversations(
    login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Devices that accept no frame over the client frame limit: any bigger push or answer
    # would cost them their connection.
    monkeypatch.setattr(connection, "MAX_SERVER_FRAME_BYTES", MAX_FRAME_BYTES)
    bob = await login("bob", device_id="b1")
    other = await login("bob", device_id="b2")
    lost: list[int] = []
    for device in (bob, other):
        device.events.network.add(
            lambda status, code, desc: (
                lost.append(code) if status == NetworkStatus.DISCONNECTED else None
            )
        )
    peers = [await login(f"peer{i}") for i in range(20)]
    for peer in peers:
        await peer.messages.send(C2C, "bob", biggest(peer))
    draft = Draft(user_define="d" * (MAX_DRAFT_BYTES - 200))
    for peer in peers:
        await bob.conversations.set_draft(C2C, peer.user_id, draft)
    pushes: list[int] = []
    other.events.conversations.add(lambda kind, convs: pushes.append(len(convs)))
    keys = [(C2C, p.user_id) for p in peers]
    results = await bob.conversations.mark(keys, Mark.STAR, True)
    assert all(r.code == 0 for r in results)

    def all_starred(client: Client) -> bool:
        return all(c.marks & Mark.STAR for c in client.conversations.list())

    # The answer carried what fit and said more: the device synced for the rest; the other
    # device got every change, in several pushes.
    await until(bob, lambda: all_starred(bob))
    await until(other, lambda: all_starred(other))
    assert len(pushes) > 1
    assert lost == []
