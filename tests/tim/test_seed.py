"""The seed document's conversation scenarios (reference/seed-conversation-api.md), end to end
through the TIM functions against a real server."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from opentim.tim import keys as k

from .conftest import Tim

pytestmark = pytest.mark.e2e

# The seed's TIMConvGetConvInfo example, verbatim: the shapes opentim returns.
SEED_CONV_INFO: dict[str, Any] = json.loads(
    """
{
  "conv_active_time": 5,
  "conv_id": "98826",
  "conv_is_has_draft": false,
  "conv_is_has_lastmsg": true,
  "conv_is_pinned": false,
  "conv_last_msg": {
      "message_client_time": 1620877708,
      "message_conv_id": "98826",
      "message_conv_type": 1,
      "message_custom_int": 0,
      "message_custom_str": "",
      "message_elem_array": [{
          "elem_type": 0,
          "text_elem_content": "11111"
  }],
      "message_is_from_self": false,
      "message_is_online_msg": false,
      "message_is_peer_read": false,
      "message_is_read": false,
      "message_msg_id": "144115233874815003-1620877708-1038050731",
      "message_platform": 0,
      "message_priority": 1,
      "message_rand": 1038050731,
      "message_sender": "98826",
      "message_sender_profile": {
          "user_profile_add_permission": 1,
          "user_profile_birthday": 0,
          "user_profile_custom_string_array": [],
          "user_profile_face_url": "test1-www.google.com",
          "user_profile_gender": 0,
          "user_profile_identifier": "98826",
          "user_profile_language": 0,
          "user_profile_level": 0,
          "user_profile_location": "",
          "user_profile_nick_name": "test change8888",
          "user_profile_role": 0,
          "user_profile_self_signature": ""
      },
      "message_seq": 15840,
      "message_server_time": 1620877708,
      "message_status": 2,
      "message_unique_id": 6961616747713488299
   },
   "conv_type": 1,
   "conv_unread_num": 1
}
"""
)

PINNED = 1 << 62


def assert_seed_shape(expected: Any, actual: Any, path: str = "ConvInfo") -> None:
    """Every key of the seed's example is present, with the same JSON type, recursively."""
    assert type(actual) is type(expected), f"{path}: {actual!r} vs seed {expected!r}"
    if isinstance(expected, dict):
        for key, value in expected.items():
            assert key in actual, f"{path}: missing {key}"
            assert_seed_shape(value, actual[key], f"{path}.{key}")
    elif isinstance(expected, list) and expected:
        for item in actual:
            assert_seed_shape(expected[0], item, f"{path}[]")


def ids(convs: list[dict[str, Any]]) -> list[str]:
    return [c[k.CONV_ID] for c in convs]


def test_conv_create_c2c_and_group_as_the_seed_examples(make_tim: Any) -> None:
    make_tim("Windows-02")
    me: Tim = make_tim("Windows-01")

    c2c = me.ok("TIMConvCreate", "Windows-02", k.kTIMConv_C2C)
    assert isinstance(c2c, dict), "TIMConvCreate calls back with one ConvInfo object"
    assert c2c[k.CONV_ID] == "Windows-02"
    assert c2c[k.CONV_TYPE] == k.kTIMConv_C2C
    assert c2c[k.CONV_UNREAD_NUM] == 0
    assert c2c[k.CONV_IS_HAS_LASTMSG] is False
    assert k.CONV_LAST_MSG not in c2c
    # The Add event reached the app before the callback that shows the conversation.
    assert any(e.has(k.kTIMConvEvent_Add, "Windows-02") for e in me.conv_events.items)

    me.create_group("Windows-Group-01", ["Windows-02"])
    group = me.ok("TIMConvCreate", "Windows-Group-01", k.kTIMConv_Group)
    assert group[k.CONV_ID] == "Windows-Group-01"
    assert group[k.CONV_TYPE] == k.kTIMConv_Group
    assert group[k.CONV_GROUP_TYPE] == k.kTIMGroup_Public
    assert group[k.CONV_UNREAD_NUM] == 0, "the creation tips message is not unread"
    assert group[k.CONV_IS_HAS_LASTMSG] is True
    assert group[k.CONV_LAST_MSG][k.MESSAGE_ELEM_ARRAY][0][k.ELEM_TYPE] == k.kTIMElem_GroupTips

    again = me.ok("TIMConvCreate", "Windows-02", k.kTIMConv_C2C)
    assert again[k.CONV_ACTIVE_TIME] == c2c[k.CONV_ACTIVE_TIME], "an existing one is not bumped"
    assert ids(me.conv_list()) == ["Windows-Group-01", "Windows-02"]


