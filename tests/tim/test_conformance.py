"""Conformance with the reference (DESIGN §6): the public names and parameters, and the JSON the
layer really emits in an end-to-end run that calls every function, checked key by key and type
by type against tim-keys.json. (Every other test's callbacks are checked too, by the
``recorder`` fixture.)"""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path
from typing import Any

import pytest

import opentim.tim
from opentim.protocol.friendship import OfficialAccount
from opentim.tim import TIMSDK, functions, keys as k
from opentim.tim.extensions import (
    OPENTIM_EXTENSIONS,
    SDK_CONFIG_SERVER_CA_FILE,
    SDK_CONFIG_SERVER_URL,
)
from opentim.tim.pending import PendingAPI

from .conformance import Checker, Record, Recorder
from .conftest import Stream, Tim

C2C, GROUP = k.kTIMConv_C2C, k.kTIMConv_Group
TIM_SRC = Path(opentim.tim.__file__).parent


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def param_names(declared: list[str]) -> list[str]:
    """``["const char* conv_id", "uint64_t clean_timestamp"]`` → ``["conv_id", ...]``."""
    return [p.split()[-1].lstrip("*") for p in declared]


# --- names and parameters -------------------------------------------------------------------
def test_every_function_of_the_headers_is_exported_with_its_parameters(checker: Checker) -> None:
    """All 244 functions of tim-c-all.json, each with the reference's parameter names in the
    reference's order, at module level and as a TIMSDK method; nothing else but TIMSDK."""
    facts = checker.all
    assert len(facts.functions) == facts.meta["counts"]["functions"] == 244
    assert set(opentim.tim.__all__) == {*facts.functions, "TIMSDK"}
    for name in facts.functions:
        expected = facts.params(name)
        module_params = list(inspect.signature(getattr(opentim.tim, name)).parameters)
        method_params = list(inspect.signature(getattr(TIMSDK, name)).parameters)
        assert module_params == expected, name
        assert method_params == ["self", *expected], name


def test_the_c_library_reads_the_same_header_facts_as_these_tests() -> None:
    """libImSDK is generated from the package's copy of tim-c-all.json; the tests check
    against their own copy: they must be the same file."""
    from importlib import resources

    from .conformance import ALL_FUNCTIONS

    packaged = resources.files("opentim.capi").joinpath("tim-c-all.json").read_bytes()
    assert packaged == ALL_FUNCTIONS.read_bytes()


def test_the_detailed_reference_agrees_with_the_header_facts(checker: Checker) -> None:
    """tim-keys.json (the detailed reference the JSON checks use) names the same parameters as
    tim-c-all.json for every function both list."""
    for name, spec in checker.functions.items():
        assert param_names(spec["params"]) == checker.all.params(name), name


SECTION_3_OTHERS = (
    "TIMSetNetworkStatusListenerCallback",
    "TIMSetKickedOfflineCallback",
    "TIMSetUserSigExpiredCallback",
    "TIMAddRecvNewMsgCallback",
    "TIMRemoveRecvNewMsgCallback",
    "TIMSetMsgReadedReceiptCallback",
    "TIMSetMsgRevokeCallback",
    "TIMSetMsgUpdateCallback",
    "TIMSetGroupTipsEventCallback",
)
"""Reference §3, "other registration functions" (TIMManager.h, TIMMessageManager.h,
TIMGroupManager.h)."""
MESSAGE_SIDE = (
    "TIMMsgRevoke",
    "TIMMsgDelete",
    "TIMMsgClearHistoryMessage",
    "TIMMsgSetC2CReceiveMessageOpt",
    "TIMMsgGetC2CReceiveMessageOpt",
    "TIMMsgSetGroupReceiveMessageOpt",
)
"""The message functions issue 3 names beside §2 and §3."""


def test_every_function_of_reference_sections_2_and_3_exists_with_its_parameters(
    checker: Checker,
) -> None:
    """§2 is every function of TIMConversationManager.h (with the conversation callbacks of
    §3); §3 adds the registrations of the other headers."""
    conv_header = [
        name
        for name, fn in checker.functions.items()
        if fn["header"].endswith("/TIMConversationManager.h")
    ]
    assert len(conv_header) == 30
    wanted = [*conv_header, *SECTION_3_OTHERS, *MESSAGE_SIDE]
    missing = [name for name in wanted if name not in opentim.tim.__all__]
    assert missing == []
    for name in wanted:
        expected = param_names(checker.functions[name]["params"])
        assert list(inspect.signature(getattr(opentim.tim, name)).parameters) == expected, name
        method = inspect.signature(getattr(TIMSDK, name)).parameters
        assert list(method) == ["self", *expected], name


def test_timsdk_methods_are_exactly_the_exported_functions() -> None:
    methods = {n for n in dir(TIMSDK) if n.startswith("TIM") or n == "callExperimentalAPI"}
    exported = {n for n in opentim.tim.__all__ if n != "TIMSDK"}
    assert methods == exported
    assert set(functions.__all__) == exported
    assert inspect.signature(TIMSDK).parameters == {}


