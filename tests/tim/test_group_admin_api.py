"""The group screens' functions of TIMGroupManager.h with Tencent's JSON keys, as an app calls
them: group info, info changes and their tips, member lists and member changes, join
applications; bad input answered synchronously. Every JSON emitted is checked against the
header's keys (conformance.py)."""

from __future__ import annotations

import json
from typing import Any

from opentim.tim import keys as k

from .conftest import Tim

BOTH_ENGINES = True

MODIFY, MEMBER = "group_modify_info_param_", "group_modify_member_info_"
LIST, PENDENCY = "group_get_members_info_list_param_", "group_pendency_"
DENIED, MUTED = 10007, 10017


def info_of(tim: Tim, *group_ids: str) -> list[dict[str, Any]]:
    return tim.ok("TIMGroupGetGroupInfoList", json.dumps(list(group_ids)))  # type: ignore[no-any-return]


def modify(tim: Tim, group_id: str, flag: int, **fields: Any) -> tuple[int, str]:
    param = {MODIFY + "group_id": group_id, MODIFY + "modify_flag": flag}
    param.update({MODIFY + key: value for key, value in fields.items()})
    res = tim.call("TIMGroupModifyGroupInfo", json.dumps(param))
    return res.code, res.json_params


def modify_member(tim: Tim, group_id: str, user_id: str, flag: int, **fields: Any) -> int:
    param = {
        MEMBER + "group_id": group_id,
        MEMBER + "identifier": user_id,
        MEMBER + "modify_flag": flag,
    }
    param.update({MEMBER + key: value for key, value in fields.items()})
    return tim.call("TIMGroupModifyMemberInfo", json.dumps(param)).code


def members(tim: Tim, group_id: str, role_flag: int = 0, next_seq: int = 0) -> Any:
    param = {
        LIST + "group_id": group_id,
        LIST + "option": {"group_member_get_info_option_role_flag": role_flag},
        LIST + "next_seq": next_seq,
    }
    return tim.ok("TIMGroupGetMemberInfoList", json.dumps(param))


def test_group_info_list_answers_each_group_with_its_detail_or_its_code(make_tim: Any) -> None:
    owner, bob = make_tim("owner"), make_tim("bob")
    owner.create_group(
        "pub",
        [],
        **{k.CREATE_GROUP_PARAM_NOTIFICATION: "rules", k.CREATE_GROUP_PARAM_FACE_URL: "f"},
    )
    owner.create_group("work", [], **{k.CREATE_GROUP_PARAM_GROUP_TYPE: k.kTIMGroup_Private})
    results = info_of(bob, "pub", "work", "nope")
    codes = [r["get_groups_info_result_code"] for r in results]
    assert codes == [0, DENIED, 10010]
    detail = results[0]["get_groups_info_result_info"]
    assert detail["group_detail_info_group_id"] == "pub"
    assert detail["group_detail_info_notification"] == "rules"
    assert detail["group_detail_info_owner_identifier"] == "owner"
    assert detail["group_detail_info_member_num"] == 1
    assert detail["group_detail_info_add_option"] == k.kTIMGroupAddOpt_Auth
    assert detail["group_detail_info_next_msg_seq"] == 2
    assert "get_groups_info_result_info" not in results[1]


