"""Modifying messages end to end over real sockets: every device of both C2C users and every
group member is told, the last message follows, a device that was away gets the modified
version by sync and history, concurrent edits from one version leave one winner (8006 for the
others), and outsiders are refused."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from opentim.protocol import ConvType, ErrorCode, Message
from opentim.protocol.limits import MAX_MSG_BYTES
from opentim.sdk import SdkError

from ..conftest import Login
from ..helpers import conv, until

pytestmark = pytest.mark.e2e
C2C, GROUP = ConvType.C2C, ConvType.GROUP


def edited(msg: Message, text: str, data: str = "") -> Message:
    return msgspec.structs.replace(
        msg, elems=[{"elem_type": 0, "text_elem_content": text}], cloud_custom_data=data
    )


def updates(client: object) -> list[Message]:
    got: list[Message] = []
    client.events.updated.add(got.extend)  # type: ignore[attr-defined]
    return got


async def test_c2c_modify_reaches_every_device_and_a_device_that_was_away(login: Login) -> None:
    alice, bob = await login("alice", device_id="a1"), await login("bob", device_id="b1")
    alice2 = await login("alice", device_id="a2")
    seen = {c: updates(c) for c in (alice2, bob)}
    sent = await alice.messages.send_text(C2C, "bob", "helo")
    await until(bob, lambda: conv(bob, C2C, "alice").max_seq == sent.seq)
    done = await alice.messages.modify(C2C, "bob", edited(sent, "hello", "reply-to:1"))
    assert (done.text, done.cloud_custom_data, done.version, done.seq) == (
        "hello",
        "reply-to:1",
        1,
        sent.seq,
    )
    for client, got in seen.items():
        await until(client, lambda got=got: bool(got))  # type: ignore[misc]
        assert [(m.msg_id, m.text) for m in got] == [(sent.msg_id, "hello")]
        last = conv(client, C2C, "alice" if client is bob else "bob").last_msg
        assert last is not None
        assert last.text == "hello"
    assert conv(bob, C2C, "alice").unread == 1
    away = await login("bob", device_id="b2")
    last = conv(away, C2C, "alice").last_msg
    assert last is not None
    assert (last.text, last.version) == ("hello", 1)
    (history,) = await away.messages.history(C2C, "alice", count=5)
    assert (history.text, history.cloud_custom_data) == ("hello", "reply-to:1")


async def test_concurrent_group_edits_from_one_version_leave_one_winner(login: Login) -> None:
    owner, bob, carol = await login("owner"), await login("bob"), await login("carol")
    await owner.groups.create("team", group_id="team", members=["bob", "carol"])
    sent = await owner.messages.send_text(GROUP, "team", "agenda")
    await until(bob, lambda: conv(bob, GROUP, "team").max_seq == sent.seq)
    await until(carol, lambda: conv(carol, GROUP, "team").max_seq == sent.seq)
    owner_seen = updates(owner)
    results = await asyncio.gather(
        bob.messages.modify(GROUP, "team", edited(sent, "bob's")),
        carol.messages.modify(GROUP, "team", edited(sent, "carol's")),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Message)]
    losers = [r for r in results if isinstance(r, SdkError)]
    assert len(winners) == 1
    assert [e.code for e in losers] == [ErrorCode.ERR_SDK_MSG_MODIFY_CONFLICT]
    await until(owner, lambda: bool(owner_seen))
    assert [m.text for m in owner_seen] == [winners[0].text]
    assert conv(owner, GROUP, "team").last_msg.text == winners[0].text  # type: ignore[union-attr]


async def test_outsiders_and_unmodifiable_messages_are_refused(login: Login) -> None:
    alice, bob, eve = await login("alice"), await login("bob"), await login("eve")
    sent = await alice.messages.send_text(C2C, "bob", "private")
    with pytest.raises(SdkError) as stranger:
        await eve.messages.modify(C2C, "bob", edited(sent, "defaced"))
    assert stranger.value.code == ErrorCode.ERR_SVR_MSG_INVALID_ID
    image = msgspec.structs.replace(sent, elems=[{"elem_type": 1, "image_elem_orig_path": "x"}])
    with pytest.raises(SdkError) as kind:
        await alice.messages.modify(C2C, "bob", image)
    assert kind.value.code == ErrorCode.ERR_INVALID_MSG_ELEM
    huge = edited(sent, "x", data="d" * MAX_MSG_BYTES)
    with pytest.raises(SdkError) as size:
        await alice.messages.modify(C2C, "bob", huge)
    assert size.value.code == ErrorCode.ERR_SDK_MSG_BODY_SIZE_LIMIT
    await alice.messages.revoke(C2C, "bob", sent)

    with pytest.raises(SdkError) as revoked:
        await bob.messages.modify(C2C, "alice", edited(sent, "too late"))
    assert revoked.value.code == ErrorCode.ERR_SVR_MSG_INVALID_ID
    (history,) = await bob.messages.history(C2C, "alice", count=5)
    assert (history.elems, history.version) == ([], 0)
