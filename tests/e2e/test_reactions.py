"""Message reactions end to end over real sockets (issue 12): every device of the conversation's
members hears of a change, reads show the order and the caller's own, limits and refusals carry
Tencent's codes, and outsiders get nothing."""

from __future__ import annotations

import pytest

from opentim.protocol import ConvType, ErrorCode, GroupType
from opentim.protocol.reactions import ReactionPush
from opentim.protocol.rules.reactions import MAX_REACTIONS_PER_MSG
from opentim.sdk import Client

from ..conftest import Login
from ..helpers import Heard, code

pytestmark = pytest.mark.e2e
C2C, GROUP = ConvType.C2C, ConvType.GROUP


def heard(client: Client) -> Heard[tuple[str, ReactionPush]]:
    return Heard(client.events.reactions)


async def test_c2c_reaction_reaches_every_device_of_both_users(login: Login) -> None:
    alice, alice_pc = await login("alice", device_id="phone"), await login("alice", device_id="pc")
    bob = await login("bob")
    on_pc, on_bob = heard(alice_pc), heard(bob)
    msg = await alice.messages.send_text(C2C, "bob", "hello")
    await bob.reactions.add(C2C, "alice", msg, "like")
    [(conv, push)] = await on_pc.wait(1)
    assert (conv, push.seq, push.msg_id, push.user_id) == ("bob", msg.seq, msg.msg_id, "bob")
    assert (push.reaction.reaction_id, push.reaction.total, push.reaction.users) == (
        "like",
        1,
        ["bob"],
    )
    await alice.reactions.add(C2C, "bob", msg, "like")
    # The device that made a change has the answer; it is not pushed to it again.
    [(conv, push)] = await on_bob.wait(1)
    assert conv == "alice"
    assert push.reaction.users == ["bob", "alice"]
    [mine] = await alice.reactions.get(C2C, "bob", [msg])
    [like] = mine.reactions
    assert (like.total, like.users, like.by_me) == (2, ["bob", "alice"], True)
    await bob.reactions.remove(C2C, "alice", msg, "like")
    [*_, (_, push)] = await on_pc.wait(3)
    assert (push.reaction.total, push.reaction.users) == (1, ["alice"])
    assert await code(bob.reactions.remove(C2C, "alice", msg, "like")) == (
        ErrorCode.ERR_SVR_MSG_REACTION_NOT_CONTAIN_USER
    )
    assert await code(alice.reactions.add(C2C, "bob", msg, "like")) == (
        ErrorCode.ERR_SVR_MSG_REACTION_ALREADY_CONTAIN_USER
    )
    # A stranger names the message from their own side: there is none there.
    carol = await login("carol")
    assert await code(carol.reactions.add(C2C, "bob", msg, "x")) == ErrorCode.ERR_SVR_MSG_INVALID_ID


async def test_group_members_hear_and_page_and_outsiders_are_refused(login: Login) -> None:
    owner, m1, m2 = await login("owner"), await login("m1"), await login("m2")
    outsider = await login("outsider")
    gid = await owner.groups.create("g", GroupType.PRIVATE, members=["m1", "m2"])
    on_m2 = heard(m2)
    msg = await owner.messages.send_text(GROUP, gid, "vote")
    for user in (owner, m1, m2):
        await user.reactions.add(GROUP, gid, msg, "yes")
    pushes = await on_m2.wait(2)  # m2's own change is its answer
    assert all(conv == gid for conv, _ in pushes)
    assert pushes[-1][1].reaction.users == ["owner", "m1"]
    page, nxt = await m1.reactions.users(GROUP, gid, msg, "yes", 0, 2)
    assert (page, nxt) == (["owner", "m1"], 2)
    page, nxt = await m1.reactions.users(GROUP, gid, msg, "yes", nxt, 2)
    assert (page, nxt) == (["m2"], 0)
    [read] = await m1.reactions.get(GROUP, gid, [msg], max_users=1)
    assert (read.reactions[0].total, read.reactions[0].users) == (3, ["owner"])
    assert await code(outsider.reactions.add(GROUP, gid, msg, "no")) == (
        ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY
    )
    assert await code(outsider.reactions.get(GROUP, gid, [msg])) == (
        ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY
    )
    assert await code(m1.reactions.users(GROUP, gid, msg, "none")) == (
        ErrorCode.ERR_SVR_MSG_REACTION_NOT_EXISTS
    )


async def test_limit_of_reactions_per_message(login: Login) -> None:
    alice, _ = await login("alice"), await login("bob")
    msg = await alice.messages.send_text(C2C, "bob", "many")
    for i in range(MAX_REACTIONS_PER_MSG):
        await alice.reactions.add(C2C, "bob", msg, f"r{i}")
    assert await code(alice.reactions.add(C2C, "bob", msg, "one-more")) == (
        ErrorCode.ERR_SVR_MSG_REACTION_COUNT_LIMIT
    )
    [read] = await alice.reactions.get(C2C, "bob", [msg])
    assert [r.reaction_id for r in read.reactions] == [f"r{i}" for i in range(10)]
