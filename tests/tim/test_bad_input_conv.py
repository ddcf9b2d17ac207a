"""Bad input to the functions of issue 3: each refusal has its documented code (DESIGN §6:
synchronous TIM_ERR_*; the server's codes through the callback), never calls back when refused,
and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from opentim.tim import TIMSDK, keys as k

from .conftest import Tim
from .test_bad_input import NeverCalled

pytestmark = pytest.mark.e2e

C2C, GROUP = k.kTIMConv_C2C, k.kTIMConv_Group
J, P, CONV, GRP = k.TIM_ERR_JSON, k.TIM_ERR_PARAM, k.TIM_ERR_CONV, k.TIM_ERR_GROUP
MSG = json.dumps({k.MESSAGE_SEQ: 1, k.MESSAGE_MSG_ID: "x"})


def state(tim: Tim) -> tuple[Any, ...]:
    """Everything the calls below could change (each a READ: a barrier for earlier calls)."""
    return (
        tim.conv_list(),
        tim.total_unread(),
        tim.ok("TIMConvGetConversationGroupList"),
        tim.ok("TIMMsgGetMsgList", "bi-peer", C2C, ""),
    )


@pytest.fixture
def tim(make_tim: Any) -> Tim:
    peer: Tim = make_tim("bi-peer")
    me: Tim = make_tim("bi-me")
    peer.send_text("bi-me", C2C, "hello")
    me.ok("TIMConvCreate", "bi-peer", C2C)
    me.ok("TIMConvCreateConversationGroup", "g", me.ids("c2c_bi-peer"))
    return me


def test_uninitialised_and_logged_out_calls_are_refused(make_tim: Any) -> None:
    cb = NeverCalled()
    fresh = TIMSDK()
    assert fresh.TIMConvGetConversationListByFilter("{}", 0, 10, cb, None) == k.TIM_ERR_SDKUNINIT
    assert fresh.TIMConvSubscribeUnreadMessageCountByFilter("{}") == k.TIM_ERR_SDKUNINIT
    assert fresh.TIMMsgRevoke("x", C2C, MSG, cb, None) == k.TIM_ERR_SDKUNINIT
    logged_out: Tim = make_tim()
    sdk = logged_out.sdk
    assert sdk.TIMConvMarkConversation('["c2c_x"]', 1, True, cb, None) == k.TIM_ERR_NOTLOGIN
    assert sdk.TIMConvGetConversationGroupList(cb, None) == k.TIM_ERR_NOTLOGIN
    assert sdk.TIMConvUnsubscribeUnreadMessageCountByFilter("{}") == k.TIM_ERR_NOTLOGIN
    assert sdk.TIMMsgSetGroupReceiveMessageOpt("g", 0, cb, None) == k.TIM_ERR_NOTLOGIN
    assert sdk.TIMMsgClearHistoryMessage("x", C2C, cb, None) == k.TIM_ERR_NOTLOGIN
    assert cb.calls == []


def test_synchronous_refusals(tim: Tim) -> None:
    cb = NeverCalled()
    before = state(tim)
    sdk: Any = tim.sdk
    ids = '["c2c_bi-peer"]'
    refusals = {
        # filters
        "filter not JSON": (sdk.TIMConvGetConversationListByFilter("{", 0, 10, cb, None), J),
        "filter an array": (sdk.TIMConvGetUnreadMessageCountByFilter("[]", cb, None), J),
        "filter conv_type": (
            sdk.TIMConvGetConversationListByFilter(
                json.dumps({k.CONVERSATION_LIST_FILTER_CONV_TYPE: 3}), 0, 10, cb, None
            ),
            CONV,
        ),
        "filter group type": (
            sdk.TIMConvSubscribeUnreadMessageCountByFilter(
                json.dumps({k.CONVERSATION_LIST_FILTER_CONVERSATION_GROUP: 5})
            ),
            P,
        ),
        "filter mark bits": (
            sdk.TIMConvGetUnreadMessageCountByFilter(
                json.dumps({k.CONVERSATION_LIST_FILTER_MARK_TYPE: 1 << 10}), cb, None
            ),
            P,
        ),
        "filter bool": (
            sdk.TIMConvUnsubscribeUnreadMessageCountByFilter(
                json.dumps({k.CONVERSATION_LIST_FILTER_HAS_UNREAD_COUNT: 1})
            ),
            P,
        ),
        "next_seq negative": (sdk.TIMConvGetConversationListByFilter("{}", -1, 10, cb, None), P),
        "count zero": (sdk.TIMConvGetConversationListByFilter("{}", 0, 0, cb, None), P),
        "count over uint32": (
            sdk.TIMConvGetConversationListByFilter("{}", 0, 1 << 32, cb, None),
            P,
        ),
        "no callback": (sdk.TIMConvGetConversationListByFilter("{}", 0, 10, None, None), P),
        # id arrays
        "ids not JSON": (sdk.TIMConvMarkConversation("c2c_x", 1, True, cb, None), J),
        "ids an object": (sdk.TIMConvDeleteConversationList("{}", True, cb, None), J),
        "ids empty": (sdk.TIMConvSetConversationCustomData("[]", "d", cb, None), P),
        "ids not strings": (sdk.TIMConvAddConversationsToGroup("g", "[1]", cb, None), P),
        "ids None": (sdk.TIMConvDeleteConversationsFromGroup("g", None, cb, None), P),
        # marks, custom data, delete
        "mark zero": (sdk.TIMConvMarkConversation(ids, 0, True, cb, None), P),
        "mark reserved bit": (sdk.TIMConvMarkConversation(ids, 1 << 16, True, cb, None), P),
        "mark over uint64": (sdk.TIMConvMarkConversation(ids, 1 << 64, True, cb, None), P),
        "enable not bool": (sdk.TIMConvMarkConversation(ids, 1, 1, cb, None), P),
        "custom data long": (sdk.TIMConvSetConversationCustomData(ids, "x" * 257, cb, None), P),
        "custom data type": (sdk.TIMConvSetConversationCustomData(ids, 5, cb, None), P),
        "clear_message type": (sdk.TIMConvDeleteConversationList(ids, "yes", cb, None), P),
        # conversation groups
        "group name empty": (sdk.TIMConvCreateConversationGroup("", ids, cb, None), P),
        "group name None": (sdk.TIMConvDeleteConversationGroup(None, cb, None), P),
        "new name empty": (sdk.TIMConvRenameConversationGroup("g", "", cb, None), P),
        "group list cb": (sdk.TIMConvGetConversationGroupList(None, None), P),
        # receive options
        "opt out of enum": (sdk.TIMMsgSetC2CReceiveMessageOpt('["bi-peer"]', 9, cb, None), P),
        "users not JSON": (sdk.TIMMsgSetC2CReceiveMessageOpt("bi-peer", 1, cb, None), J),
        "users empty": (sdk.TIMMsgGetC2CReceiveMessageOpt("[]", cb, None), P),
        "users over 30": (
            sdk.TIMMsgGetC2CReceiveMessageOpt(json.dumps([f"u{i}" for i in range(31)]), cb, None),
            P,
        ),
        "group id invalid": (sdk.TIMMsgSetGroupReceiveMessageOpt("x" * 49, 1, cb, None), GRP),
        "group opt type": (sdk.TIMMsgSetGroupReceiveMessageOpt("g", "1", cb, None), P),
        # revoke, delete, clear
        "revoke conv_type": (sdk.TIMMsgRevoke("bi-peer", 7, MSG, cb, None), CONV),
        "revoke not JSON": (sdk.TIMMsgRevoke("bi-peer", C2C, "{", cb, None), J),
        "revoke no seq": (sdk.TIMMsgRevoke("bi-peer", C2C, "{}", cb, None), P),
        "delete no msg": (sdk.TIMMsgDelete("bi-peer", C2C, "{}", cb, None), P),
        "delete ramble type": (
            sdk.TIMMsgDelete(
                "bi-peer",
                C2C,
                json.dumps(
                    {k.MSG_DELETE_PARAM_MSG: json.loads(MSG), k.MSG_DELETE_PARAM_IS_RAMBLE: 1}
                ),
                cb,
                None,
            ),
            P,
        ),
        "clear empty id": (sdk.TIMMsgClearHistoryMessage("", C2C, cb, None), P),
        "clear conv_type": (sdk.TIMMsgClearHistoryMessage("bi-peer", 0, cb, None), CONV),
    }
    wrong = {name: got for name, (got, want) in refusals.items() if got != want}
    assert wrong == {}
    assert state(tim) == before
    assert cb.calls == []
    with pytest.raises(TypeError):
        sdk.TIMSetConvConversationGroupCreatedCallback(5, None)
    with pytest.raises(TypeError):
        sdk.TIMSetMsgRevokeCallback("nope", None)


def test_server_refusals_arrive_through_the_callback_and_change_nothing(tim: Tim) -> None:
    before = state(tim)
    many = tim.ids(*(f"c2c_u{i}" for i in range(101)))
    codes = {
        "delete list over 100": (
            tim.call("TIMConvDeleteConversationList", many, True).code,
            6017,
        ),
        "mark over 100": (tim.call("TIMConvMarkConversation", many, 1, True).code, 51006),
        "custom over 100": (tim.call("TIMConvSetConversationCustomData", many, "").code, 51006),
        "add over 100": (tim.call("TIMConvAddConversationsToGroup", "g", many).code, 51006),
        "remove over 100": (tim.call("TIMConvDeleteConversationsFromGroup", "g", many).code, 51006),
        "group name long": (
            tim.call("TIMConvCreateConversationGroup", "n" * 33, '["c2c_bi-peer"]').code,
            51011,
        ),
        "rename to long": (tim.call("TIMConvRenameConversationGroup", "g", "n" * 33).code, 51011),
        "rename unknown": (tim.call("TIMConvRenameConversationGroup", "zz", "y").code, 51009),
        "delete unknown group": (tim.call("TIMConvDeleteConversationGroup", "zz").code, 51009),
        "stale next_seq": (
            tim.call("TIMConvGetConversationListByFilter", "{}", 12345 << 32, 10).code,
            6017,
        ),
        "recv opt unknown user": (
            tim.call("TIMMsgSetC2CReceiveMessageOpt", '["nobody"]', 1).code,
            6032,
        ),
        "recv opt unknown group": (
            tim.call("TIMMsgSetGroupReceiveMessageOpt", "nog", 1).code,
            10010,
        ),
        "revoke unknown message": (
            tim.call("TIMMsgRevoke", "bi-peer", C2C, json.dumps({k.MESSAGE_SEQ: 42})).code,
            20003,
        ),
        "revoke in unknown group": (
            tim.call("TIMMsgRevoke", "nog", GROUP, json.dumps({k.MESSAGE_SEQ: 1})).code,
            10010,
        ),
        "delete locally, unknown message": (
            tim.call(
                "TIMMsgDelete",
                "bi-peer",
                C2C,
                json.dumps({k.MSG_DELETE_PARAM_MSG: {k.MESSAGE_SEQ: 42}}),
            ).code,
            6017,
        ),
        "delete in the cloud, unknown message": (
            tim.call(
                "TIMMsgDelete",
                "bi-peer",
                C2C,
                json.dumps(
                    {
                        k.MSG_DELETE_PARAM_MSG: {k.MESSAGE_SEQ: 42},
                        k.MSG_DELETE_PARAM_IS_RAMBLE: True,
                    }
                ),
            ).code,
            6017,
        ),
        "clear unknown conversation": (
            tim.call("TIMMsgClearHistoryMessage", "nobody", C2C).code,
            6004,
        ),
    }
    wrong = {name: got for name, (got, want) in codes.items() if got != want}
    assert wrong == {}
    assert state(tim) == before