def test_conv_list_and_conv_info_have_the_seed_keys_and_types(make_tim: Any) -> None:
    peer: Tim = make_tim("98826")
    me: Tim = make_tim("seed-me")
    mark = me.conv_events.mark()
    peer.send_text("seed-me", k.kTIMConv_C2C, "11111")
    me.conv_events.wait(lambda e: e.has(k.kTIMConvEvent_Add, "98826"), since=mark)

    listed = me.conv_list()
    assert ids(listed) == ["98826"]
    assert_seed_shape(SEED_CONV_INFO, listed[0])
    info = me.conv("98826", k.kTIMConv_C2C)
    assert info is not None
    assert_seed_shape(SEED_CONV_INFO, info)
    assert info[k.CONV_UNREAD_NUM] == 1
    last = info[k.CONV_LAST_MSG]
    assert last[k.MESSAGE_CONV_ID] == "98826", "message_conv_id as the reader sees it"
    assert last[k.MESSAGE_SENDER] == "98826"
    assert last[k.MESSAGE_IS_FROM_SELF] is False
    assert last[k.MESSAGE_IS_READ] is False
    assert last[k.MESSAGE_STATUS] == k.kTIMMsg_SendSucc
    assert last[k.MESSAGE_ELEM_ARRAY] == [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "11111"}]
    assert last[k.MESSAGE_SENDER_PROFILE][k.USER_PROFILE_IDENTIFIER] == "98826"

    # Unknown ids are left out, known ones come in the order asked.
    param = [
        {
            k.GET_CONVERSATION_LIST_PARAM_CONV_ID: "nobody",
            k.GET_CONVERSATION_LIST_PARAM_CONV_TYPE: 1,
        },
        {
            k.GET_CONVERSATION_LIST_PARAM_CONV_ID: "98826",
            k.GET_CONVERSATION_LIST_PARAM_CONV_TYPE: 1,
        },
    ]
    assert ids(me.ok("TIMConvGetConvInfo", json.dumps(param))) == ["98826"]

    # The sender sees the same message as read and from self.
    mine = peer.conv("seed-me", k.kTIMConv_C2C)
    assert mine is not None
    assert mine[k.CONV_UNREAD_NUM] == 0
    assert mine[k.CONV_LAST_MSG][k.MESSAGE_IS_FROM_SELF] is True
    assert mine[k.CONV_LAST_MSG][k.MESSAGE_IS_READ] is True
    assert mine[k.CONV_LAST_MSG][k.MESSAGE_CONV_ID] == "seed-me"


def test_draft_with_user_define_is_read_back_and_cancelled(make_tim: Any) -> None:
    make_tim("draft-peer")
    me: Tim = make_tim("draft-me")
    created = me.ok("TIMConvCreate", "draft-peer", k.kTIMConv_C2C)
    draft = {
        k.DRAFT_EDIT_TIME: 1551271429,
        k.DRAFT_MSG: {
            k.MESSAGE_ELEM_ARRAY: [
                {k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: "this draft"}
            ]
        },
        k.DRAFT_USER_DEFINE: "this is userdefine",
    }
    mark = me.conv_events.mark()
    before = int(time.time())
    assert me.sdk.TIMConvSetDraft("draft-peer", k.kTIMConv_C2C, json.dumps(draft)) == k.TIM_SUCC
    event = me.conv_events.wait(lambda e: e.has(k.kTIMConvEvent_Update, "draft-peer"), since=mark)
    assert event.convs[0][k.CONV_IS_HAS_DRAFT] is True

    info = me.conv("draft-peer", k.kTIMConv_C2C)
    assert info is not None
    assert info[k.CONV_IS_HAS_DRAFT] is True
    # draft_edit_time is read-only (the SDK fills it): the time of the set, not the app's.
    stamped = info[k.CONV_DRAFT].pop(k.DRAFT_EDIT_TIME)
    assert before <= stamped <= int(time.time())
    assert info[k.CONV_DRAFT] == {key: v for key, v in draft.items() if key != k.DRAFT_EDIT_TIME}
    assert info[k.CONV_ACTIVE_TIME] > created[k.CONV_ACTIVE_TIME], "setting a draft bumps"

    mark = me.conv_events.mark()
    assert me.sdk.TIMConvCancelDraft("draft-peer", k.kTIMConv_C2C) == k.TIM_SUCC
    me.conv_events.wait(lambda e: e.has(k.kTIMConvEvent_Update, "draft-peer"), since=mark)
    info2 = me.conv("draft-peer", k.kTIMConv_C2C)
    assert info2 is not None
    assert info2[k.CONV_IS_HAS_DRAFT] is False
    assert k.CONV_DRAFT not in info2
    assert info2[k.CONV_ACTIVE_TIME] == info[k.CONV_ACTIVE_TIME], "cancelling does not bump"


