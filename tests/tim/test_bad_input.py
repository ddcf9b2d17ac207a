"""Bad input: each refusal has the code DESIGN §6 gives, never calls back, and changes nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from opentim.tim import TIMSDK, keys as k

from .conftest import SDKAPPID, ServerThread, Tim

pytestmark = pytest.mark.e2e

C2C, GROUP = k.kTIMConv_C2C, k.kTIMConv_Group
TEXT = json.dumps({k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "hi"}]})


class NeverCalled:
    """A callback for refused calls: it must never run."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)


def snapshot(tim: Tim) -> tuple[Any, ...]:
    """The user's visible state; a call with a callback is also a barrier: every change made
    before it (and its events) has reached the app by the time it answers."""
    return (tim.conv_list(), tim.total_unread())


def test_calls_before_init_and_after_uninit_are_refused(make_tim: Any) -> None:
    cb = NeverCalled()
    sdk = TIMSDK()
    assert sdk.TIMConvGetConvList(cb, None) == k.TIM_ERR_SDKUNINIT
    assert sdk.TIMLogin("someone", "sig", cb, None) == k.TIM_ERR_SDKUNINIT
    assert sdk.TIMLogout(cb, None) == k.TIM_ERR_SDKUNINIT
    assert sdk.TIMConvSetDraft("x", C2C, "{}") == k.TIM_ERR_SDKUNINIT
    assert sdk.TIMGetLoginUserID(bytearray(8)) == k.TIM_ERR_SDKUNINIT
    assert sdk.TIMUninit() == k.TIM_ERR_SDKUNINIT
    assert sdk.TIMGetLoginStatus() == k.kTIMLoginStatus_UnLogined

    tim: Tim = make_tim("uninit-user")
    assert tim.sdk.TIMUninit() == k.TIM_SUCC
    assert tim.sdk.TIMConvGetConvList(cb, None) == k.TIM_ERR_SDKUNINIT
    assert tim.sdk.TIMMsgSendMessage("x", C2C, TEXT, None, cb, None) == k.TIM_ERR_SDKUNINIT
    assert tim.sdk.TIMGetLoginStatus() == k.kTIMLoginStatus_UnLogined
    assert cb.calls == []


def test_calls_before_login_are_refused(make_tim: Any) -> None:
    cb = NeverCalled()
    tim: Tim = make_tim()
    sdk = tim.sdk
    assert sdk.TIMGetLoginStatus() == k.kTIMLoginStatus_UnLogined
    assert sdk.TIMConvGetConvList(cb, None) == k.TIM_ERR_NOTLOGIN
    assert sdk.TIMConvCreate("x", C2C, cb, None) == k.TIM_ERR_NOTLOGIN
    assert sdk.TIMConvSetDraft("x", C2C, "{}") == k.TIM_ERR_NOTLOGIN
    assert sdk.TIMMsgSendMessage("x", C2C, TEXT, None, cb, None) == k.TIM_ERR_NOTLOGIN
    assert sdk.TIMGroupGetJoinedGroupList(cb, None) == k.TIM_ERR_NOTLOGIN
    assert sdk.TIMGetLoginUserID(bytearray(8)) == k.TIM_ERR_NOTLOGIN

    tim.login("login-user")
    assert sdk.TIMGetLoginStatus() == k.kTIMLoginStatus_Logined
    assert tim.ok("TIMLogout") is None
    assert sdk.TIMGetLoginStatus() == k.kTIMLoginStatus_UnLogined
    assert sdk.TIMConvGetConvList(cb, None) == k.TIM_ERR_NOTLOGIN
    assert cb.calls == []


def test_login_refusals_arrive_through_the_callback(make_tim: Any, server: ServerThread) -> None:
    tim: Tim = make_tim()
    now = int(time.time())
    cases = {
        "expired": (("sig-user", server.sig("sig-user", now=now - 1000, expire=10)), 70001),
        "bad signature": (("sig-user", "not-a-user-sig"), 70003),
        "another user's sig": (("sig-user", server.sig("someone-else")), 70013),
        "invalid user id": (("x" * 33, server.sig("x" * 33)), 7003),
    }
    for name, ((user, sig), code) in cases.items():
        res = tim.call("TIMLogin", user, sig)
        assert res.code == code, name
        assert res.json_params == ""
        assert tim.sdk.TIMGetLoginStatus() == k.kTIMLoginStatus_UnLogined, name

    other: Tim = make_tim(sdkappid=SDKAPPID + 1)
    res = other.call("TIMLogin", "sig-user", server.sig("sig-user"))
    assert res.code == 70014, "a TIMInit sdk_app_id the server does not serve"


