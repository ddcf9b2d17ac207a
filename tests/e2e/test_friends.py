"""Friendship over a real server, two users with several devices each: adding under the add
permission, applications, deletion, remarks naming the C2C conversation on every device, the
blacklist refusing messages (20007), friend groups, follows and official accounts; every change
reaches every device of the users concerned."""

from __future__ import annotations

import pytest

from opentim.protocol import ConvType, ErrorCode
from opentim.protocol.friendship import CustomField, FriendEvent, OfficialAccount
from opentim.protocol.limits import FOLLOW_PAGE
from opentim.protocol.rules.friends import AddPermission, PendencyType, Relation, ResponseAction
from opentim.sdk import Client, SdkError
from opentim.server.app import Server

from ..conftest import Login
from ..helpers import conv, until

pytestmark = pytest.mark.e2e
C2C = ConvType.C2C


def record(client: Client) -> list[FriendEvent]:
    seen: list[FriendEvent] = []
    client.events.friendship.add(seen.append)
    return seen


def kinds(seen: list[FriendEvent]) -> list[str]:
    return [e.kind for e in seen]


async def has_event(client: Client, seen: list[FriendEvent], kind: str) -> FriendEvent:
    await until(client, lambda: kind in kinds(seen))
    return next(e for e in seen if e.kind == kind)


async def devices(login: Login, user_id: str, n: int = 2) -> list[Client]:
    return [await login(user_id, device_id=f"{user_id}-{i}") for i in range(n)]


async def test_allow_any_makes_friends_on_every_device_of_both(login: Login) -> None:
    a1, a2 = await devices(login, "alice")
    b1, b2 = await devices(login, "bob")
    await b1.set_profile(add_permission=AddPermission.ALLOW_ANY)
    seen = {c: record(c) for c in (a1, a2, b1, b2)}
    result = await a1.friendship.add("bob", remark="Bobby", group_name="work", add_wording="hi")
    assert result.code == 0
    for c in (a1, a2):
        assert (await has_event(c, seen[c], "friend_added")).user_ids == ["bob"]
    for c in (b1, b2):
        assert (await has_event(c, seen[c], "friend_added")).user_ids == ["alice"]
    [entry] = await a2.friendship.friends()
    assert (entry.user_id, entry.remark, entry.groups, entry.add_wording) == (
        "bob",
        "Bobby",
        ["work"],
        "hi",
    )
    [check] = await b2.friendship.check(["alice"])
    assert check.relation == Relation.BOTH
    again = await a1.friendship.add("bob")
    assert again.code == ErrorCode.ERR_SVR_FRIENDSHIP_ALREADY_FRIENDS


async def test_need_confirm_sends_an_application_answered_on_another_device(
    login: Login,
) -> None:
    a1, a2 = await devices(login, "alice")
    b1, b2 = await devices(login, "bob")
    await b1.set_profile(add_permission=AddPermission.NEED_CONFIRM)
    seen = {c: record(c) for c in (a1, a2, b1, b2)}
    result = await a1.friendship.add("bob", add_wording="let me in", add_source="search")
    assert result.code == ErrorCode.ERR_SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM
    for c in (b1, b2):
        [app] = (await has_event(c, seen[c], "app_added")).applications
        assert (app.user_id, app.type, app.add_wording) == (
            "alice",
            PendencyType.COME_IN,
            "let me in",
        )
    [mine] = (await has_event(a2, seen[a2], "app_added")).applications
    assert (mine.user_id, mine.type) == ("bob", PendencyType.SEND_OUT)
    page = await b2.friendship.applications(PendencyType.COME_IN)
    assert [x.user_id for x in page.applications] == ["alice"]
    assert page.unread == 1
    await b2.friendship.report_read(2**64 - 1)  # the reference's uint64: beyond any stored time
    await has_event(b1, seen[b1], "app_read")
    assert (await b1.friendship.applications()).unread == 0
    answer = await b2.friendship.answer("alice", ResponseAction.AGREE_AND_ADD, remark="Al")
    assert answer.code == 0
    for c in (a1, a2, b1, b2):
        await has_event(c, seen[c], "friend_added")
        await has_event(c, seen[c], "app_deleted")
    assert [f.remark for f in await b1.friendship.friends()] == ["Al"]
    missing = await b1.friendship.answer("alice", ResponseAction.REJECT)
    assert missing.code == ErrorCode.ERR_SVR_FRIENDSHIP_PENDENCY_NOT_FOUND


