"""The user functions of TIMManager.h, TIMOfflinePushManager.h and the named TIMMsg functions,
through the TIM layer with Tencent's JSON keys: results, callbacks, and the synchronous codes
of bad input (DESIGN §6) with nothing changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from opentim.capi import reference as ref
from opentim.tim import keys as k, user_keys as uk

from .conftest import Stream, Tim

BOTH_ENGINES = True

C2C = k.kTIMConv_C2C
HOBBY = "Tag_Profile_Custom_Hobby"


def test_user_keys_are_the_references() -> None:
    facts = {key.name: key.key for h in ref.headers() for key in h.keys}
    ours = {n: v for n, v in vars(uk).items() if n.isupper() and isinstance(v, str)}
    assert len(ours) == 33
    assert set(ours.values()) <= set(facts.values())
    assert [m.value for m in uk.TIMOfflinePushTokenType] == [
        ref.c_int(v) for _, v in ref.enums()["TIMOfflinePushTokenType"].values
    ]


def listen(tim: Tim, setter: str) -> Stream:
    seen = Stream()
    getattr(tim.sdk, setter)(lambda js, ud: seen.append(json.loads(js)), None)
    return seen


def test_profile_custom_fields_by_bare_name_or_full_tag(make_tim: Callable[..., Tim]) -> None:
    me = make_tim("pat")
    item = {
        uk.USER_PROFILE_ITEM_NICK_NAME: "Pat",
        uk.USER_PROFILE_ITEM_LEVEL: 3,
        uk.USER_PROFILE_ITEM_CUSTOM_STRING_ARRAY: [
            {
                k.USER_PROFILE_CUSTOM_STRING_INFO_KEY: "Hobby",
                k.USER_PROFILE_CUSTOM_STRING_INFO_VALUE: "go",
            },
            {
                k.USER_PROFILE_CUSTOM_STRING_INFO_KEY: "Tag_Profile_Custom_City",
                k.USER_PROFILE_CUSTOM_STRING_INFO_VALUE: "Rome",
            },
        ],
    }
    assert me.ok("TIMProfileModifySelfUserProfile", json.dumps(item)) is None
    ask = {uk.FRIENDSHIP_GET_PROFILE_LIST_PARAM_IDENTIFIER_ARRAY: ["pat", "nobody"]}
    [p] = me.ok("TIMProfileGetUserProfileList", json.dumps(ask))
    assert (p[k.USER_PROFILE_NICK_NAME], p[k.USER_PROFILE_LEVEL]) == ("Pat", 3)
    assert {
        c[k.USER_PROFILE_CUSTOM_STRING_INFO_KEY]: c[k.USER_PROFILE_CUSTOM_STRING_INFO_VALUE]
        for c in p[k.USER_PROFILE_CUSTOM_STRING_ARRAY]
    } == {HOBBY: "go", "Tag_Profile_Custom_City": "Rome"}
    too_long = {uk.USER_PROFILE_ITEM_LOCATION: "x" * 17}
    assert me.call("TIMProfileModifySelfUserProfile", json.dumps(too_long)).code == 40601


def test_own_profile_change_reaches_the_other_device(make_tim: Callable[..., Tim]) -> None:
    one, two = make_tim("dee", device="one"), make_tim("dee", device="two")
    on_two = listen(two, "TIMSetSelfInfoUpdatedCallback")
    one.ok("TIMProfileModifySelfUserProfile", json.dumps({uk.USER_PROFILE_ITEM_NICK_NAME: "D"}))
    got = on_two.wait(lambda p: p[k.USER_PROFILE_NICK_NAME] == "D")
    assert got[k.USER_PROFILE_IDENTIFIER] == "dee"


def test_status_subscription_and_custom_status(make_tim: Callable[..., Tim]) -> None:
    watcher = make_tim("wat")
    seen = listen(watcher, "TIMSetUserStatusChangedCallback")
    assert watcher.ok("TIMSubscribeUserStatus", json.dumps(["sue"])) is None
    [now] = seen.wait(lambda s: s[0][k.USER_STATUS_IDENTIFIER] == "sue")
    assert now[k.USER_STATUS_STATUS_TYPE] == k.kTIMUserStatusType_UnLogined
    sue = make_tim("sue")
    seen.wait(lambda s: s[0][k.USER_STATUS_STATUS_TYPE] == k.kTIMUserStatusType_Online)
    sue.ok("TIMSetSelfStatus", json.dumps({k.USER_STATUS_CUSTOM_STATUS: "coding"}))
    seen.wait(lambda s: s[0][k.USER_STATUS_CUSTOM_STATUS] == "coding")
    [st] = watcher.ok("TIMGetUserStatus", json.dumps(["sue"]))
    assert st[k.USER_STATUS_ONLINE_DEVICES]
    assert st[k.USER_STATUS_CUSTOM_STATUS] == "coding"
    over = json.dumps({k.USER_STATUS_CUSTOM_STATUS: "x" * 101})
    assert sue.call("TIMSetSelfStatus", over).code == 6017


def test_search_result_keys(make_tim: Callable[..., Tim]) -> None:
    me = make_tim("searcher")
    for user in ("zed1", "zed2"):
        make_tim(user).ok(
            "TIMProfileModifySelfUserProfile",
            json.dumps({uk.USER_PROFILE_ITEM_NICK_NAME: f"Zed {user}"}),
        )
    param = {uk.USER_SEARCH_PARAM_KEYWORD_LIST: ["zed"], uk.USER_SEARCH_PARAM_SEARCH_COUNT: 1}
    page = me.ok("TIMSearchUsers", json.dumps(param))
    assert page[uk.USER_SEARCH_RESULT_TOTAL_COUNT] == 2
    assert page[uk.USER_SEARCH_RESULT_IS_FINISHED] is False
    param[uk.USER_SEARCH_PARAM_SEARCH_CURSOR] = page[uk.USER_SEARCH_RESULT_NEXT_CURSOR]
    rest = me.ok("TIMSearchUsers", json.dumps(param))
    assert [u[k.USER_PROFILE_IDENTIFIER] for u in rest[uk.USER_SEARCH_RESULT_USER_LIST]] == ["zed2"]
    assert rest[uk.USER_SEARCH_RESULT_IS_FINISHED] is True


def test_all_messages_option_daily_window_round_trips(make_tim: Callable[..., Tim]) -> None:
    one, two = make_tim("opt", device="one"), make_tim("opt", device="two")
    on_two = listen(two, "TIMSetMsgAllMessageReceiveOptionCallback")
    assert one.ok("TIMMsgSetAllReceiveMessageOpt", 2, 23, 30, 15, 7200) is None
    got = on_two.wait(lambda o: o[uk.MSG_ALL_RECV_MSG_OPT_LEVEL] == 2)
    assert (
        got[uk.MSG_ALL_RECV_MSG_OPT_START_HOUR],
        got[uk.MSG_ALL_RECV_MSG_OPT_START_MINUTE],
        got[uk.MSG_ALL_RECV_MSG_OPT_START_SECOND],
        got[uk.MSG_ALL_RECV_MSG_DURATION],
    ) == (23, 30, 15, 7200)
    assert two.ok("TIMMsgGetAllReceiveMessageOpt") == got


def test_read_all_and_find(make_tim: Callable[..., Tim]) -> None:
    me, a, b = make_tim("reader"), make_tim("ra"), make_tim("rb")
    assert me.total_unread() == 0  # the total-unread callback fires once it was asked for
    sent = a.send_text("reader", C2C, "one")
    b.send_text("reader", C2C, "two")
    me.totals.wait(lambda t: t == 2)
    [found] = me.ok("TIMMsgFindMessages", json.dumps([sent[k.MESSAGE_MSG_ID]]))
    assert found[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID]
    assert me.ok("TIMMsgMarkAllMessageAsRead") is None
    me.totals.wait(lambda t: t == 0)
    assert me.total_unread() == 0


BAD: list[tuple[str, tuple[Any, ...], int]] = [
    ("TIMProfileGetUserProfileList", ("{",), k.TIM_ERR_JSON),
    ("TIMProfileGetUserProfileList", ("[]",), k.TIM_ERR_JSON),
    (
        "TIMProfileGetUserProfileList",
        (json.dumps({uk.FRIENDSHIP_GET_PROFILE_LIST_PARAM_IDENTIFIER_ARRAY: []}),),
        k.TIM_ERR_PARAM,
    ),
    ("TIMProfileModifySelfUserProfile", ("{}",), k.TIM_ERR_PARAM),
    (
        "TIMProfileModifySelfUserProfile",
        (json.dumps({uk.USER_PROFILE_ITEM_GENDER: 7}),),
        k.TIM_ERR_PARAM,
    ),
    (
        "TIMProfileModifySelfUserProfile",
        (json.dumps({uk.USER_PROFILE_ITEM_NICK_NAME: 5}),),
        k.TIM_ERR_PARAM,
    ),
    ("TIMSubscribeUserStatus", ("[]",), k.TIM_ERR_PARAM),
    ("TIMSubscribeUserStatus", ('["' + "x" * 33 + '"]',), k.TIM_ERR_PARAM),
    ("TIMGetUserStatus", (json.dumps(["u"] * 101),), k.TIM_ERR_PARAM),
    ("TIMSubscribeUserInfo", ("{}",), k.TIM_ERR_JSON),
    ("TIMSearchUsers", (json.dumps({uk.USER_SEARCH_PARAM_GENDER: 9}),), k.TIM_ERR_PARAM),
    ("TIMSetSelfStatus", ("[]",), k.TIM_ERR_JSON),
    ("TIMMsgSetOfflinePushToken", (json.dumps({uk.OFFLINE_PUSH_TOKEN_TYPE: 5}),), k.TIM_ERR_PARAM),
    ("TIMMsgDoBackground", (-1,), k.TIM_ERR_PARAM),
    ("TIMMsgSetAllReceiveMessageOpt", (2, 24, 0, 0, 60), k.TIM_ERR_PARAM),
    ("TIMMsgSetAllReceiveMessageOpt", (9, 1, 0, 0, 60), k.TIM_ERR_PARAM),
    ("TIMMsgSetAllReceiveMessageOpt2", (2, -1, 60), k.TIM_ERR_PARAM),
    ("TIMMsgFindMessages", ("[]",), k.TIM_ERR_PARAM),
    ("TIMMsgFindMessages", ("[1]",), k.TIM_ERR_PARAM),
    ("TIMMsgFindByMsgLocatorList", ("p", C2C, json.dumps([{}])), k.TIM_ERR_PARAM),
    (
        "TIMMsgFindByMsgLocatorList",
        ("p", 7, json.dumps([{k.MESSAGE_LOCATOR_SEQ: 1}])),
        k.TIM_ERR_CONV,
    ),
    ("TIMMsgListDelete", ("p", C2C, json.dumps([{}])), k.TIM_ERR_PARAM),
]


@pytest.mark.parametrize(
    ("name", "args", "code"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_input_is_refused_synchronously(
    make_tim: Callable[..., Tim], name: str, args: tuple[Any, ...], code: int
) -> None:
    me = make_tim("bad")
    called: list[Any] = []
    ret = getattr(me.sdk, name)(*args, lambda *a: called.append(a), None)
    assert ret == code
    assert called == []


def test_before_login_the_calls_answer_not_logged_in(make_tim: Callable[..., Tim]) -> None:
    tim = make_tim()
    for name, args in (
        ("TIMGetUserStatus", ('["a"]',)),
        ("TIMMsgDoForeground", ()),
        ("TIMMsgMarkAllMessageAsRead", ()),
        ("TIMMsgGetAllReceiveMessageOpt", ()),
    ):
        assert getattr(tim.sdk, name)(*args, lambda *a: None, None) == k.TIM_ERR_NOTLOGIN


def test_an_open_all_messages_window_leaves_everything_out_of_the_total(
    make_tim: Callable[..., Tim],
) -> None:
    me, peer = make_tim("quiet"), make_tim("loud")
    assert me.total_unread() == 0
    peer.send_text("quiet", C2C, "hi")
    me.totals.wait(lambda t: t == 1)
    mark = me.totals.mark()
    # From the epoch on, with no end: open now. Not_Notify leaves conversations out.
    assert me.ok("TIMMsgSetAllReceiveMessageOpt2", k.kTIMRecvMsgOpt_Not_Notify, 0, 0) is None
    me.totals.wait(lambda t: t == 0, since=mark)
    assert me.total_unread() == 0
    later = make_tim("quiet")  # a new login learns the option from the server
    assert later.total_unread() == 0
    assert me.ok("TIMMsgSetAllReceiveMessageOpt2", k.kTIMRecvMsgOpt_Receive, 0, 0) is None
    assert me.total_unread() == 1
    # A window that ended long ago changes nothing.
    assert me.ok("TIMMsgSetAllReceiveMessageOpt2", k.kTIMRecvMsgOpt_Not_Notify, 1000, 60) is None
    assert me.total_unread() == 1


def test_the_total_follows_a_window_that_opens_by_itself(make_tim: Callable[..., Tim]) -> None:
    """A one-time window starting two seconds from now: the total-unread callback fires when it
    opens (0) and when it closes (the count again), with no call in between."""
    me, peer = make_tim("edge"), make_tim("edger")
    assert me.total_unread() == 0
    peer.send_text("edge", C2C, "hi")
    me.totals.wait(lambda t: t == 1)
    mark = me.totals.mark()
    start = me.sdk.TIMGetServerTime() + 2
    assert me.ok("TIMMsgSetAllReceiveMessageOpt2", k.kTIMRecvMsgOpt_Not_Notify, start, 2) is None
    me.totals.wait(lambda t: t == 0, since=mark, timeout=10)
    me.totals.wait(lambda t: t == 1, since=me.totals.mark(), timeout=10)