def test_pin_and_unpin_reorder_the_list(make_tim: Any) -> None:
    make_tim("pin-a")
    make_tim("pin-b")
    me: Tim = make_tim("pin-me")
    me.ok("TIMConvCreate", "pin-a", k.kTIMConv_C2C)
    me.ok("TIMConvCreate", "pin-b", k.kTIMConv_C2C)
    assert ids(me.conv_list()) == ["pin-b", "pin-a"]

    assert me.ok("TIMConvPinConversation", "pin-a", k.kTIMConv_C2C, True) is None
    listed = me.conv_list()
    assert ids(listed) == ["pin-a", "pin-b"]
    pinned = listed[0]
    assert pinned[k.CONV_IS_PINNED] is True
    assert pinned[k.CONV_ACTIVE_TIME] & PINNED, "a pinned conversation has bit 62 set"
    assert not listed[1][k.CONV_ACTIVE_TIME] & PINNED

    # Pinning bumped pin-a (DESIGN §3); a message bumps pin-b, which stays below the pinned one.
    me.send_text("pin-b", k.kTIMConv_C2C, "news")
    assert ids(me.conv_list()) == ["pin-a", "pin-b"]

    res = me.call("TIMConvPinConversation", "pin-a", k.kTIMConv_C2C, False)
    assert (res.code, res.json_params) == (0, "")
    listed = me.conv_list()
    assert ids(listed) == ["pin-b", "pin-a"]
    assert listed[1][k.CONV_IS_PINNED] is False
    assert listed[1][k.CONV_ACTIVE_TIME] == pinned[k.CONV_ACTIVE_TIME] & ~PINNED


def test_delete_fires_del_and_the_peer_keeps_theirs(make_tim: Any) -> None:
    peer: Tim = make_tim("del-peer")
    me: Tim = make_tim("del-me")
    me.send_text("del-peer", k.kTIMConv_C2C, "hello")
    mark = me.conv_events.mark()
    res = me.call("TIMConvDelete", "del-peer", k.kTIMConv_C2C)
    assert (res.code, res.json_params) == (0, "")
    # The Del event was delivered before the callback.
    assert any(e.has(k.kTIMConvEvent_Del, "del-peer") for e in me.conv_events.items[mark:])
    assert me.conv_list() == []
    assert me.conv("del-peer", k.kTIMConv_C2C) is None

    theirs = peer.conv("del-me", k.kTIMConv_C2C)
    assert theirs is not None
    assert theirs[k.CONV_LAST_MSG][k.MESSAGE_ELEM_ARRAY][0][k.TEXT_ELEM_CONTENT] == "hello"
    assert ids(peer.conv_list()) == ["del-me"]


@pytest.mark.parametrize(
    "read_with", ["TIMMsgReportReaded", "TIMConvCleanConversationUnreadMessageCount"]
)
def test_total_unread_is_4_after_four_messages_and_0_after_reading(
    make_tim: Any, read_with: str
) -> None:
    peer: Tim = make_tim("unread-peer")
    me: Tim = make_tim("unread-me")
    assert me.total_unread() == 0  # from now on, the total-unread callback fires
    for i in range(4):
        peer.send_text("unread-me", k.kTIMConv_C2C, f"m{i}")
    me.totals.wait(lambda total: total == 4)
    assert me.ok("TIMConvGetTotalUnreadMessageCount") == {
        k.CONV_GET_TOTAL_UNREAD_MESSAGE_COUNT_RESULT_UNREAD_COUNT: 4
    }
    info = me.conv("unread-peer", k.kTIMConv_C2C)
    assert info is not None
    assert info[k.CONV_UNREAD_NUM] == 4

    mark = me.totals.mark()
    if read_with == "TIMMsgReportReaded":
        res = me.call(read_with, "unread-peer", k.kTIMConv_C2C, None)
    else:
        res = me.call(read_with, "c2c_unread-peer", 0, 0)
    assert (res.code, res.json_params) == (0, "")
    assert me.totals.items[mark:] == [0], "the change was announced before the callback"
    assert me.total_unread() == 0
    info = me.conv("unread-peer", k.kTIMConv_C2C)
    assert info is not None
    assert info[k.CONV_UNREAD_NUM] == 0
    assert info[k.CONV_LAST_MSG][k.MESSAGE_IS_READ] is True
