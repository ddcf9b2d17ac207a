"""TIMFriendshipManager.h end to end through the TIM layer, with Tencent's JSON keys: adding
under the add permission, applications, check types, remarks naming the conversation, the
blacklist (20007), friend groups, follows and official accounts, and every callback on every
device of the users concerned. The JSON emitted is checked against the reference's keys
(conformance.Checker.check_friendship) after each test."""

from __future__ import annotations

import json
from typing import Any

import pytest

from opentim.protocol.friendship import OfficialAccount
from opentim.tim import keys as k

from .conformance import AllFacts
from .conftest import Stream, Tim

pytestmark = pytest.mark.e2e
BOTH_ENGINES = True
C2C = k.kTIMConv_C2C
ALLOW_ANY, NEED_CONFIRM, DENY_ANY = 1, 2, 3
TYPEDEFS = {
    name: spec["params"][0].split()[0]
    for name, spec in AllFacts().headers["TIMFriendshipManager.h"]["functions"].items()
    if name.startswith("TIMSet")
}
"""Each setter's callback typedef: the source its events are recorded (and checked) under."""


def listen(tim: Tim, *setters: str) -> Stream:
    """Register each setter's callback; events arrive as ``(setter, args…)``."""
    stream = Stream()
    for setter in setters:
        getattr(tim.sdk, setter)(
            tim.recorder.wrap(
                TYPEDEFS[setter],
                lambda *a, s=setter: stream.append((s, *a[:-1])),
            ),
            None,
        )
    return stream


def permission(server: Any, user_id: str, value: int) -> None:
    """Set a user's add permission (the profile functions belong to TIMManager.h)."""
    server.admin(lambda s: s.users.set_profile(user_id, {"add_permission": value}))


def add(tim: Tim, target: str, **extra: Any) -> dict[str, Any]:
    param = {"friendship_add_friend_param_identifier": target, **extra}
    return tim.ok("TIMFriendshipAddFriend", json.dumps(param))  # type: ignore[no-any-return]


def test_add_with_allow_any_fires_on_every_device_and_lists(make_tim: Any, server: Any) -> None:
    a1, a2 = make_tim("fa", "fa1"), make_tim("fa", "fa2")
    b1 = make_tim("fb")
    permission(server, b1.user_id, ALLOW_ANY)
    added = [listen(t, "TIMSetOnAddFriendCallback") for t in (a1, a2, b1)]
    result = add(
        a1,
        "fb",
        friendship_add_friend_param_remark="Bee",
        friendship_add_friend_param_group_name="work",
        friendship_add_friend_param_add_wording="hello",
        friendship_add_friend_param_friend_type=1,
    )
    assert result == {
        "friend_result_identifier": "fb",
        "friend_result_code": 0,
        "friend_result_desc": "",
    }
    for stream, peer in zip(added, ("fb", "fb", "fa"), strict=True):
        event = stream.wait(lambda e: True)
        assert event[0] == "TIMSetOnAddFriendCallback"
        assert json.loads(event[1]) == [peer]
    [friend] = a2.ok("TIMFriendshipGetFriendProfileList")
    assert friend["friend_profile_identifier"] == "fb"
    assert friend["friend_profile_remark"] == "Bee"
    assert friend["friend_profile_group_name_array"] == ["work"]
    assert friend["friend_profile_add_wording"] == "hello"
    assert friend["friend_profile_user_profile"][k.USER_PROFILE_IDENTIFIER] == "fb"
    check = {
        "friendship_check_friendtype_param_check_type": 1,
        "friendship_check_friendtype_param_identifier_array": ["fb", "nobody"],
    }
    found = a1.ok("TIMFriendshipCheckFriendType", json.dumps(check))
    assert [r["friendship_check_friendtype_result_relation"] for r in found] == [3, 0]
    infos = a1.ok("TIMFriendshipGetFriendsInfo", json.dumps(["fb"]))
    assert infos[0]["friendship_friend_info_get_result_relation_type"] == 3
    assert (
        infos[0]["friendship_friend_info_get_result_field_info"]["friend_profile_remark"] == "Bee"
    )
    again = add(a1, "fb")
    assert again["friend_result_code"] == 30015