def test_bad_json_is_refused_with_tim_err_json(make_tim: Any) -> None:
    make_tim("json-peer")
    tim: Tim = make_tim("json-user")
    cb = NeverCalled()
    before = snapshot(tim)
    sdk = tim.sdk
    assert sdk.TIMConvGetConvInfo("not json", cb, None) == k.TIM_ERR_JSON
    assert sdk.TIMConvGetConvInfo("{}", cb, None) == k.TIM_ERR_JSON, "an object, not an array"
    assert sdk.TIMConvGetConvInfo("[1]", cb, None) == k.TIM_ERR_JSON
    assert sdk.TIMMsgSendMessage("json-peer", C2C, "[]", None, cb, None) == k.TIM_ERR_JSON
    assert sdk.TIMMsgSendMessage("json-peer", C2C, "{", None, cb, None) == k.TIM_ERR_JSON
    assert sdk.TIMMsgSendMessage("json-peer", C2C, "", None, cb, None) == k.TIM_ERR_JSON
    assert sdk.TIMConvSetDraft("json-peer", C2C, "draft") == k.TIM_ERR_JSON
    assert sdk.TIMGroupCreate('"group"', cb, None) == k.TIM_ERR_JSON
    assert sdk.TIMMsgGetMsgList("json-peer", C2C, "[]", cb, None) == k.TIM_ERR_JSON
    assert sdk.TIMInit(SDKAPPID, "{") == k.TIM_ERR_JSON
    assert sdk.TIMInit(SDKAPPID, "[]") == k.TIM_ERR_JSON
    assert TIMSDK().TIMInit(SDKAPPID, "{") == k.TIM_ERR_JSON
    assert sdk.TIMInit(SDKAPPID, None) == k.TIM_SUCC, "already initialised: the first config stays"
    assert snapshot(tim) == before
    assert cb.calls == []


def test_bad_conversation_arguments(make_tim: Any) -> None:
    make_tim("conv-peer")
    tim: Tim = make_tim("conv-user")
    tim.ok("TIMConvCreate", "conv-peer", C2C)
    cb = NeverCalled()
    before = snapshot(tim)
    sdk = tim.sdk
    for bad_type in (0, 3, 99, -1):
        assert sdk.TIMConvCreate("conv-peer", bad_type, cb, None) == k.TIM_ERR_CONV
        assert sdk.TIMConvPinConversation("conv-peer", bad_type, True, cb, None) == k.TIM_ERR_CONV
        assert sdk.TIMConvSetDraft("conv-peer", bad_type, "{}") == k.TIM_ERR_CONV
    assert sdk.TIMConvCleanConversationUnreadMessageCount("user_x", 0, 0, cb, None) == (
        k.TIM_ERR_CONV
    )
    assert sdk.TIMConvCreate("", C2C, cb, None) == k.TIM_ERR_PARAM, "empty id"
    assert sdk.TIMConvDelete("", GROUP, cb, None) == k.TIM_ERR_PARAM
    assert sdk.TIMConvCleanConversationUnreadMessageCount("c2c_", 0, 0, cb, None) == (
        k.TIM_ERR_PARAM
    )
    param = [
        {k.GET_CONVERSATION_LIST_PARAM_CONV_ID: "", k.GET_CONVERSATION_LIST_PARAM_CONV_TYPE: 1}
    ]
    assert sdk.TIMConvGetConvInfo(json.dumps(param), cb, None) == k.TIM_ERR_PARAM
    param = [
        {k.GET_CONVERSATION_LIST_PARAM_CONV_ID: "a", k.GET_CONVERSATION_LIST_PARAM_CONV_TYPE: 5}
    ]
    assert sdk.TIMConvGetConvInfo(json.dumps(param), cb, None) == k.TIM_ERR_CONV
    assert snapshot(tim) == before
    assert cb.calls == []


