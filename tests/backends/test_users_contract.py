"""The users' part of the Store contract (issue 11), on every engine: custom profile fields,
search, presence and status, subscriptions, push settings, the all-messages receive option."""

from __future__ import annotations

import pytest

from opentim.protocol import AllRecvOpt, PushSettings
from opentim.protocol.rules.users import SearchQuery, StatusType
from opentim.server.store.base import ConvChange, Store
from opentim.server.store.repos.presence import SUB_INFO, SUB_STATUS

from .test_store_contract import c2c


async def test_custom_fields_merge_and_survive_other_changes(store: Store) -> None:
    await store.users.ensure_user("u", create=True)
    p = await store.users.update_profile(
        "u", {}, {"Tag_Profile_Custom_Hobby": "chess", "Tag_Profile_Custom_City": "Oslo"}
    )
    assert p.custom == {"Tag_Profile_Custom_City": "Oslo", "Tag_Profile_Custom_Hobby": "chess"}
    p = await store.users.update_profile("u", {"nick": "U"}, {"Tag_Profile_Custom_City": ""})
    assert p.nick == "U"
    assert p.custom == {"Tag_Profile_Custom_Hobby": "chess"}
    again = (await store.users.get_profiles(["u"]))["u"]
    assert again == p


async def test_search_pages_in_id_order_and_counts_all_matches(store: Store) -> None:
    for i in range(7):
        await store.users.ensure_user(f"user{i}", create=True)
        await store.users.update_profile(f"user{i}", {"nick": "Ann" if i % 2 else "Bob"})
    q = SearchQuery(keywords=("ann",))
    page, total, more = await store.users.search(q, "", 2)
    assert [p.user_id for p in page] == ["user1", "user3"]
    assert (total, more) == (3, True)
    page, total, more = await store.users.search(q, "user3", 2)
    assert [p.user_id for p in page] == ["user5"]
    assert (total, more) == (3, False)
    page, total, _ = await store.users.search(SearchQuery(keywords=("user6",)), "", 10)
    assert [p.user_id for p in page] == ["user6"]
    assert total == 1


async def test_status_follows_sessions_and_how_the_last_one_ended(store: Store) -> None:
    [never] = await store.presence.statuses(["a"])
    assert never.status_type == StatusType.UNLOGINED
    before, after = await store.presence.connected("a", "c1", "n1", "phone", 2)
    assert (before.status_type, after.status_type) == (StatusType.UNLOGINED, StatusType.ONLINE)
    assert after.online_devices == ["phone"]
    _, after = await store.presence.connected("a", "c2", "n2", "pc", 1)
    assert sorted(after.online_devices) == ["pc", "phone"]
    _, after = await store.presence.disconnected("a", "c1", dropped=True)
    assert after.status_type == StatusType.ONLINE
    assert after.online_devices == ["pc"]
    _, after = await store.presence.disconnected("a", "c2", dropped=True)
    assert after.status_type == StatusType.OFFLINE
    assert after.online_devices == []
    await store.presence.connected("a", "c3", "n1", "phone", 2)
    _, after = await store.presence.disconnected("a", "c3", dropped=False)
    assert after.status_type == StatusType.UNLOGINED


async def test_a_restarted_node_clears_what_its_last_run_left(store: Store) -> None:
    await store.presence.connected("a", "c1", "n1", "d", 0)
    await store.presence.connected("b", "c2", "n2", "d", 0)
    assert await store.presence.clear_node("n1") == ["a"]
    a, b = await store.presence.statuses(["a", "b"])
    assert a.status_type == StatusType.OFFLINE
    assert b.status_type == StatusType.ONLINE


async def test_custom_status_is_kept_across_sessions(store: Store) -> None:
    s = await store.presence.set_custom_status("a", "busy")
    assert s.custom_status == "busy"
    await store.presence.connected("a", "c1", "n1", "d", 0)
    [s] = await store.presence.statuses(["a"])
    assert (s.custom_status, s.status_type) == ("busy", StatusType.ONLINE)


async def test_subscriptions_by_kind_both_ways(store: Store) -> None:
    await store.presence.subscribe("a", SUB_STATUS, ["x", "y"])
    await store.presence.subscribe("a", SUB_STATUS, ["x"])
    await store.presence.subscribe("b", SUB_STATUS, ["x"])
    await store.presence.subscribe("a", SUB_INFO, ["z"])
    assert await store.presence.subscribed("a", SUB_STATUS) == ["x", "y"]
    assert await store.presence.subscribers("x", SUB_STATUS) == ["a", "b"]
    assert await store.presence.subscribers("x", SUB_INFO) == []
    await store.presence.unsubscribe("a", SUB_STATUS, ["x"])
    assert await store.presence.subscribers("x", SUB_STATUS) == ["b"]
    await store.presence.unsubscribe("a", SUB_STATUS, None)
    assert await store.presence.subscribed("a", SUB_STATUS) == []
    assert await store.presence.subscribed("a", SUB_INFO) == ["z"]


async def test_push_settings_per_device(store: Store) -> None:
    await store.presence.set_push("a", PushSettings(device_id="d1", token="t1", token_type=2))
    await store.presence.set_push("a", PushSettings(device_id="d2", background=True, unread=3))
    await store.presence.set_push("a", PushSettings(device_id="d1", token="t9", updated=5))
    got = await store.presence.push_settings("a")
    assert got == [
        PushSettings(device_id="d1", token="t9", updated=5),
        PushSettings(device_id="d2", background=True, unread=3),
    ]


@pytest.mark.parametrize(
    "opt",
    [AllRecvOpt(opt=2, start=3600, duration=7200, daily=True), AllRecvOpt(opt=1, start=10**9)],
)
async def test_all_recv_opt_round_trips(store: Store, opt: AllRecvOpt) -> None:
    assert await store.presence.all_recv_opt("a") == AllRecvOpt()
    await store.presence.set_all_recv_opt("a", opt)
    assert await store.presence.all_recv_opt("a") == opt


async def test_find_by_id_and_seq_only_what_the_user_may_see(store: Store) -> None:
    for i in range(3):
        await store.messages.append(c2c("a", "b", f"m{i}"), 100)
    await store.messages.append(c2c("c", "d", "other"), 100)
    found = await store.messages.find("b", ["m2", "nope", "m0", "other"])
    assert [m.msg_id for m in found] == ["m2", "m0"]
    assert await store.messages.find("c", ["m0"]) == []
    await store.messages.delete_messages("b", 1, "a", [1])
    assert [m.msg_id for m in await store.messages.find("b", ["m0", "m1"])] == ["m1"]
    assert [m.msg_id for m in await store.messages.find("a", ["m0"])] == ["m0"]
    got = await store.messages.at_seqs("b", 1, "a", [3, 1, 2, 9])
    assert [m.seq for m in got] == [2, 3]


async def test_unread_keys_are_the_conversations_with_unread(store: Store) -> None:
    await store.messages.append(c2c("a", "b", "x1"), 100)
    await store.messages.append(c2c("c", "b", "x2"), 100)
    assert sorted(await store.convs.unread_keys("b")) == [(1, "a"), (1, "c")]
    assert await store.convs.unread_keys("a") == []
    await store.convs.change_conversation("b", 1, "a", ConvChange(read_up_to=0))
    assert await store.convs.unread_keys("b") == [(1, "c")]