def test_applications_accept_on_one_device_seen_on_all(make_tim: Any, server: Any) -> None:
    a1 = make_tim("pa")
    b1, b2 = make_tim("pb", "pb1"), make_tim("pb", "pb2")
    permission(server, b1.user_id, NEED_CONFIRM)
    requests = [listen(t, "TIMSetFriendAddRequestCallback") for t in (b1, b2)]
    read = listen(b2, "TIMSetFriendApplicationListReadCallback")
    gone = listen(a1, "TIMSetFriendApplicationListDeletedCallback", "TIMSetOnAddFriendCallback")
    result = add(a1, "pb", friendship_add_friend_param_add_wording="please")
    assert result["friend_result_code"] == 30539
    for stream in requests:
        _, text = stream.wait(lambda e: True)
        [pendency] = json.loads(text)
        assert pendency["friend_add_pendency_identifier"] == "pa"
        assert pendency["friend_add_pendency_type"] == 0
        assert pendency["friend_add_pendency_add_wording"] == "please"
    page = b1.ok(
        "TIMFriendshipGetPendencyList", json.dumps({"friendship_get_pendency_list_param_type": 0})
    )
    assert page["pendency_page_unread_num"] == 1
    [info] = page["pendency_page_pendency_info_array"]
    assert info["friend_add_pendency_info_identifier"] == "pa"
    assert b1.ok("TIMFriendshipReportPendencyReaded", 0) is None
    read.wait(lambda e: e[0] == "TIMSetFriendApplicationListReadCallback")
    handle = {"friend_response_identifier": "pa", "friend_response_action": 1}
    answer = b2.ok("TIMFriendshipHandleFriendAddRequest", json.dumps(handle))
    assert answer["friend_result_code"] == 0
    gone.wait(
        lambda e: (
            e[0] == "TIMSetFriendApplicationListDeletedCallback" and json.loads(e[1]) == ["pb"]
        )
    )
    gone.wait(lambda e: e[0] == "TIMSetOnAddFriendCallback" and json.loads(e[1]) == ["pb"])
    missing = b2.ok("TIMFriendshipHandleFriendAddRequest", json.dumps(handle))
    assert missing["friend_result_code"] == 30614


def test_deny_any_delete_one_way_and_pendency_delete(make_tim: Any, server: Any) -> None:
    a, b, c = make_tim("da"), make_tim("db"), make_tim("dc")
    permission(server, b.user_id, DENY_ANY)
    assert add(a, "db")["friend_result_code"] == 30516
    permission(server, c.user_id, NEED_CONFIRM)
    assert add(a, "dc")["friend_result_code"] == 30539
    withdraw = {
        "friendship_delete_pendency_param_type": 1,
        "friendship_delete_pendency_param_identifier_array": ["dc"],
    }
    [r] = a.ok("TIMFriendshipDeletePendency", json.dumps(withdraw))
    assert r["friend_result_code"] == 0
    permission(server, c.user_id, ALLOW_ANY)
    add(a, "dc")
    deleted = listen(c, "TIMSetOnDeleteFriendCallback")
    one_way = {
        "friendship_delete_friend_param_friend_type": 0,
        "friendship_delete_friend_param_identifier_array": ["dc"],
    }
    [r] = a.ok("TIMFriendshipDeleteFriend", json.dumps(one_way))
    assert r["friend_result_code"] == 0
    check = {"friendship_check_friendtype_param_identifier_array": ["dc"]}
    [rel] = a.ok("TIMFriendshipCheckFriendType", json.dumps(check))
    assert rel["friendship_check_friendtype_result_relation"] == 2  # only dc has me now
    both = {**one_way, "friendship_delete_friend_param_friend_type": 1}
    a.ok("TIMFriendshipDeleteFriend", json.dumps(both))
    deleted.wait(lambda e: json.loads(e[1]) == ["da"])