def test_wrong_python_types_and_missing_callbacks_are_tim_err_param(make_tim: Any) -> None:
    make_tim("type-peer")
    tim: Tim = make_tim("type-user")
    tim.ok("TIMConvCreate", "type-peer", C2C)
    cb = NeverCalled()
    before = snapshot(tim)
    sdk: Any = tim.sdk  # typed loosely on purpose: these are the wrong types
    P = k.TIM_ERR_PARAM
    assert sdk.TIMConvGetConvList(None, None) == P, "a TIMCommCallback is required"
    assert sdk.TIMConvGetConvList("not callable", None) == P
    assert sdk.TIMConvCreate(None, C2C, cb, None) == P
    assert sdk.TIMConvCreate(42, C2C, cb, None) == P
    assert sdk.TIMConvCreate("type-peer", "1", cb, None) == P
    assert sdk.TIMConvCreate("type-peer", True, cb, None) == P, "bool is not TIMConvType"
    assert sdk.TIMConvPinConversation("type-peer", C2C, 1, cb, None) == P, "is_pinned is a bool"
    assert sdk.TIMConvPinConversation("type-peer", C2C, True, None, None) == P
    assert sdk.TIMConvGetConvInfo({"a": 1}, cb, None) == P, "JSON comes as a str"
    assert sdk.TIMConvGetConvInfo(None, cb, None) == P
    assert sdk.TIMMsgSendMessage("type-peer", C2C, TEXT, b"buffer", cb, None) == P
    assert sdk.TIMMsgSendMessage("type-peer", C2C, TEXT, None, None, None) == P
    assert sdk.TIMMsgSendMessage("type-peer", C2C, "{}", None, cb, None) == P, "no elements"
    no_elems = json.dumps({k.MESSAGE_ELEM_ARRAY: []})
    assert sdk.TIMMsgSendMessage("type-peer", C2C, no_elems, None, cb, None) == P
    bad_elem = json.dumps({k.MESSAGE_ELEM_ARRAY: [{k.TEXT_ELEM_CONTENT: "no type"}]})
    assert sdk.TIMMsgSendMessage("type-peer", C2C, bad_elem, None, cb, None) == P
    bad_text = json.dumps({k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: 5}]})
    assert sdk.TIMMsgSendMessage("type-peer", C2C, bad_text, None, cb, None) == P
    bad_priority = json.dumps({**json.loads(TEXT), k.MESSAGE_PRIORITY: 9})
    assert sdk.TIMMsgSendMessage("type-peer", C2C, bad_priority, None, cb, None) == P
    assert sdk.TIMConvCleanConversationUnreadMessageCount("", -1, 0, cb, None) == P
    assert sdk.TIMConvCleanConversationUnreadMessageCount(5, 0, 0, cb, None) == P
    assert sdk.TIMGetLoginUserID([0] * 8) == P
    assert sdk.TIMLogin(123, "sig", cb, None) == P
    assert sdk.TIMGroupJoin("g", 5, cb, None) == P
    with pytest.raises(TypeError):
        sdk.TIMSetConvEventCallback("not callable", None)
    assert snapshot(tim) == before
    assert cb.calls == []


def test_over_long_draft_is_refused_and_nothing_changes(make_tim: Any) -> None:
    make_tim("draft-peer2")
    tim: Tim = make_tim("draft-user2")
    tim.ok("TIMConvCreate", "draft-peer2", C2C)
    before = snapshot(tim)
    mark = tim.conv_events.mark()
    huge = {
        k.DRAFT_MSG: {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "x" * 12_300}]}
    }
    assert tim.sdk.TIMConvSetDraft("draft-peer2", C2C, json.dumps(huge)) == k.TIM_ERR_PARAM
    multibyte = {k.DRAFT_USER_DEFINE: "é" * 6_200}  # 12,400 bytes of UTF-8, 6,200 characters
    assert tim.sdk.TIMConvSetDraft(
        "draft-peer2", C2C, json.dumps(multibyte, ensure_ascii=False)
    ) == (k.TIM_ERR_PARAM)
    assert snapshot(tim) == before
    assert tim.conv_events.items[mark:] == [], "no Update event: nothing was stored"


