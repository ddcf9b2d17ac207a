"""The friendship repository on every engine: adding under the add permission, answers,
one-way and two-way deletion, remarks as the C2C show name, the blacklist, friend groups,
follows and official accounts."""

from __future__ import annotations

import pytest

from opentim.protocol import ConvType, ErrorCode
from opentim.protocol.friendship import CustomField, OfficialAccount
from opentim.protocol.rules.friends import AddPermission, FriendType, PendencyType, ResponseAction
from opentim.server.store.base import Store

from .test_store_contract import c2c

BOTH, SINGLE = FriendType.BOTH, FriendType.SINGLE


async def users(store: Store, *ids: str, permission: int = AddPermission.ALLOW_ANY) -> None:
    for user_id in ids:
        await store.users.ensure_user(user_id, create=True)
        await store.users.update_profile(
            user_id, {"add_permission": permission, "nick": user_id.upper()}
        )


async def add(store: Store, me: str, target: str, add_type: int = BOTH, **kw: str):  # type: ignore[no-untyped-def]
    return await store.friends.add_friend(
        me, target, add_type, kw.get("remark", ""), kw.get("group", ""), "src", "hi", 100
    )


async def has(store: Store, owner: str) -> list[str]:
    return [f.user_id for f in await store.friends.friends(owner)]


async def test_allow_any_adds_both_ways_at_once(store: Store) -> None:
    await users(store, "a", "b")
    done = await add(store, "a", "b", remark="Bee", group="work")
    assert done.codes == {"b": 0}
    assert sorted(done.added) == [("a", "b"), ("b", "a")]
    [entry] = await store.friends.friends("a")
    assert (entry.remark, entry.groups, entry.add_source, entry.add_wording) == (
        "Bee",
        ["work"],
        "src",
        "hi",
    )
    assert entry.profile is not None
    assert entry.profile.nick == "B"
    assert await has(store, "b") == ["a"]
    again = await add(store, "a", "b")
    assert again.codes == {"b": ErrorCode.ERR_SVR_FRIENDSHIP_ALREADY_FRIENDS}


async def test_single_add_changes_only_my_list(store: Store) -> None:
    await users(store, "a", "b")
    await add(store, "a", "b", SINGLE)
    assert await has(store, "a") == ["b"]
    assert await has(store, "b") == []
    mine, theirs = await store.friends.relations("b", ["a"])
    assert (mine, theirs) == (set(), {"a"})


@pytest.mark.parametrize(
    ("permission", "code", "pending"),
    [
        (AddPermission.NEED_CONFIRM, ErrorCode.ERR_SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM, True),
        (AddPermission.UNKNOWN, ErrorCode.ERR_SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM, True),
        (AddPermission.DENY_ANY, ErrorCode.ERR_SVR_FRIENDSHIP_ALLOW_TYPE_DENY_ANY, False),
    ],
)
async def test_the_targets_permission_decides(
    store: Store, permission: int, code: int, pending: bool
) -> None:
    await users(store, "a")
    await users(store, "b", permission=permission)
    done = await add(store, "a", "b")
    assert done.codes == {"b": code}
    assert done.added == []
    assert done.applied == (["b"] if pending else [])
    apps, _, _times = await store.friends.applications("b", PendencyType.BOTH, 100)
    assert [(x.user_id, x.type) for x in apps] == ([("a", PendencyType.COME_IN)] if pending else [])
    out, _, _ = await store.friends.applications("a", PendencyType.SEND_OUT, 100)
    assert [x.user_id for x in out] == (["b"] if pending else [])
    assert await has(store, "a") == []


async def test_a_target_who_has_me_needs_no_confirmation(store: Store) -> None:
    await users(store, "a", "b", permission=AddPermission.NEED_CONFIRM)
    await users(store, "c")
    await store.users.update_profile("a", {"add_permission": AddPermission.ALLOW_ANY})
    await add(store, "b", "a", SINGLE)  # b has a now
    done = await add(store, "a", "b", SINGLE)
    assert done.codes == {"b": 0}
    assert done.added == [("a", "b")]