def test_remark_is_the_conversation_name_and_profile_updates(make_tim: Any, server: Any) -> None:
    a1, a2 = make_tim("ra1", "r1"), make_tim("ra1", "r2")
    b = make_tim("rb1")
    permission(server, b.user_id, ALLOW_ANY)
    b.send_text("ra1", C2C, "hi")
    a2.conv_events.wait(
        lambda e: e.has(k.kTIMConvEvent_Add, "rb1") or e.has(k.kTIMConvEvent_Update, "rb1")
    )
    add(a1, "rb1")
    updates = listen(a2, "TIMSetUpdateFriendProfileCallback")
    mark = a2.conv_events.mark()
    modify = {
        "friendship_modify_friend_profile_param_identifier": "rb1",
        "friendship_modify_friend_profile_param_item": {
            "friend_profile_item_remark": "Robert",
            "friend_profile_item_custom_string_array": [
                {
                    "friend_profile_custom_string_info_key": "Tag_SNS_Custom_x",
                    "friend_profile_custom_string_info_value": "v",
                }
            ],
        },
    }
    assert a1.ok("TIMFriendshipModifyFriendProfile", json.dumps(modify)) is None
    _, text = updates.wait(lambda e: True)
    [update] = json.loads(text)
    assert update["friend_profile_update_identifier"] == "rb1"
    assert update["friend_profile_update_item"]["friend_profile_item_remark"] == "Robert"
    a2.conv_events.wait(
        lambda e: (
            any(c[k.CONV_SHOW_NAME] == "Robert" for c in e.convs if c[k.CONV_ID] == "rb1")
            if e.event == k.kTIMConvEvent_Update
            else False
        ),
        since=mark,
    )
    info = a2.conv("rb1", C2C)
    assert info is not None
    assert info[k.CONV_SHOW_NAME] == "Robert"
    search = {
        "friendship_search_param_keyword_list": ["rob"],
        "friendship_search_param_search_field_list": [4],
    }
    [hit] = a1.ok("TIMFriendshipSearchFriends", json.dumps(search))
    assert hit["friendship_friend_info_get_result_identifier"] == "rb1"


def test_blacklist_blocks_messages_with_20007(make_tim: Any, server: Any) -> None:
    a1, a2 = make_tim("ba", "ba1"), make_tim("ba", "ba2")
    b = make_tim("bb")
    events = listen(
        a2, "TIMSetFriendBlackListAddedCallback", "TIMSetFriendBlackListDeletedCallback"
    )
    [r] = a1.ok("TIMFriendshipAddToBlackList", json.dumps(["bb"]))
    assert r["friend_result_code"] == 0
    _, text = events.wait(lambda e: e[0] == "TIMSetFriendBlackListAddedCallback")
    assert [f["friend_profile_identifier"] for f in json.loads(text)] == ["bb"]
    [blocked] = a2.ok("TIMFriendshipGetBlackList")
    assert blocked["friend_profile_identifier"] == "bb"
    msg = {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: "x"}]}
    refused = b.call("TIMMsgSendMessage", "ba", C2C, json.dumps(msg), None)
    assert refused.code == 20007
    a1.ok("TIMFriendshipDeleteFromBlackList", json.dumps(["bb"]))
    events.wait(
        lambda e: e[0] == "TIMSetFriendBlackListDeletedCallback" and json.loads(e[1]) == ["bb"]
    )
    b.send_text("ba", C2C, "back")
    assert a1.sdk.TIMFriendshipAddToBlackList("not json", lambda *a: None, None) == k.TIM_ERR_JSON