def test_modify_group_info_changes_it_for_everyone_and_tips_every_member(make_tim: Any) -> None:
    owner, bob = make_tim("owner"), make_tim("bob")
    owner.create_group("g", ["bob"])
    assert modify(bob, "g", 0x1, group_name="mine")[0] == DENIED
    mark = bob.tips.mark()
    code, text = modify(
        owner,
        "g",
        0x1 | 0x2 | 0x100 | 0x200,
        group_name="renamed",
        notification="be nice",
        is_shutup_all=True,
        custom_info=[
            {
                "group_info_custom_string_info_key": "tier",
                "group_info_custom_string_info_value": "gold",
            }
        ],
    )
    assert (code, text) == (0, "")
    tip = bob.tips.wait(lambda t: t["group_tips_elem_tip_type"] == 6, since=mark)
    assert tip["group_tips_elem_op_user"] == "owner"
    flags = {
        c["group_tips_group_change_info_flag"]
        for c in tip["group_tips_elem_group_change_info_array"]
    }
    assert flags == {1, 3, 6, 8}
    (result,) = info_of(bob, "g")
    detail = result["get_groups_info_result_info"]
    assert detail["group_detail_info_group_name"] == "renamed"
    assert detail["group_detail_info_is_shutup_all"] is True
    assert detail["group_detail_info_custom_info"] == [
        {"group_info_custom_string_info_key": "tier", "group_info_custom_string_info_value": "gold"}
    ]
    bob.conv_events.wait(
        lambda e: any(c.get(k.CONV_SHOW_NAME) == "renamed" for c in e.convs), since=mark
    )
    ret, wait = bob.start(
        "TIMMsgSendMessage",
        "g",
        k.kTIMConv_Group,
        json.dumps(
            {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: "hi"}]}
        ),
        None,
    )
    assert ret == k.TIM_SUCC
    assert wait().code == MUTED


def test_member_list_pages_by_role_and_member_changes_follow_the_ranks(make_tim: Any) -> None:
    owner, bob, carol = make_tim("owner"), make_tim("bob"), make_tim("carol")
    owner.create_group("g", ["bob", "carol"])
    assert modify_member(owner, "g", "bob", 0x2, member_role=k.kTIMMemberRole_Admin) == 0
    assert modify_member(carol, "g", "carol", 0x8, name_card="Caz") == 0
    assert modify_member(carol, "g", "bob", 0x8, name_card="x") == DENIED
    mark = carol.tips.mark()
    assert modify_member(bob, "g", "carol", 0x4, shutup_time=120) == 0
    tip = carol.tips.wait(lambda t: t["group_tips_elem_tip_type"] == 7, since=mark)
    assert (
        tip["group_tips_elem_member_change_info_array"][0][
            "group_tips_member_change_info_shutupTime"
        ]
        == 120
    )
    page = members(carol, "g")
    assert page["group_get_member_info_list_result_next_seq"] == 0
    infos = page["group_get_member_info_list_result_info_array"]
    assert [m[k.GROUP_MEMBER_INFO_IDENTIFIER] for m in infos] == ["owner", "bob", "carol"]
    roles = [m[k.GROUP_MEMBER_INFO_MEMBER_ROLE] for m in infos]
    assert roles == [k.kTIMMemberRole_Owner, k.kTIMMemberRole_Admin, k.kTIMMemberRole_Normal]
    assert infos[2][k.GROUP_MEMBER_INFO_NAME_CARD] == "Caz"
    assert infos[2][k.GROUP_MEMBER_INFO_SHUTUP_TIME] > 0
    admins = members(carol, "g", role_flag=2)["group_get_member_info_list_result_info_array"]
    assert [m[k.GROUP_MEMBER_INFO_IDENTIFIER] for m in admins] == ["bob"]


