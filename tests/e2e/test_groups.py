"""Group rules over a real server: types, add options, owners, invite, kick, tips."""

from __future__ import annotations

import pytest

from opentim.protocol import AddOption, ConvType, ErrorCode, GroupType
from opentim.sdk import Client

from ..conftest import Login
from ..helpers import code, ids, until

pytestmark = pytest.mark.e2e
GROUP = ConvType.GROUP


async def test_create_gives_every_member_the_conversation_with_an_unread_free_tip(
    login: Login,
) -> None:
    owner, bob = await login("owner"), await login("bob")
    gid = await owner.groups.create("Windows-Group-01", GroupType.PRIVATE, members=["bob"])
    assert gid.startswith("@TGS#")
    await until(bob, lambda: gid in ids(bob))
    c = bob.conversations.cached(GROUP, gid)
    assert c is not None
    assert c.unread == 0
    assert c.show_name == "Windows-Group-01"
    assert c.group_type == GroupType.PRIVATE
    assert c.last_msg is not None
    assert c.last_msg.is_tips
    assert await code(owner.groups.create("again", group_id=gid)) == 10021
    assert await code(owner.groups.create("")) == ErrorCode.ERR_SDK_GROUP_INVALID_NAME
    assert await code(owner.groups.create("x" * 101)) == ErrorCode.ERR_SDK_GROUP_INVALID_NAME
    assert await code(owner.groups.create("av", GroupType.AVCHATROOM)) == 7013
    assert await code(owner.groups.create("m", members=["ghost"])) == 10019


async def test_join_follows_the_add_option(login: Login) -> None:
    owner, bob = await login("owner"), await login("bob")
    free = await owner.groups.create("free", add_option=AddOption.ANY)
    closed = await owner.groups.create("closed", add_option=AddOption.FORBID)
    default_public = await owner.groups.create("public")
    meeting = await owner.groups.create("meeting", GroupType.CHATROOM)
    work = await owner.groups.create("work", GroupType.PRIVATE)
    await bob.groups.join(free)
    await bob.groups.join(meeting)
    assert await code(bob.groups.join(free)) == 10013
    assert await code(bob.groups.join(closed)) == 10007
    await bob.groups.join(default_public)  # an application: bob is not a member yet
    assert await code(bob.groups.join(work)) == 8508
    assert await code(bob.groups.join("no-such-group")) == 10010
    joined = {g.group_id for g in await bob.groups.joined()}
    assert joined == {free, meeting}
    await until(bob, lambda: {free, meeting} <= set(ids(bob)))


async def test_joiner_starts_read_and_group_messages_reach_every_member(login: Login) -> None:
    owner = await login("owner")
    gid = await owner.groups.create("g", add_option=AddOption.ANY)
    for i in range(3):
        await owner.messages.send_text(GROUP, gid, f"before {i}")
    bob, carol = await login("bob"), await login("carol")
    await bob.groups.join(gid)
    await carol.groups.join(gid)
    await until(bob, lambda: gid in ids(bob))
    assert bob.conversations.total_unread() == 0
    await owner.messages.send_text(GROUP, gid, "after")
    for member in (bob, carol):
        await until(member, lambda m=member: m.conversations.total_unread() == 1)  # type: ignore[misc]
    outsider = await login("dave")
    assert await code(outsider.messages.send_text(GROUP, gid, "let me in")) == 10007


async def test_owner_rules_for_quit_and_dismiss(login: Login) -> None:
    owner, bob = await login("owner"), await login("bob")
    public = await owner.groups.create("p", add_option=AddOption.ANY)
    work = await owner.groups.create("w", GroupType.PRIVATE, members=["bob"])
    assert await code(owner.groups.quit(public)) == 10009
    await bob.groups.join(public)
    assert await code(bob.groups.delete(public)) == 10007
    assert await code(owner.groups.delete(work)) == 10007
    await owner.groups.quit(work)  # anyone may quit a Work group, the owner too
    await bob.groups.quit(public)
    assert await code(bob.groups.quit(public)) == 10007
    await owner.groups.delete(public)
    assert await code(owner.groups.join(public)) == 10010
    assert {g.group_id for g in await owner.groups.joined()} == set()


async def test_invite_and_kick_report_per_user_results(login: Login) -> None:
    owner, bob, carol = await login("owner"), await login("bob"), await login("carol")
    work = await owner.groups.create("w", GroupType.PRIVATE, members=["bob"])
    results = await bob.groups.invite(work, ["carol", "owner", "ghost"])
    assert [(r.user_id, r.result) for r in results] == [("carol", 1), ("owner", 2), ("ghost", 0)]
    await until(carol, lambda: work in ids(carol))
    assert await code(bob.groups.kick(work, ["carol"])) == 10007
    kicked = await owner.groups.kick(work, ["carol", "owner"])
    assert [(r.user_id, r.result) for r in kicked] == [("carol", 1), ("owner", 0)]

    def ended() -> bool:
        c = carol.conversations.cached(GROUP, work)
        return c is not None and c.ended

    await until(carol, ended)
    assert await code(carol.messages.send_text(GROUP, work, "still here?")) == 10007
    await owner.messages.send_text(GROUP, work, "after carol left")
    assert carol.conversations.total_unread() == 0
    public = await owner.groups.create("pub", add_option=AddOption.ANY, members=["bob"])
    assert await code(bob.groups.invite(public, ["carol"])) == 10007
    assert await code(owner.groups.invite(public, [])) == ErrorCode.ERR_SDK_GROUP_INVITE_NO_MEMBER


async def test_history_of_a_group_is_newest_first_and_pages(login: Login) -> None:
    owner: Client = await login("owner")
    gid = await owner.groups.create("g", add_option=AddOption.ANY)
    for i in range(30):
        await owner.messages.send_text(GROUP, gid, f"m{i}")
    page1 = await owner.messages.history(GROUP, gid, count=20)
    page2 = await owner.messages.history(GROUP, gid, before_seq=page1[-1].seq, count=20)
    seqs = [m.seq for m in page1 + page2]
    assert seqs == list(range(31, 0, -1))