def test_friend_groups(make_tim: Any, server: Any) -> None:
    a1, a2 = make_tim("ga", "ga1"), make_tim("ga", "ga2")
    for peer in ("gb", "gc"):
        make_tim(peer)
        permission(server, peer, ALLOW_ANY)
        add(a1, peer)
    events = listen(
        a2,
        "TIMSetFriendGroupCreatedCallback",
        "TIMSetFriendGroupDeletedCallback",
        "TIMSetFriendGroupNameChangedCallback",
        "TIMSetFriendsAddedToGroupCallback",
        "TIMSetFriendsDeletedFromGroupCallback",
    )
    create = {
        "friendship_create_friend_group_param_name_array": ["close"],
        "friendship_create_friend_group_param_identifier_array": ["gb", "zz"],
    }
    results = a1.ok("TIMFriendshipCreateFriendGroup", json.dumps(create))
    assert [r["friend_result_code"] for r in results] == [0, 31704]
    _, name, text = events.wait(lambda e: e[0] == "TIMSetFriendGroupCreatedCallback")
    assert name == "close"
    assert [f["friend_profile_identifier"] for f in json.loads(text)] == ["gb"]
    modify = {
        "friendship_modify_friend_group_param_name": "close",
        "friendship_modify_friend_group_param_new_name": "best",
        "friendship_modify_friend_group_param_add_identifier_array": ["gc"],
        "friendship_modify_friend_group_param_delete_identifier_array": ["gb"],
    }
    a1.ok("TIMFriendshipModifyFriendGroup", json.dumps(modify))
    assert events.wait(lambda e: e[0] == "TIMSetFriendGroupNameChangedCallback")[1:] == (
        "close",
        "best",
    )
    events.wait(lambda e: e[0] == "TIMSetFriendsAddedToGroupCallback")
    _, name, ids = events.wait(lambda e: e[0] == "TIMSetFriendsDeletedFromGroupCallback")
    assert (name, json.loads(ids)) == ("best", ["gb"])
    [group] = a2.ok("TIMFriendshipGetFriendGroupList", None)
    assert group == {
        "friend_group_info_name": "best",
        "friend_group_info_count": 1,
        "friend_group_info_identifier_array": ["gc"],
    }
    assert a1.ok("TIMFriendshipDeleteFriendGroup", json.dumps(["best"])) is None
    _, names = events.wait(lambda e: e[0] == "TIMSetFriendGroupDeletedCallback")
    assert json.loads(names) == ["best"]


def test_follows(make_tim: Any, server: Any) -> None:
    a1, a2 = make_tim("wa", "wa1"), make_tim("wa", "wa2")
    b = make_tim("wb")
    mine = listen(
        a2, "TIMSetMyFollowingListChangedCallback", "TIMSetMutualFollowersListChangedCallback"
    )
    theirs = listen(b, "TIMSetMyFollowersListChangedCallback")
    [r] = a1.ok("TIMFollowUser", json.dumps(["wb"]))
    assert r == {
        "follow_operation_result_user_id": "wb",
        "follow_operation_result_code": 0,
        "follow_operation_result_Info": "",
    }
    _, users, is_add = mine.wait(lambda e: e[0] == "TIMSetMyFollowingListChangedCallback")
    assert is_add is True
    assert json.loads(users)[0][k.USER_PROFILE_IDENTIFIER] == "wb"
    _, users, is_add = theirs.wait(lambda e: True)
    assert json.loads(users)[0][k.USER_PROFILE_IDENTIFIER] == "wa"
    b.ok("TIMFollowUser", json.dumps(["wa"]))
    mine.wait(lambda e: e[0] == "TIMSetMutualFollowersListChangedCallback" and e[2] is True)
    page = a1.ok("TIMGetMutualFollowersList", None)
    assert page["follow_list_result_next_cursor"] == ""
    assert [u[k.USER_PROFILE_IDENTIFIER] for u in page["follow_list_result_user_info_list"]] == [
        "wb"
    ]
    assert len(a1.ok("TIMGetMyFollowersList", "")["follow_list_result_user_info_list"]) == 1
    [counts] = a1.ok("TIMGetUserFollowInfo", json.dumps(["wa"]))
    assert (
        counts["follow_info_following_count"],
        counts["follow_info_followers_count"],
        counts["follow_info_mutual_followers_count"],
    ) == (1, 1, 1)
    [t] = a1.ok("TIMCheckFollowType", json.dumps(["wb"]))
    assert t["follow_type_check_result_follow_type"] == 3
    a1.ok("TIMUnfollowUser", json.dumps(["wb"]))
    [t] = a1.ok("TIMCheckFollowType", json.dumps(["wb"]))
    assert t["follow_type_check_result_follow_type"] == 2
    assert a1.ok("TIMGetMyFollowingList", None)["follow_list_result_user_info_list"] == []