@pytest.mark.parametrize(
    ("action", "a_has_b", "b_has_a"),
    [
        (ResponseAction.AGREE, True, False),
        (ResponseAction.AGREE_AND_ADD, True, True),
        (ResponseAction.REJECT, False, False),
    ],
)
async def test_answers(store: Store, action: int, a_has_b: bool, b_has_a: bool) -> None:
    await users(store, "a", "b", permission=AddPermission.NEED_CONFIRM)
    await add(store, "a", "b", remark="my b")
    done = await store.friends.answer("b", "a", action, "my a", "", 200)
    assert done is not None
    assert done.withdrawn == [("b", "a")]
    assert (await has(store, "a") == ["b"]) == a_has_b
    assert (await has(store, "b") == ["a"]) == b_has_a
    if a_has_b:
        assert (await store.friends.friends("a"))[0].remark == "my b"
    assert (await store.friends.applications("b", PendencyType.BOTH, 100))[0] == []
    assert await store.friends.answer("b", "a", action, "", "", 300) is None


async def test_unread_applications_follow_the_read_time(store: Store) -> None:
    await users(store, "a", "c", "b", permission=AddPermission.NEED_CONFIRM)
    await store.friends.add_friend("a", "b", BOTH, "", "", "", "", 100)
    await store.friends.add_friend("c", "b", BOTH, "", "", "", "", 200)
    _, read_time, times = await store.friends.applications("b", PendencyType.COME_IN, 100)
    assert (read_time, sorted(times)) == (0, [100, 200])
    await store.friends.report_read("b", 150)
    await store.friends.report_read("b", 120)  # never backwards
    assert (await store.friends.applications("b", 0, 100))[1] == 150
    assert await store.friends.delete_applications("b", PendencyType.COME_IN, ["a", "x"]) == ["a"]
    assert await store.friends.delete_applications("c", PendencyType.SEND_OUT, ["b"]) == ["b"]
    assert (await store.friends.applications("b", PendencyType.BOTH, 100))[0] == []


async def test_delete_one_way_and_both_ways(store: Store) -> None:
    await users(store, "a", "b", "c")
    await add(store, "a", "b")
    await add(store, "a", "c")
    found, removed = await store.friends.delete_friends("a", ["b", "x"], both=False)
    assert found == {"b": 1, "x": 0}
    assert removed == [("a", "b")]
    assert await has(store, "b") == ["a"]
    _, removed = await store.friends.delete_friends("a", ["c"], both=True)
    assert sorted(removed) == [("a", "c"), ("c", "a")]
    assert await has(store, "a") == []
    assert await has(store, "c") == []


async def test_a_remark_names_the_c2c_conversation_and_moves_it(store: Store) -> None:
    await users(store, "a", "b")
    await store.messages.append(c2c("b", "a", "m1"), 100)
    key = [(ConvType.C2C, "b")]
    [before] = await store.convs.get_conversations("a", key)
    assert before.show_name == "B"
    await add(store, "a", "b", SINGLE, remark="Bob")
    [added] = await store.convs.get_conversations("a", key)
    assert added.show_name == "Bob"
    assert added.pos > before.pos
    assert (await store.convs.get_conversations("b", [(ConvType.C2C, "a")]))[0].show_name == "A"
    friend = await store.friends.modify_friend(
        "a", "b", "Bobby", ["g1"], [CustomField(key="Tag_SNS_Custom_x", value="1")], 7
    )
    assert friend is not None
    assert friend.groups == ["g1"]
    assert friend.custom[0].value == "1"
    [renamed] = await store.convs.get_conversations("a", key)
    assert renamed.show_name == "Bobby"
    assert renamed.pos > added.pos
    await store.friends.delete_friends("a", ["b"], both=False)
    [gone] = await store.convs.get_conversations("a", key)
    assert gone.show_name == "B"
    assert gone.pos > renamed.pos
    assert await store.friends.modify_friend("a", "b", "x", None, None, 8) is None