def test_a_join_application_is_listed_read_and_accepted(make_tim: Any) -> None:
    owner, carol = make_tim("owner"), make_tim("carol")
    owner.create_group("g", [])
    mark = owner.messages.mark()
    assert carol.ok("TIMGroupJoin", "g", "let me in") is None
    report = owner.messages.wait(lambda m: m[k.MESSAGE_CONV_TYPE] == k.kTIMConv_System, since=mark)
    assert report[k.MESSAGE_CONV_ID] == "g"
    (elem,) = report[k.MESSAGE_ELEM_ARRAY]
    assert elem[k.ELEM_TYPE] == k.kTIMElem_GroupReport
    assert elem[k.GROUP_REPORT_ELEM_REPORT_TYPE] == k.kTIMGroupReport_AddRequest
    assert (elem[k.GROUP_REPORT_ELEM_OP_USER], elem[k.GROUP_REPORT_ELEM_MSG]) == (
        "carol",
        "let me in",
    )
    option = {"group_pendency_option_start_time": 0, "group_pendency_option_max_limited": 10}
    listed = owner.ok("TIMGroupGetPendencyList", json.dumps(option))
    assert listed["group_pendency_result_unread_num"] == 1
    (p,) = listed["group_pendency_result_pendency_array"]
    assert p[PENDENCY + "form_identifier"] == "carol"
    assert p[PENDENCY + "apply_invite_msg"] == "let me in"
    assert p[PENDENCY + "handled"] == 0
    assert p[PENDENCY + "pendency_type"] == 0
    assert owner.ok("TIMGroupReportPendencyReaded", p[PENDENCY + "add_time"]) is None
    again = owner.ok("TIMGroupGetPendencyList", json.dumps(option))
    assert again["group_pendency_result_unread_num"] == 0
    handle = {
        "group_handle_pendency_param_is_accept": True,
        "group_handle_pendency_param_handle_msg": "welcome",
        "group_handle_pendency_param_pendency": p,
    }
    mark = carol.conv_events.mark()
    assert owner.ok("TIMGroupHandlePendency", json.dumps(handle)) is None
    carol.conv_events.wait(lambda e: e.has(k.kTIMConvEvent_Add, "g"), since=mark)
    assert owner.call("TIMGroupHandlePendency", json.dumps(handle)).code == 10024
    (done,) = owner.ok("TIMGroupGetPendencyList", json.dumps(option))[
        "group_pendency_result_pendency_array"
    ]
    assert done[PENDENCY + "handled"] == 2, "handled by the reader"
    assert done[PENDENCY + "handle_result"] == 1


def test_bad_input_is_refused_synchronously_and_changes_nothing(make_tim: Any) -> None:
    tim = make_tim("owner")
    sdk = tim.sdk

    def cb(*_: Any) -> None:
        raise AssertionError("no callback for a refused call")

    assert sdk.TIMGroupGetGroupInfoList("[", cb, None) == k.TIM_ERR_JSON
    assert sdk.TIMGroupGetGroupInfoList("{}", cb, None) == k.TIM_ERR_JSON
    assert sdk.TIMGroupGetGroupInfoList("[]", cb, None) == k.TIM_ERR_PARAM
    assert sdk.TIMGroupGetGroupInfoList(json.dumps(["x" * 49]), cb, None) == k.TIM_ERR_GROUP
    assert sdk.TIMGroupGetGroupInfoList(json.dumps(["g"] * 51), cb, None) == k.TIM_ERR_PARAM
    no_flag = {MODIFY + "group_id": "g"}
    assert sdk.TIMGroupModifyGroupInfo(json.dumps(no_flag), cb, None) == k.TIM_ERR_PARAM
    long_name = {
        MODIFY + "group_id": "g",
        MODIFY + "modify_flag": 1,
        MODIFY + "group_name": "n" * 101,
    }
    assert sdk.TIMGroupModifyGroupInfo(json.dumps(long_name), cb, None) == k.TIM_ERR_GROUP
    assert sdk.TIMGroupModifyGroupInfo(json.dumps({MODIFY + "group_id": ""}), cb, None) == (
        k.TIM_ERR_PARAM
    )
    no_user = {MEMBER + "group_id": "g", MEMBER + "modify_flag": 8}
    assert sdk.TIMGroupModifyMemberInfo(json.dumps(no_user), cb, None) == k.TIM_ERR_PARAM
    bad_ids = {LIST + "group_id": "g", LIST + "identifier_array": [1]}
    assert sdk.TIMGroupGetMemberInfoList(json.dumps(bad_ids), cb, None) == k.TIM_ERR_PARAM
    assert sdk.TIMGroupGetPendencyList("[]", cb, None) == k.TIM_ERR_JSON
    assert sdk.TIMGroupHandlePendency(json.dumps({}), cb, None) == k.TIM_ERR_PARAM
    assert sdk.TIMGroupReportPendencyReaded(-1, cb, None) == k.TIM_ERR_PARAM
    assert sdk.TIMGroupReportPendencyReaded(1, None, None) == k.TIM_ERR_PARAM