async def test_deny_any_and_one_way_delete(login: Login) -> None:
    alice, bob, carol = await login("alice"), await login("bob"), await login("carol")
    await carol.set_profile(add_permission=AddPermission.DENY_ANY)
    refused = await alice.friendship.add("carol")
    assert refused.code == ErrorCode.ERR_SVR_FRIENDSHIP_ALLOW_TYPE_DENY_ANY
    await bob.set_profile(add_permission=AddPermission.ALLOW_ANY)
    await alice.friendship.add("bob")
    [gone] = await alice.friendship.delete(["bob"], friend_type=0)
    assert gone.code == 0
    assert await alice.friendship.friends() == []
    [kept] = await bob.friendship.check(["alice"])
    assert kept.relation == Relation.A_WITH_B
    [info] = await alice.friendship.info(["bob"])
    assert info.relation == Relation.B_WITH_A
    assert info.friend.profile is not None
    [again] = await alice.friendship.delete(["bob"])
    assert again.code == ErrorCode.ERR_SVR_FRIENDSHIP_DEL_NONFRIEND


async def test_a_remark_is_the_conversation_name_on_every_device(login: Login) -> None:
    a1, a2 = await devices(login, "alice")
    bob = await login("bob")
    await bob.set_profile(nick="Bob N", add_permission=AddPermission.ALLOW_ANY)
    await bob.messages.send_text(C2C, "alice", "hello")
    for c in (a1, a2):
        await until(c, lambda c=c: c.conversations.cached(C2C, "bob") is not None)  # type: ignore[misc]
    await a1.friendship.add("bob", remark="My Bob")
    for c in (a1, a2):
        await until(c, lambda c=c: conv(c, C2C, "bob").show_name == "My Bob")  # type: ignore[misc]
    await a2.friendship.modify("bob", remark="Bobster")
    for c in (a1, a2):
        await until(c, lambda c=c: conv(c, C2C, "bob").show_name == "Bobster")  # type: ignore[misc]
    assert conv(bob, C2C, "alice").show_name == "alice"
    hits = await a1.friendship.search(["bobs"], fields=4)
    assert [h.user_id for h in hits] == ["bob"]
    assert await a1.friendship.search(["bobs"], fields=2) == []


async def test_a_blocked_user_cannot_message(login: Login) -> None:
    a1, a2 = await devices(login, "alice")
    bob = await login("bob")
    await bob.set_profile(add_permission=AddPermission.ALLOW_ANY)
    await a1.friendship.add("bob")
    await bob.messages.send_text(C2C, "alice", "before")  # the server now holds her blacklist
    seen = record(a2)
    [r] = await a1.friendship.block(["bob"])
    assert r.code == 0
    added = await has_event(a2, seen, "black_added")
    assert [f.user_id for f in added.friends] == ["bob"]
    await has_event(a2, seen, "friend_deleted")
    with pytest.raises(SdkError) as info:
        await bob.messages.send_text(C2C, "alice", "hi?")
    assert info.value.code == ErrorCode.ERR_SVR_MSG_IN_PEER_BLACKLIST == 20007
    await a1.messages.send_text(C2C, "bob", "I can still write")
    assert [f.user_id for f in await a2.friendship.blacklist()] == ["bob"]
    await a2.friendship.unblock(["bob"])
    assert (await has_event(a2, seen, "black_deleted")).user_ids == ["bob"]
    await bob.messages.send_text(C2C, "alice", "back")


async def test_friend_groups_reach_every_device(login: Login) -> None:
    a1, a2 = await devices(login, "alice")
    for u in ("bob", "carol"):
        peer = await login(u)
        await peer.set_profile(add_permission=AddPermission.ALLOW_ANY)
        await a1.friendship.add(u)
    seen = record(a2)
    await a1.friendship.create_groups(["close"], ["bob"])
    created = await has_event(a2, seen, "group_created")
    assert created.name == "close"
    assert [f.user_id for f in created.friends] == ["bob"]
    await a1.friendship.change_group("close", new_name="best", add=["carol"], remove=["bob"])
    assert (await has_event(a2, seen, "group_renamed")).new_name == "best"
    assert [f.user_id for f in (await has_event(a2, seen, "group_added")).friends] == ["carol"]
    assert (await has_event(a2, seen, "group_removed")).user_ids == ["bob"]
    assert [(g.name, g.user_ids) for g in await a2.friendship.groups()] == [("best", ["carol"])]
    await a1.friendship.delete_groups(["best"])
    assert (await has_event(a2, seen, "group_deleted")).user_ids == ["best"]


async def test_follows_and_mutual_followers(login: Login) -> None:
    a1, a2 = await devices(login, "alice")
    bob = await login("bob")
    seen_a, seen_b = record(a2), record(bob)
    await a1.friendship.follow(["bob"])
    assert [p.user_id for p in (await has_event(a2, seen_a, "following")).profiles] == ["bob"]
    assert [p.user_id for p in (await has_event(bob, seen_b, "followers")).profiles] == ["alice"]
    await bob.friendship.follow(["alice"])
    await has_event(a2, seen_a, "mutual")
    assert [p.user_id for p in (await a1.friendship.follow_list(2))[0]] == ["bob"]
    [counts] = await a1.friendship.follow_counts(["alice"])
    assert (counts.following, counts.followers, counts.mutual) == (1, 1, 1)
    [t] = await a1.friendship.follow_check(["bob"])
    assert t.relation == 3
    await a1.friendship.unfollow(["bob"])
    assert [t.relation for t in await a1.friendship.follow_check(["bob"])] == [2]