def test_official_accounts(make_tim: Any, server: Any) -> None:
    a1, a2 = make_tim("oa", "oa1"), make_tim("oa", "oa2")
    events = listen(
        a2,
        "TIMSetOfficialAccountSubscribedCallback",
        "TIMSetOfficialAccountUnsubscribedCallback",
        "TIMSetOfficialAccountInfoChangedCallback",
        "TIMSetOfficialAccountDeletedCallback",
    )
    server.admin(lambda s: s.friends.put_account(OfficialAccount(account_id="news", name="News")))
    assert a1.ok("TIMSubscribeOfficialAccount", "news") is None
    _, text = events.wait(lambda e: e[0] == "TIMSetOfficialAccountSubscribedCallback")
    assert json.loads(text)["official_account_name"] == "News"
    [info] = a2.ok("TIMGetOfficialAccountsInfo", None)
    assert info["get_official_accounts_info"]["official_account_subscriber_count"] == 1
    server.admin(lambda s: s.friends.put_account(OfficialAccount(account_id="news", name="Daily")))
    _, text = events.wait(lambda e: e[0] == "TIMSetOfficialAccountInfoChangedCallback")
    assert json.loads(text)["official_account_name"] == "Daily"
    server.admin(lambda s: s.friends.delete_account("news"))
    assert events.wait(lambda e: e[0] == "TIMSetOfficialAccountDeletedCallback")[1] == "news"
    assert a1.call("TIMSubscribeOfficialAccount", "news").code == 30003