async def test_blocking_ends_the_friendship_and_refuses_adds(store: Store) -> None:
    await users(store, "a", "b")
    await add(store, "a", "b")
    new, removed = await store.friends.block("a", ["b", "nobody"], 50)
    assert new == ["b"]
    assert sorted(removed) == [("a", "b"), ("b", "a")]
    assert await store.friends.is_blocked("b", by="a")
    assert not await store.friends.is_blocked("a", by="b")
    assert (await store.friends.block("a", ["b"], 60))[0] == []
    assert [(i, t) for i, t, _ in await store.friends.blacklist("a")] == [("b", 50)]
    assert (await add(store, "b", "a")).codes == {
        "a": ErrorCode.ERR_SVR_FRIENDSHIP_IN_PEER_BLACKLIST
    }
    assert (await add(store, "a", "b")).codes == {
        "b": ErrorCode.ERR_SVR_FRIENDSHIP_IN_SELF_BLACKLIST
    }
    assert await store.friends.unblock("a", ["b", "c"]) == ["b"]
    assert (await add(store, "b", "a")).codes == {"a": 0}


async def test_friend_groups(store: Store) -> None:
    await users(store, "a", "b", "c")
    await add(store, "a", "b")
    made = await store.friends.create_groups("a", ["g1", "g2"], ["b", "c"], 10, 30)
    assert made == (["g1", "g2"], ["b"])
    assert await store.friends.create_groups("a", ["g3", "g4"], [], 10, 3) is None
    assert await store.friends.change_group("a", "g1", "work", ["b"], []) == (["b"], [])
    await add(store, "a", "c")
    assert await store.friends.change_group("a", "work", "", ["c"], ["b"]) == (["c"], ["b"])
    assert await store.friends.change_group("a", "nope", "", [], []) is None
    assert await store.friends.change_group("a", "work", "g2", [], []) is None  # name taken
    groups = await store.friends.friend_groups("a")
    assert [(g.name, g.user_ids) for g in groups] == [("g2", ["b"]), ("work", ["c"])]
    assert (await store.friends.friends("a", ["c"]))[0].groups == ["work"]
    assert await store.friends.delete_groups("a", ["g2", "zz"]) == ["g2"]
    assert [g.name for g in await store.friends.friend_groups("a")] == ["work"]


async def test_follows_counts_and_mutual(store: Store) -> None:
    await users(store, "a", "b", "c")
    codes, changed, mutual = await store.friends.follow("a", ["b", "c", "x", "a"], True, 1)
    assert codes == {"b": 0, "c": 0, "x": -1, "a": -1}
    assert changed == ["b", "c"]
    assert mutual == []
    _, changed, mutual = await store.friends.follow("b", ["a"], True, 2)
    assert changed == ["a"]
    assert mutual == ["a"]
    assert (await store.friends.follow("a", ["b"], True, 3))[1] == []  # already
    assert [p.user_id for p in await store.friends.follow_page("a", 0, "", 100)] == ["b", "c"]
    assert [p.user_id for p in await store.friends.follow_page("a", 0, "b", 100)] == ["c"]
    assert [p.user_id for p in await store.friends.follow_page("a", 1, "", 100)] == ["b"]
    assert [p.user_id for p in await store.friends.follow_page("a", 2, "", 100)] == ["b"]
    assert await store.friends.follow_counts(["a", "c"]) == {"a": (2, 1, 1), "c": (0, 1, 0)}
    assert await store.friends.follow_flags("a", ["b", "c"]) == ({"b", "c"}, {"b"})
    _, changed, mutual = await store.friends.follow("a", ["b"], False, 4)
    assert changed == ["b"]
    assert mutual == ["b"]
    assert await store.friends.follow_counts(["a"]) == {"a": (1, 1, 0)}


async def test_official_accounts(store: Store) -> None:
    await users(store, "a")
    await store.friends.put_account(OfficialAccount(account_id="news", name="News", create_time=5))
    assert await store.friends.subscribe("a", "nope", True, 9) is None
    assert await store.friends.subscribe("a", "news", True, 9) is True
    assert await store.friends.subscribe("a", "news", True, 10) is False
    [mine] = await store.friends.accounts("a", [])
    assert mine.account is not None
    assert (mine.account.name, mine.account.subscribe_time, mine.account.subscriber_count) == (
        "News",
        9,
        1,
    )
    await store.friends.put_account(OfficialAccount(account_id="news", name="Daily", create_time=7))
    [got, missing] = await store.friends.accounts("a", ["news", "zz"])
    assert got.account is not None
    assert (got.account.name, got.account.create_time) == ("Daily", 5)
    assert missing.code != 0
    assert await store.friends.subscribers("news") == ["a"]
    assert await store.friends.delete_account("news") == ["a"]
    assert await store.friends.accounts("a", []) == []