def test_unknown_conversation_and_oversized_message_fail_through_the_callback(
    make_tim: Any,
) -> None:
    peer: Tim = make_tim("big-peer")
    tim: Tim = make_tim("big-user")
    before = snapshot(tim)
    peer_before = snapshot(peer)

    for name, args in [
        ("TIMConvDelete", ("never-seen", C2C)),
        ("TIMConvPinConversation", ("never-seen", C2C, True)),
        ("TIMMsgReportReaded", ("never-seen", C2C, None)),
        ("TIMConvCleanConversationUnreadMessageCount", ("group_never-seen", 0, 0)),
    ]:
        res = tim.call(name, *args)
        assert (res.code, res.json_params) == (6004, ""), name

    big = json.dumps({k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "x" * 13_000}]})
    buffer = bytearray(128)
    res = tim.call("TIMMsgSendMessage", "big-peer", C2C, big, buffer)
    assert (res.code, res.json_params) == (8001, "")
    assert buffer.index(0) > 0, "the message id was written before the send failed"

    res = tim.call("TIMMsgSendMessage", "nobody-here", C2C, TEXT, None)
    assert res.code == 6032
    res = tim.call("TIMMsgSendMessage", "no-such-group", GROUP, TEXT, None)
    assert res.code == 10010
    peer.create_group("closed-group", [])
    res = tim.call("TIMMsgSendMessage", "closed-group", GROUP, TEXT, None)
    assert res.code == 10007
    assert snapshot(tim) == before
    assert snapshot(peer)[1] == peer_before[1]


def test_group_arguments(make_tim: Any) -> None:
    tim: Tim = make_tim("group-user")
    cb = NeverCalled()
    before = snapshot(tim)
    sdk: Any = tim.sdk
    G = k.TIM_ERR_GROUP
    assert sdk.TIMGroupCreate(json.dumps({k.CREATE_GROUP_PARAM_GROUP_ID: "g1"}), cb, None) == G
    too_long = {k.CREATE_GROUP_PARAM_GROUP_NAME: "n" * 101}
    assert sdk.TIMGroupCreate(json.dumps(too_long), cb, None) == G
    bad_id = {k.CREATE_GROUP_PARAM_GROUP_NAME: "ok", k.CREATE_GROUP_PARAM_GROUP_ID: "g" * 49}
    assert sdk.TIMGroupCreate(json.dumps(bad_id), cb, None) == G
    assert sdk.TIMGroupJoin("bad\x01id", None, cb, None) == G
    assert sdk.TIMGroupDelete("g" * 49, cb, None) == G
    invite = {
        k.GROUP_INVITE_MEMBER_PARAM_GROUP_ID: "\t",
        k.GROUP_INVITE_MEMBER_PARAM_IDENTIFIER_ARRAY: [],
    }
    assert sdk.TIMGroupInviteMember(json.dumps(invite), cb, None) == G
    assert sdk.TIMGroupQuit("", cb, None) == k.TIM_ERR_PARAM, "empty id"
    bad_type = {k.CREATE_GROUP_PARAM_GROUP_NAME: "ok", k.CREATE_GROUP_PARAM_GROUP_TYPE: 42}
    assert sdk.TIMGroupCreate(json.dumps(bad_type), cb, None) == k.TIM_ERR_PARAM
    bad_members = {
        k.CREATE_GROUP_PARAM_GROUP_NAME: "ok",
        k.CREATE_GROUP_PARAM_GROUP_MEMBER_ARRAY: ["x"],
    }
    assert sdk.TIMGroupCreate(json.dumps(bad_members), cb, None) == k.TIM_ERR_PARAM
    assert snapshot(tim) == before
    assert tim.ok("TIMGroupGetJoinedGroupList") == []
    assert cb.calls == []


def test_buffers_are_filled_with_a_nul_terminated_id(make_tim: Any) -> None:
    make_tim("buf-peer")
    tim: Tim = make_tim("buf-user")
    big = bytearray(b"\xff" * 128)
    assert tim.sdk.TIMGetLoginUserID(big) == k.TIM_SUCC
    assert bytes(big[:9]) == b"buf-user\0"
    assert len(big) == 128, "a large enough buffer keeps its size"
    small = bytearray(2)
    assert tim.sdk.TIMGetLoginUserID(small) == k.TIM_SUCC
    assert bytes(small) == b"buf-user\0", "a short buffer grows to fit"
    assert tim.sdk.TIMGetLoginUserID(None) == k.TIM_SUCC

    msg_buffer = bytearray(128)
    ret, wait = tim.start("TIMMsgSendMessage", "buf-peer", C2C, TEXT, msg_buffer)
    assert ret == k.TIM_SUCC
    msg_id = bytes(msg_buffer[: msg_buffer.index(0)]).decode()
    assert msg_id, "filled synchronously, before the call returned"
    res = wait()
    assert res.code == 0
    assert res.value[k.MESSAGE_MSG_ID] == msg_id