BAD_CALLS: list[tuple[str, tuple[Any, ...], int]] = [
    ("TIMFriendshipAddFriend", ("not json",), k.TIM_ERR_JSON),
    ("TIMFriendshipAddFriend", ("[]",), k.TIM_ERR_JSON),
    ("TIMFriendshipAddFriend", ("{}",), k.TIM_ERR_PARAM),
    (
        "TIMFriendshipAddFriend",
        (json.dumps({"friendship_add_friend_param_identifier": 5}),),
        k.TIM_ERR_PARAM,
    ),
    (
        "TIMFriendshipAddFriend",
        (
            json.dumps(
                {
                    "friendship_add_friend_param_identifier": "x",
                    "friendship_add_friend_param_friend_type": 7,
                }
            ),
        ),
        k.TIM_ERR_PARAM,
    ),
    ("TIMFriendshipAddFriend", (None,), k.TIM_ERR_PARAM),
    ("TIMFriendshipDeleteFriend", ("{}",), k.TIM_ERR_PARAM),
    ("TIMFriendshipCheckFriendType", ("{}",), k.TIM_ERR_PARAM),
    ("TIMFriendshipGetFriendsInfo", ("[]",), k.TIM_ERR_PARAM),
    ("TIMFriendshipGetFriendsInfo", ("[1]",), k.TIM_ERR_PARAM),
    ("TIMFriendshipGetFriendsInfo", ("{}",), k.TIM_ERR_JSON),
    ("TIMFriendshipModifyFriendProfile", ("{}",), k.TIM_ERR_PARAM),
    (
        "TIMFriendshipModifyFriendProfile",
        (json.dumps({"friendship_modify_friend_profile_param_identifier": "x"}),),
        k.TIM_ERR_PARAM,
    ),
    ("TIMFriendshipSearchFriends", ("{}",), k.TIM_ERR_PARAM),
    (
        "TIMFriendshipGetPendencyList",
        (json.dumps({"friendship_get_pendency_list_param_type": 9}),),
        k.TIM_ERR_PARAM,
    ),
    ("TIMFriendshipHandleFriendAddRequest", ("{}",), k.TIM_ERR_PARAM),
    ("TIMFriendshipReportPendencyReaded", (-1,), k.TIM_ERR_PARAM),
    ("TIMFriendshipReportPendencyReaded", ("0",), k.TIM_ERR_PARAM),
    (
        "TIMFriendshipDeletePendency",
        (json.dumps({"friendship_delete_pendency_param_type": 2}),),
        k.TIM_ERR_PARAM,
    ),
    ("TIMFriendshipAddToBlackList", ("oops",), k.TIM_ERR_JSON),
    ("TIMFriendshipDeleteFromBlackList", ("[]",), k.TIM_ERR_PARAM),
    ("TIMFriendshipCreateFriendGroup", ("{}",), k.TIM_ERR_PARAM),
    ("TIMFriendshipGetFriendGroupList", ("{}",), k.TIM_ERR_JSON),
    ("TIMFriendshipDeleteFriendGroup", ("[]",), k.TIM_ERR_PARAM),
    ("TIMFriendshipModifyFriendGroup", ("{}",), k.TIM_ERR_PARAM),
    ("TIMSubscribeOfficialAccount", ("",), k.TIM_ERR_PARAM),
    ("TIMUnsubscribeOfficialAccount", (None,), k.TIM_ERR_PARAM),
    ("TIMGetOfficialAccountsInfo", ("[3]",), k.TIM_ERR_PARAM),
    ("TIMFollowUser", (json.dumps(["u"] * 101),), k.TIM_ERR_PARAM),
    ("TIMUnfollowUser", ("",), k.TIM_ERR_JSON),
    ("TIMGetMyFollowingList", (5,), k.TIM_ERR_PARAM),
    ("TIMGetUserFollowInfo", ("{",), k.TIM_ERR_JSON),
    ("TIMCheckFollowType", ("[]",), k.TIM_ERR_PARAM),
]


def test_bad_input_is_refused_synchronously_and_changes_nothing(make_tim: Any) -> None:
    """DESIGN §6's synchronous codes for every friendship function; the callback never runs and
    the user's friendship state stays as it was. A missing callback is TIM_ERR_PARAM, and a
    call before login TIM_ERR_NOTLOGIN."""
    me = make_tim("bad-me")
    calls: list[Any] = []
    before = (me.ok("TIMFriendshipGetFriendProfileList"), me.ok("TIMFriendshipGetBlackList"))
    for name, args, code in BAD_CALLS:
        got = getattr(me.sdk, name)(*args, lambda *a: calls.append(a), None)
        assert got == code, (name, args, got)
    assert me.sdk.TIMFriendshipGetBlackList(None, None) == k.TIM_ERR_PARAM
    assert me.sdk.TIMFollowUser(json.dumps(["u"]), None, None) == k.TIM_ERR_PARAM
    with pytest.raises(TypeError):
        me.sdk.TIMSetOnAddFriendCallback(42, None)
    assert calls == []
    after = (me.ok("TIMFriendshipGetFriendProfileList"), me.ok("TIMFriendshipGetBlackList"))
    assert after == before
    fresh = make_tim()
    assert (
        fresh.sdk.TIMFriendshipGetBlackList(lambda *a: calls.append(a), None) == k.TIM_ERR_NOTLOGIN
    )
    assert calls == []