def test_extensions_are_the_only_names_outside_the_reference(checker: Checker) -> None:
    all_keys = {key for section in checker.sections.values() for key in section}
    for name in OPENTIM_EXTENSIONS:
        assert name not in checker.functions, name
        assert name not in all_keys, name
    assert set(OPENTIM_EXTENSIONS) == {"TIMSDK", SDK_CONFIG_SERVER_URL, SDK_CONFIG_SERVER_CA_FILE}
    assert set(opentim.tim.__all__) - set(checker.all.functions) == {"TIMSDK"}


def test_no_json_key_is_typed_inline_in_the_tim_layer(checker: Checker) -> None:
    """STYLE §2.4: key strings come from keys.py; elsewhere only its constants are used."""
    all_keys = {key for section in checker.sections.values() for key in section}
    inline = []
    for path in sorted(TIM_SRC.glob("*.py")):
        if path.name in ("keys.py", "extensions.py", "pending.py"):
            # keys and opentim's additions; pending.py names the reference's C parameters
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in all_keys:
                inline.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert inline == []


# --- the checker itself ---------------------------------------------------------------------
def test_checker_accepts_the_seed_example_and_rejects_what_is_off(checker: Checker) -> None:
    from .test_seed import SEED_CONV_INFO

    assert checker.check_text("array<ConvInfo>", json.dumps([SEED_CONV_INFO]), "seed") == []
    bad: dict[str, Any] = json.loads(json.dumps(SEED_CONV_INFO))
    bad["conv_owner"] = "x"  # deprecated: not in the current ConvInfo
    bad["conv_unread_num"] = -1
    bad["conv_is_pinned"] = 0
    bad["conv_type"] = 7
    bad["conv_last_msg"]["message_sender_profile"]["user_profile_gender"] = "m"
    bad["conv_last_msg"]["message_elem_array"][0]["image_elem_level"] = 0
    bad["conv_last_msg"]["message_status"] = 9
    problems = checker.check_text("object<ConvInfo>", json.dumps(bad), "bad")
    assert len(problems) == 7, problems
    assert checker.check_text("array<ConvInfo>", "{}", "x") != []
    assert checker.check_text("", "[]", "x") != []
    assert checker.check_text("object<Message>", "nope", "x") != []
    assert checker.check_record(Record("TIMConvGetConvList", (123456, "", "", None))) != []
    assert checker.check_record(Record("TIMConvDelete", (6004, "", "", None))) == []
    assert checker.check_record(Record("TIMConvDelete", (6004, "", "[]", None))) != []
    assert checker.check_record(Record("TIMConvEventCallback", (3, "[]", None))) != []
    assert checker.check_record(Record("TIMConvEventCallback", (5, "", None))) != []
    assert checker.check_record(Record("TIMConvTotalUnreadMessageCountChangedCallback", (-1, None)))


def exercise_friendship(me: Tim, server: Any) -> None:
    """Call each function of TIMFriendshipManager.h once, with ``conf-peer`` and
    ``conf-other`` (whose add permissions allow anyone) and an official account."""
    for user_id in ("conf-peer", "conf-other"):
        server.admin(lambda s, u=user_id: s.users.set_profile(u, {"add_permission": 1}))
    server.admin(lambda s: s.friends.put_account(OfficialAccount(account_id="conf-oa", name="N")))
    add = {"friendship_add_friend_param_identifier": "conf-peer"}
    assert me.ok("TIMFriendshipAddFriend", json.dumps(add))["friend_result_code"] == 0
    me.ok("TIMFriendshipGetFriendProfileList")
    me.ok("TIMFriendshipGetFriendsInfo", json.dumps(["conf-peer"]))
    item = {"friend_profile_item_remark": "P"}
    modify = {
        "friendship_modify_friend_profile_param_identifier": "conf-peer",
        "friendship_modify_friend_profile_param_item": item,
    }
    me.ok("TIMFriendshipModifyFriendProfile", json.dumps(modify))
    search = {"friendship_search_param_keyword_list": ["p"]}
    me.ok("TIMFriendshipSearchFriends", json.dumps(search))
    check = {"friendship_check_friendtype_param_identifier_array": ["conf-peer"]}
    me.ok("TIMFriendshipCheckFriendType", json.dumps(check))
    me.ok("TIMFriendshipGetPendencyList", json.dumps({}))
    answer = {"friend_response_identifier": "conf-other", "friend_response_action": 2}
    me.ok("TIMFriendshipHandleFriendAddRequest", json.dumps(answer))
    me.ok("TIMFriendshipReportPendencyReaded", 0)
    pendency = {"friendship_delete_pendency_param_identifier_array": ["conf-other"]}
    me.ok("TIMFriendshipDeletePendency", json.dumps(pendency))
    group = {
        "friendship_create_friend_group_param_name_array": ["fg"],
        "friendship_create_friend_group_param_identifier_array": ["conf-peer"],
    }
    me.ok("TIMFriendshipCreateFriendGroup", json.dumps(group))
    me.ok("TIMFriendshipGetFriendGroupList", None)
    rename = {
        "friendship_modify_friend_group_param_name": "fg",
        "friendship_modify_friend_group_param_new_name": "fg2",
    }
    me.ok("TIMFriendshipModifyFriendGroup", json.dumps(rename))
    me.ok("TIMFriendshipDeleteFriendGroup", json.dumps(["fg2"]))
    remove = {"friendship_delete_friend_param_identifier_array": ["conf-peer"]}
    me.ok("TIMFriendshipDeleteFriend", json.dumps(remove))
    me.ok("TIMFriendshipAddToBlackList", json.dumps(["conf-other"]))
    me.ok("TIMFriendshipGetBlackList")
    me.ok("TIMFriendshipDeleteFromBlackList", json.dumps(["conf-other"]))
    me.ok("TIMSubscribeOfficialAccount", "conf-oa")
    me.ok("TIMGetOfficialAccountsInfo", json.dumps(["conf-oa"]))
    me.ok("TIMUnsubscribeOfficialAccount", "conf-oa")
    me.ok("TIMFollowUser", json.dumps(["conf-peer"]))
    me.ok("TIMGetMyFollowingList", None)
    me.ok("TIMGetMyFollowersList", None)
    me.ok("TIMGetMutualFollowersList", None)
    me.ok("TIMGetUserFollowInfo", json.dumps(["conf-me"]))
    me.ok("TIMCheckFollowType", json.dumps(["conf-peer"]))
    me.ok("TIMUnfollowUser", json.dumps(["conf-peer"]))