async def test_official_accounts(server: Server, login: Login) -> None:
    a1, a2 = await devices(login, "alice")
    assert server.services is not None
    friends = server.services.friends
    await friends.put_account(OfficialAccount(account_id="news", name="News"))
    seen = record(a2)
    await a1.friendship.subscribe("news")
    assert (await has_event(a2, seen, "oa_subscribed")).account.name == "News"  # type: ignore[union-attr]
    [mine] = await a2.friendship.accounts()
    assert mine.account is not None
    assert mine.account.subscriber_count == 1
    await friends.put_account(OfficialAccount(account_id="news", name="Daily News"))
    assert (await has_event(a2, seen, "oa_changed")).account.name == "Daily News"  # type: ignore[union-attr]
    await a1.friendship.unsubscribe("news")
    assert (await has_event(a2, seen, "oa_unsubscribed")).name == "news"
    with pytest.raises(SdkError) as info:
        await a1.friendship.subscribe("nope")
    assert info.value.code == ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND


async def test_limits_and_refusals(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    await bob.set_profile(add_permission=AddPermission.ALLOW_ANY)

    async def code(call: object) -> int:
        with pytest.raises(SdkError) as info:
            await call  # type: ignore[misc]
        return info.value.code

    param = ErrorCode.ERR_SVR_FRIENDSHIP_INVALID_PARAMETERS
    assert await code(alice.friendship.add("bob", remark="r" * 97)) == param
    assert await code(alice.friendship.add("bob", add_wording="w" * 257)) == param
    assert await code(alice.friendship.add("bob", group_name="g" * 31)) == param
    assert await code(alice.friendship.add("bob", add_type=5)) == param
    assert await code(alice.friendship.add("not a valid id " * 4)) == param
    assert (await alice.friendship.add("alice")).code == param
    assert (
        await alice.friendship.add("ghost")
    ).code == ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND
    assert await code(alice.friendship.modify("bob", remark="x")) == (
        ErrorCode.ERR_SVR_FRIENDSHIP_DEL_NONFRIEND
    )
    await alice.friendship.add("bob")
    assert await code(alice.friendship.modify("bob", remark="r" * 97)) == param
    assert await code(alice.friendship.modify("bob", groups=[""])) == param
    too_long = [CustomField(key="k", value="v" * 501)]
    assert await code(alice.friendship.modify("bob", custom=too_long)) == param
    assert await code(alice.friendship.answer("bob", 9)) == param
    assert (await alice.friendship.answer("bob", 0)).code == (
        ErrorCode.ERR_SVR_FRIENDSHIP_PENDENCY_NOT_FOUND
    )
    assert await code(alice.friendship.applications(kind=7)) == param
    assert await code(alice.friendship.delete_applications(["bob"], 2)) == param
    [missing] = await alice.friendship.delete_applications(["bob"], 0)
    assert missing.code == ErrorCode.ERR_SVR_FRIENDSHIP_PENDENCY_NOT_FOUND
    assert await code(alice.friendship.block(["alice"])) == param
    [nobody] = await alice.friendship.block(["ghost"])
    assert nobody.code == ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND
    [not_blocked] = await alice.friendship.unblock(["bob"])
    assert not_blocked.code == param
    assert await code(alice.friendship.create_groups([], [])) == param
    await alice.friendship.create_groups([f"g{i}" for i in range(30)], [])
    assert await code(alice.friendship.create_groups(["one more"], [])) == (
        ErrorCode.ERR_SVR_FRIENDSHIP_GROUP_COUNT_LIMIT
    )
    assert await code(alice.friendship.change_group("nope", new_name="x")) == param
    assert await code(alice.friendship.follow_list(kind=3)) == param
    [ghost] = await alice.friendship.follow(["ghost"])
    assert ghost.code == ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND
    assert await code(alice.friendship.unsubscribe("none")) == (
        ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND
    )
    [unknown] = await alice.friendship.accounts(["none"])
    assert unknown.code == ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND
    [info] = await alice.friendship.info(["ghost"])
    assert info.code == ErrorCode.ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND


async def test_follow_lists_page_by_cursor(login: Login) -> None:
    fan = await login("fan")
    stars = [f"star{i:03d}" for i in range(FOLLOW_PAGE + 5)]
    for star in stars:
        await (await login(star)).close()
    for i in range(0, len(stars), 100):
        await fan.friendship.follow(stars[i : i + 100])
    first, cursor = await fan.friendship.follow_list(0)
    assert len(first) == FOLLOW_PAGE
    assert cursor == first[-1].user_id
    rest, end = await fan.friendship.follow_list(0, cursor)
    assert [p.user_id for p in first + rest] == stars
    assert end == ""