# --- everything a full run emits ------------------------------------------------------------
def test_everything_emitted_by_every_function_conforms(
    make_tim: Any, recorder: Recorder, checker: Checker, server: Any
) -> None:
    peer: Tim = make_tim("conf-peer")
    other: Tim = make_tim("conf-other")
    me: Tim = make_tim("conf-me")
    assert me.total_unread() == 0

    # Groups: create, invite, remove, join, list, quit, dismiss.
    me.create_group(
        "conf-g",
        ["conf-peer"],
        **{
            k.CREATE_GROUP_PARAM_ADD_OPTION: k.kTIMGroupAddOpt_Any,
            k.CREATE_GROUP_PARAM_INTRODUCTION: "intro",
            k.CREATE_GROUP_PARAM_FACE_URL: "http://face",
        },
    )
    invite = {
        k.GROUP_INVITE_MEMBER_PARAM_GROUP_ID: "conf-g",
        k.GROUP_INVITE_MEMBER_PARAM_IDENTIFIER_ARRAY: ["conf-other", "conf-peer", "ghost"],
    }
    results = me.ok("TIMGroupInviteMember", json.dumps(invite))
    assert [r[k.GROUP_INVITE_MEMBER_RESULT_RESULT] for r in results] == [
        k.kTIMGroupMember_HandledSuc,
        k.kTIMGroupMember_Included,
        k.kTIMGroupMember_HandledErr,
    ]
    remove = {
        k.GROUP_DELETE_MEMBER_PARAM_GROUP_ID: "conf-g",
        k.GROUP_DELETE_MEMBER_PARAM_IDENTIFIER_ARRAY: ["conf-other"],
    }
    assert me.ok("TIMGroupDeleteMember", json.dumps(remove)) == [
        {
            k.GROUP_DELETE_MEMBER_RESULT_IDENTIFIER: "conf-other",
            k.GROUP_DELETE_MEMBER_RESULT_RESULT: k.kTIMGroupMember_HandledSuc,
        }
    ]
    assert other.ok("TIMGroupJoin", "conf-g", "hello") is None
    assert other.call("TIMGroupJoin", "conf-g", None).code == 10013
    joined = other.ok("TIMGroupGetJoinedGroupList")
    assert [g[k.GROUP_BASE_INFO_GROUP_ID] for g in joined] == ["conf-g"]
    assert joined[0][k.GROUP_BASE_INFO_SELF_INFO][k.GROUP_SELF_INFO_ROLE] == k.kTIMMemberRole_Normal
    assert me.ok("TIMGroupGetJoinedGroupList")[0][k.GROUP_BASE_INFO_FACE_URL] == "http://face"
    # The group screens: info, its changes, members, member changes, applications.
    (info,) = other.ok("TIMGroupGetGroupInfoList", json.dumps(["conf-g"]))
    assert info["get_groups_info_result_info"]["group_detail_info_member_num"] == 3
    change = {
        "group_modify_info_param_group_id": "conf-g",
        "group_modify_info_param_modify_flag": 0x1 | 0x10 | 0x200,
        "group_modify_info_param_group_name": "conf-renamed",
        "group_modify_info_param_add_option": k.kTIMGroupAddOpt_Auth,
        "group_modify_info_param_custom_info": [
            {"group_info_custom_string_info_key": "k", "group_info_custom_string_info_value": "v"}
        ],
    }
    assert me.ok("TIMGroupModifyGroupInfo", json.dumps(change)) is None
    card = {
        "group_modify_member_info_group_id": "conf-g",
        "group_modify_member_info_identifier": "conf-other",
        "group_modify_member_info_modify_flag": 0x4 | 0x8,
        "group_modify_member_info_shutup_time": 60,
        "group_modify_member_info_name_card": "O",
    }
    assert me.ok("TIMGroupModifyMemberInfo", json.dumps(card)) is None
    listed = other.ok(
        "TIMGroupGetMemberInfoList",
        json.dumps({"group_get_members_info_list_param_group_id": "conf-g"}),
    )
    assert len(listed["group_get_member_info_list_result_info_array"]) == 3
    assert other.ok("TIMGroupQuit", "conf-g") is None
    assert other.ok("TIMGroupJoin", "conf-g", "again") is None  # an application now
    pendencies = me.ok("TIMGroupGetPendencyList", json.dumps({}))
    (application,) = pendencies["group_pendency_result_pendency_array"]
    refuse = {
        "group_handle_pendency_param_is_accept": False,
        "group_handle_pendency_param_pendency": application,
    }
    assert me.ok("TIMGroupHandlePendency", json.dumps(refuse)) is None
    assert me.ok("TIMGroupReportPendencyReaded", application["group_pendency_add_time"]) is None

    # Messages of several kinds, with the optional keys, both ways.
    custom = {
        k.MESSAGE_ELEM_ARRAY: [
            {k.ELEM_TYPE: k.kTIMElem_Custom, k.CUSTOM_ELEM_DATA: "d", k.CUSTOM_ELEM_DESC: "x"},
            {k.ELEM_TYPE: k.kTIMElem_Location, k.LOCATION_ELEM_LATITUDE: 1.5, "junk_key": 1},
        ],
        k.MESSAGE_PRIORITY: k.kTIMMsgPriority_High,
        k.MESSAGE_CLOUD_CUSTOM_STR: "cloud",
        k.MESSAGE_GROUP_AT_USER_ARRAY: ["conf-me"],
        k.MESSAGE_EXCLUDED_FROM_LAST_MESSAGE: True,
    }
    mark = me.messages.mark()
    sent = peer.ok("TIMMsgSendMessage", "conf-g", GROUP, json.dumps(custom), bytearray(64))
    assert sent[k.MESSAGE_PRIORITY] == k.kTIMMsgPriority_High
    assert sent[k.MESSAGE_CLOUD_CUSTOM_STR] == "cloud"
    assert "junk_key" not in sent[k.MESSAGE_ELEM_ARRAY][1], "unknown element keys are dropped"
    got = me.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID], since=mark)
    assert got[k.MESSAGE_GROUP_AT_USER_ARRAY] == ["conf-me"]
    peer.send_text("conf-me", C2C, "hi")
    me.totals.wait(lambda t: t >= 2)
    back = me.send_text("conf-peer", C2C, "hi back")
    edit = {**back, k.MESSAGE_CLOUD_CUSTOM_STR: "edited"}
    assert me.ok("TIMMsgModifyMessage", json.dumps(edit))[k.MESSAGE_CLOUD_CUSTOM_STR] == "edited"

    # Conversations: create, info, list, draft, pin, read, clean, delete.
    me.ok("TIMConvCreate", "conf-other", C2C)
    draft = {k.DRAFT_USER_DEFINE: "u", k.DRAFT_MSG: {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0}]}}
    assert me.sdk.TIMConvSetDraft("conf-peer", C2C, json.dumps(draft)) == k.TIM_SUCC
    assert me.ok("TIMConvPinConversation", "conf-g", GROUP, True) is None
    listed = me.conv_list()
    assert listed[0][k.CONV_ID] == "conf-g"
    assert any(k.CONV_DRAFT in c for c in listed)
    param = [
        {
            k.GET_CONVERSATION_LIST_PARAM_CONV_ID: "conf-g",
            k.GET_CONVERSATION_LIST_PARAM_CONV_TYPE: 2,
        }
    ]
    assert me.ok("TIMConvGetConvInfo", json.dumps(param))[0][k.CONV_IS_PINNED] is True
    history = me.ok("TIMMsgGetMsgList", "conf-g", GROUP, "")
    assert history[0][k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID]
    assert me.ok("TIMMsgReportReaded", "conf-g", GROUP, json.dumps(history[0])) is None
    assert me.ok("TIMConvCleanConversationUnreadMessageCount", "c2c", 0, 0) is None
    assert me.sdk.TIMConvCancelDraft("conf-peer", C2C) == k.TIM_SUCC
    assert me.ok("TIMConvDelete", "conf-other", C2C) is None
    forward = {k.MSG_GETMSGLIST_PARAM_IS_FORWARD: True}
    oldest_first = me.ok("TIMMsgGetMsgList", "conf-g", GROUP, json.dumps(forward))
    ids = [m[k.MESSAGE_MSG_ID] for m in history]
    assert [m[k.MESSAGE_MSG_ID] for m in oldest_first] == ids[::-1]
    assert me.total_unread() == 0

    # Issue 3: filters, paging, unread by filter, subscriptions, marks, custom data,
    # conversation groups, delete list, receive options, revoke, delete, clear, receipts.
    f_c2c = json.dumps({k.CONVERSATION_LIST_FILTER_CONV_TYPE: C2C})
    assert me.sdk.TIMConvSubscribeUnreadMessageCountByFilter(f_c2c) == k.TIM_SUCC
    page = me.page({k.CONVERSATION_LIST_FILTER_CONVERSATION_GROUP: ""}, 0, 1)
    assert page[k.CONVERSATION_LIST_RESULT_IS_FINISHED] is False
    page = me.page(
        {k.CONVERSATION_LIST_FILTER_CONVERSATION_GROUP: ""},
        page[k.CONVERSATION_LIST_RESULT_NEXT_SEQ],
        100,
    )
    assert page[k.CONVERSATION_LIST_RESULT_IS_FINISHED] is True
    me.ok("TIMConvMarkConversation", me.ids("c2c_conf-peer", "nope"), 1 << 40 | 1, True)
    me.ok("TIMConvSetConversationCustomData", me.ids("group_conf-g"), "custom")
    me.ok("TIMConvCreateConversationGroup", "cg", me.ids("c2c_conf-peer"))
    me.ok("TIMConvAddConversationsToGroup", "cg", me.ids("group_conf-g"))
    me.ok("TIMConvDeleteConversationsFromGroup", "cg", me.ids("group_conf-g"))
    assert me.ok("TIMConvRenameConversationGroup", "cg", "cg2") is None
    assert me.ok("TIMConvGetConversationGroupList") == ["cg2"]
    marked = me.page({k.CONVERSATION_LIST_FILTER_MARK_TYPE: 1})[
        k.CONVERSATION_LIST_RESULT_CONV_LIST
    ]
    assert marked[0][k.CONV_MARK_ARRAY] == [1, 1 << 40]
    assert marked[0][k.CONV_CONVERSATION_GROUP_ARRAY] == ["cg2"]
    assert me.ok("TIMConvDeleteConversationGroup", "cg2") is None
    at_me = {
        k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "@"}],
        k.MESSAGE_GROUP_AT_USER_ARRAY: ["conf-me", k.kImSDK_MessageAtALL],
    }
    peer.ok("TIMMsgSendMessage", "conf-g", GROUP, json.dumps(at_me), None)
    quiet = peer.send_text("conf-me", C2C, "quiet")
    me.filter_totals.wait(lambda item: item[1] == 1)
    at_convs = me.page({k.CONVERSATION_LIST_FILTER_HAS_GROUP_AT_INFO: True})[
        k.CONVERSATION_LIST_RESULT_CONV_LIST
    ]
    assert at_convs[0][k.CONV_GROUP_AT_INFO_ARRAY][0][k.CONV_GROUP_AT_INFO_AT_TYPE] == 3
    unread = me.ok("TIMConvGetUnreadMessageCountByFilter", f_c2c)
    assert unread[k.CONV_GET_TOTAL_UNREAD_MESSAGE_COUNT_RESULT_UNREAD_COUNT] == 1
    assert me.sdk.TIMConvUnsubscribeUnreadMessageCountByFilter(f_c2c) == k.TIM_SUCC
    assert me.ok("TIMMsgSetC2CReceiveMessageOpt", json.dumps(["conf-peer"]), 2) is None
    assert me.ok("TIMMsgGetC2CReceiveMessageOpt", json.dumps(["conf-peer"])) == [
        {k.MSG_RECV_MSG_OPT_RESULT_IDENTIFIER: "conf-peer", k.MSG_RECV_MSG_OPT_RESULT_OPT: 2}
    ]
    assert me.ok("TIMMsgSetGroupReceiveMessageOpt", "conf-g", 0) is None
    assert peer.ok("TIMMsgRevoke", "conf-me", C2C, json.dumps(quiet)) is None
    me.revoked.wait(lambda m: m[k.MESSAGE_MSG_ID] == quiet[k.MESSAGE_MSG_ID])
    me.updated.wait(lambda m: m[k.MESSAGE_MSG_ID] == quiet[k.MESSAGE_MSG_ID])
    assert me.ok("TIMConvCleanConversationUnreadMessageCount", "c2c_conf-peer", 0, 0) is None
    peer.receipts.wait(lambda r: r[k.MSG_RECEIPT_CONV_ID] == "conf-me")
    delete = {k.MSG_DELETE_PARAM_MSG: quiet, k.MSG_DELETE_PARAM_IS_RAMBLE: True}
    assert me.ok("TIMMsgDelete", "conf-peer", C2C, json.dumps(delete)) is None
    assert me.ok("TIMMsgClearHistoryMessage", "conf-peer", C2C) is None
    other.ok("TIMGroupJoin", "conf-g", "")
    me.tips.wait(lambda t: t[k.GROUP_TIPS_ELEM_USER_ARRAY] == ["conf-other"])
    results = me.ok("TIMConvDeleteConversationList", me.ids("c2c_conf-peer", "bad"), False)
    assert [r[k.CONVERSATION_OPERATION_RESULT_RESULT_CODE] for r in results] == [0, 6004]
    late: Tim = make_tim()
    assert late.call("TIMLogin", "conf-late", me.server.sig("conf-late", expire=-10)).code == 70001

    # Issue 11: the start-up calls of Tencent's wrappers, the log callback, the older sends.
    lines: list[tuple[int, str]] = []
    me.sdk.TIMSetLogCallback(
        recorder.wrap("TIMLogCallback", lambda level, text, ud: lines.append((level, text))),
        None,
    )
    levels = {
        k.SET_CONFIG_LOG_LEVEL: k.kTIMLog_Info,
        k.SET_CONFIG_CALLBACK_LOG_LEVEL: k.kTIMLog_Info,
    }
    assert me.ok("TIMSetConfig", json.dumps(levels)) is None
    platform = {
        "request_internal_operation": "internal_operation_set_env",
        "request_set_env_param": False,
    }
    assert me.ok("callExperimentalAPI", json.dumps(platform)) == {
        "response_internal_operation": "internal_operation_set_env",
        "response_set_env_res": False,
    }
    text = {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: "old"}]}
    old = peer.ok("TIMMsgSendNewMsg", "conf-me", C2C, json.dumps(text))
    ids: list[str] = []
    msgid_cb = recorder.wrap(
        "TIMMsgSendNewMsgEx.msgid_cb", lambda code, desc, js, ud: ids.append(js)
    )
    older = peer.ok("TIMMsgSendNewMsgEx", "conf-me", C2C, json.dumps(text), msgid_cb)
    assert ids == [older[k.MESSAGE_MSG_ID]] != [old[k.MESSAGE_MSG_ID]]
    me.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == older[k.MESSAGE_MSG_ID])
    assert me.sdk.TIMGetServerTime() > 0
    assert me.sdk.TIMGetSDKVersion()

    # Friendship (TIMFriendshipManager.h): every function once.
    exercise_friendship(me, server)

    # Issue 11, users: profiles with custom fields, status, subscriptions, search, push
    # settings, the all-messages receive option, messages found and read in bulk.
    seen = Stream()
    for typedef, setter in (
        ("TIMSelfInfoUpdatedCallback", "TIMSetSelfInfoUpdatedCallback"),
        ("TIMUserInfoChangedCallback", "TIMSetUserInfoChangedCallback"),
        ("TIMUserStatusChangedCallback", "TIMSetUserStatusChangedCallback"),
        ("TIMMsgAllMessageReceiveOptionCallback", "TIMSetMsgAllMessageReceiveOptionCallback"),
    ):
        getattr(me.sdk, setter)(
            recorder.wrap(typedef, lambda js, ud, t=typedef: seen.append((t, json.loads(js)))),
            None,
        )
    assert me.ok("TIMSubscribeUserInfo", json.dumps(["conf-peer"])) is None
    assert me.ok("TIMSubscribeUserStatus", json.dumps(["conf-peer"])) is None
    seen.wait(lambda e: e[0] == "TIMUserStatusChangedCallback")
    item = {
        k.USER_PROFILE_CUSTOM_STRING_INFO_KEY: "Tag_Profile_Custom_Hobby",
        k.USER_PROFILE_CUSTOM_STRING_INFO_VALUE: "go",
    }
    change = {
        "user_profile_item_nick_name": "Peer",
        "user_profile_item_custom_string_array": [item],
    }
    assert peer.ok("TIMProfileModifySelfUserProfile", json.dumps(change)) is None
    seen.wait(
        lambda e: (
            e[0] == "TIMUserInfoChangedCallback" and e[1][0][k.USER_PROFILE_NICK_NAME] == "Peer"
        )
    )
    mine = {"user_profile_item_self_signature": "hello"}
    assert me.ok("TIMProfileModifySelfUserProfile", json.dumps(mine)) is None
    seen.wait(lambda e: e[0] == "TIMSelfInfoUpdatedCallback")
    ask = {"friendship_getprofilelist_param_identifier_array": ["conf-peer", "ghost"]}
    [profile] = me.ok("TIMProfileGetUserProfileList", json.dumps(ask))
    assert profile[k.USER_PROFILE_CUSTOM_STRING_ARRAY] == [item]
    found = me.ok("TIMSearchUsers", json.dumps({"user_search_param_keyword_list": ["peer"]}))
    assert [u[k.USER_PROFILE_IDENTIFIER] for u in found["user_search_result_user_list"]] == [
        "conf-peer"
    ]
    assert me.ok("TIMSetSelfStatus", json.dumps({k.USER_STATUS_CUSTOM_STATUS: "busy"})) is None
    [status] = me.ok("TIMGetUserStatus", json.dumps(["conf-me"]))
    assert status[k.USER_STATUS_CUSTOM_STATUS] == "busy"
    assert me.ok("TIMUnsubscribeUserStatus", "") is None
    assert me.ok("TIMUnsubscribeUserInfo", json.dumps(["conf-peer"])) is None
    token = {"offline_push_token_token": "tok", "offline_push_token_type": 1}
    assert me.ok("TIMMsgSetOfflinePushToken", json.dumps(token)) is None
    assert me.ok("TIMMsgDoBackground", 3) is None
    assert me.ok("TIMMsgDoForeground") is None
    assert (
        me.ok("TIMMsgSetAllReceiveMessageOpt", k.kTIMRecvMsgOpt_Not_Notify, 22, 0, 0, 3600) is None
    )
    seen.wait(lambda e: e[0] == "TIMMsgAllMessageReceiveOptionCallback")
    assert me.ok("TIMMsgSetAllReceiveMessageOpt2", k.kTIMRecvMsgOpt_Not_Notify, 1000, 60) is None
    opt = me.ok("TIMMsgGetAllReceiveMessageOpt")
    assert opt["msg_all_recv_msg_opt_start_time_stamp"] == 1000
    found_msgs = me.ok("TIMMsgFindMessages", json.dumps([older[k.MESSAGE_MSG_ID], "nope"]))
    assert [m[k.MESSAGE_MSG_ID] for m in found_msgs] == [older[k.MESSAGE_MSG_ID]]
    locator = [{k.MESSAGE_LOCATOR_SEQ: older[k.MESSAGE_SEQ]}]
    at = me.ok("TIMMsgFindByMsgLocatorList", "conf-peer", C2C, json.dumps(locator))
    assert [m[k.MESSAGE_MSG_ID] for m in at] == [older[k.MESSAGE_MSG_ID]]
    assert me.ok("TIMMsgListDelete", "conf-peer", C2C, json.dumps(at)) is None
    assert me.ok("TIMMsgMarkAllMessageAsRead") is None
    assert me.total_unread() == 0
    # Issue 12, sending and local data.
    text = {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: "all"}]}
    batch = {
        k.MSG_BATCH_SEND_PARAM_IDENTIFIER_ARRAY: ["conf-peer", "conf-nobody"],
        k.MSG_BATCH_SEND_PARAM_MSG: text,
    }
    results = me.ok("TIMMsgBatchSend", json.dumps(batch))
    assert [r[k.MSG_BATCH_SEND_RESULT_CODE] for r in results] == [0, 6032]
    assert me.call("TIMMsgCancelSend", "conf-peer", C2C, "nope").code == 6017
    mine = results[0][k.MSG_BATCH_SEND_RESULT_MSG] | {k.MESSAGE_CUSTOM_INT: 3}
    assert me.ok("TIMMsgSetLocalCustomData", json.dumps(mine)) is None
    merge = {
        k.ELEM_TYPE: k.kTIMElem_Merge,
        k.MERGE_ELEM_TITLE: "fwd",
        k.MERGE_ELEM_ABSTRACT_ARRAY: ["all"],
        k.MERGE_ELEM_MESSAGE_ARRAY: [mine],
    }
    fwd = me.ok(
        "TIMMsgSendMessage", "conf-peer", C2C, json.dumps({k.MESSAGE_ELEM_ARRAY: [merge]}), None
    )
    [carried] = me.ok("TIMMsgDownloadMergerMessage", json.dumps(fwd))
    assert carried[k.MESSAGE_MSG_ID] == mine[k.MESSAGE_MSG_ID]

    # Issue 12: reactions and pinned group messages, heard by another member.
    heard = Stream()
    peer.sdk.TIMSetMsgReactionsChangedCallback(
        recorder.wrap("TIMMsgReactionsChangedCallback", lambda js, ud: heard.append("r")), None
    )
    peer.sdk.TIMSetMsgGroupPinnedMessageChangedCallback(
        recorder.wrap("TIMMsgGroupPinnedMessageChangedCallback", lambda *a: heard.append("p")),
        None,
    )
    said = json.dumps(peer.send_text("conf-g", GROUP, "pin and react"))
    assert me.ok("TIMPinGroupMessage", "conf-g", said, True) is None
    assert len(me.ok("TIMGetPinnedGroupMessageList", "conf-g")) == 1
    assert me.ok("TIMMsgAddMessageReaction", said, "like") is None
    heard.wait(lambda e: e == "p")
    heard.wait(lambda e: e == "r")
    [reactions] = me.ok("TIMMsgGetMessageReactions", json.dumps([json.loads(said)]), 5)
    assert reactions["message_reaction_result_reaction_list"][0]["message_reaction_id"] == "like"
    users = me.ok("TIMMsgGetAllUserListOfMessageReaction", said, "like", 0, 10)
    assert users["message_reaction_user_result_is_finished"] is True
    assert me.ok("TIMMsgRemoveMessageReaction", said, "like") is None
    assert me.ok("TIMPinGroupMessage", "conf-g", said, False) is None
    for setter, typedef in (
        ("TIMSetMsgExtensionsChangedCallback", "TIMMsgExtensionsChangedCallback"),
        ("TIMSetMsgExtensionsDeletedCallback", "TIMMsgExtensionsDeletedCallback"),
    ):
        getattr(peer.sdk, setter)(
            recorder.wrap(typedef, lambda *a, t=typedef: heard.append(t)), None
        )
    poll = {
        k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: "poll"}],
        k.MESSAGE_SUPPORT_MESSAGE_EXTENSION: True,
    }
    polled = json.dumps(me.ok("TIMMsgSendMessage", "conf-g", GROUP, json.dumps(poll), None))
    ext = [{"message_extension_key": "k", "message_extension_value": "v"}]
    [set_result] = me.ok("TIMMsgSetMessageExtensions", polled, json.dumps(ext))
    assert set_result["message_extension_result_code"] == 0
    assert len(me.ok("TIMMsgGetMessageExtensions", polled)) == 1
    assert len(me.ok("TIMMsgDeleteMessageExtensions", polled, json.dumps(["k"]))) == 1
    heard.wait(lambda e: e == "TIMMsgExtensionsChangedCallback")
    heard.wait(lambda e: e == "TIMMsgExtensionsDeletedCallback")

    # The group goes away.
    assert me.ok("TIMConvPinConversation", "conf-g", GROUP, False) is None
    assert me.ok("TIMGroupDelete", "conf-g") is None
    assert me.ok("TIMLogout") is None

    # What was seen, and that all of it conforms.
    records = recorder.snapshot()
    sources = {r.source for r in records}
    called = {
        n
        for n in opentim.tim.__all__
        if n != "TIMSDK" and "Callback" not in n and not hasattr(PendingAPI, n)
    }
    no_callback = {
        "TIMInit",
        "TIMUninit",
        "TIMGetLoginStatus",
        "TIMGetLoginUserID",
        "TIMConvSetDraft",
        "TIMConvCancelDraft",
        "TIMConvSubscribeUnreadMessageCountByFilter",
        "TIMConvUnsubscribeUnreadMessageCountByFilter",
        "TIMGetSDKVersion",
        "TIMGetServerTime",
    }
    assert called - no_callback <= sources, called - no_callback - sources
    assert {
        "TIMConvEventCallback",
        "TIMConvTotalUnreadMessageCountChangedCallback",
        "TIMConvTotalUnreadMessageCountChangedByFilterCallback",
        "TIMConvConversationGroupCreatedCallback",
        "TIMConvConversationGroupDeletedCallback",
        "TIMConvConversationGroupNameChangedCallback",
        "TIMConvConversationsAddedToGroupCallback",
        "TIMConvConversationsDeletedFromGroupCallback",
        "TIMRecvNewMsgCallback",
        "TIMMsgReadedReceiptCallback",
        "TIMMsgRevokeCallback",
        "TIMMsgUpdateCallback",
        "TIMGroupTipsEventCallback",
        "TIMUserSigExpiredCallback",
        "TIMLogCallback",
        "TIMMsgSendNewMsgEx.msgid_cb",
        "TIMSelfInfoUpdatedCallback",
        "TIMUserInfoChangedCallback",
        "TIMUserStatusChangedCallback",
        "TIMMsgAllMessageReceiveOptionCallback",
        "TIMMsgReactionsChangedCallback",
        "TIMMsgGroupPinnedMessageChangedCallback",
        "TIMMsgExtensionsChangedCallback",
        "TIMMsgExtensionsDeletedCallback",
    } <= sources
    assert any(level == k.kTIMLog_Info and "TIMSetConfig" in line for level, line in lines)
    events = {r.args[0] for r in records if r.source == "TIMConvEventCallback"}
    assert events == {0, 1, 2, 3, 4}
    assert "TIMRecvNewMsgCallback" in sources
    assert "TIMConvTotalUnreadMessageCountChangedCallback" in sources
    emitted = [
        json.loads(r.args[2]) for r in records if r.source == "TIMConvGetConvList" and r.args[2]
    ]
    keys_seen = {key for convs in emitted for conv in convs for key in conv}
    assert {
        k.CONV_DRAFT,
        k.CONV_LAST_MSG,
        k.CONV_GROUP_TYPE,
        k.CONV_C2C_READ_TIMESTAMP,
    } <= keys_seen
    problems = recorder.problems(checker)
    assert problems == []
    assert len(records) > 50
