"""The message-side TIM functions the conversation API needs, end to end: revoke (and the revoke
and update callbacks), delete, clear history, group tips, @-mentions until read, and the
UserSig-expired callback."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from opentim.tim import keys as k

from .conftest import ServerThread, Tim

pytestmark = pytest.mark.e2e

C2C, GROUP = k.kTIMConv_C2C, k.kTIMConv_Group


def group_with(make_tim: Any, owner: str, members: list[str], group_id: str) -> list[Tim]:
    tims: list[Tim] = [make_tim(u) for u in [owner, *members]]
    for tim in tims:
        assert tim.total_unread() == 0
    tims[0].create_group(group_id, members, **{k.CREATE_GROUP_PARAM_ADD_OPTION: 2})
    return tims


def test_revoke_reaches_the_peer_and_the_last_message_follows(make_tim: Any) -> None:
    alice: Tim = make_tim("ra")
    bob: Tim = make_tim("rb")
    assert bob.total_unread() == 0
    sent = alice.send_text("rb", C2C, "oops")
    bob.totals.wait(lambda t: t == 1)
    assert alice.ok("TIMMsgRevoke", "rb", C2C, json.dumps(sent)) is None
    revoked = bob.revoked.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID])
    assert revoked[k.MESSAGE_STATUS] == k.kTIMMsg_Revoked
    assert revoked[k.MESSAGE_REVOKER_USER_ID] == "ra"
    assert revoked[k.MESSAGE_ELEM_ARRAY] == []
    updated = bob.updated.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID])
    assert updated[k.MESSAGE_STATUS] == k.kTIMMsg_Revoked
    info = bob.conv("ra", C2C)
    assert info is not None
    assert info[k.CONV_LAST_MSG][k.MESSAGE_STATUS] == k.kTIMMsg_Revoked
    assert info[k.CONV_UNREAD_NUM] == 1, "a revoked message stays counted (DESIGN §3)"
    mine = alice.conv("rb", C2C)
    assert mine is not None
    assert mine[k.CONV_LAST_MSG][k.MESSAGE_STATUS] == k.kTIMMsg_Revoked
    history = bob.ok("TIMMsgGetMsgList", "ra", C2C, "")
    assert history[0][k.MESSAGE_STATUS] == k.kTIMMsg_Revoked
    # Only the sender may revoke a C2C message; an unknown one is refused.
    assert bob.call("TIMMsgRevoke", "ra", C2C, json.dumps(sent)).code == 7014
    ghost = {**sent, k.MESSAGE_SEQ: 99}
    assert alice.call("TIMMsgRevoke", "rb", C2C, json.dumps(ghost)).code == 20003


def test_group_revoke_by_admin_and_refusals(make_tim: Any) -> None:
    owner, me, other = group_with(make_tim, "go", ["gm", "gx"], "rg")
    sent = me.send_text("rg", GROUP, "hello")
    assert other.call("TIMMsgRevoke", "rg", GROUP, json.dumps(sent)).code == 10032
    assert owner.ok("TIMMsgRevoke", "rg", GROUP, json.dumps(sent)) is None
    other.revoked.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID])
    missing = {**sent, k.MESSAGE_SEQ: 999}
    assert owner.call("TIMMsgRevoke", "rg", GROUP, json.dumps(missing)).code == 10030


def test_revoke_time_limit(make_tim: Any, server: ServerThread) -> None:
    alice: Tim = make_tim("ta")
    make_tim("tb")
    sent = alice.send_text("tb", C2C, "old")
    server.server.config.limits.revoke_seconds = 1
    # The service's clock, moved 5 s ahead: the message is now too old to revoke.
    messages = server.server._gateway.services.messages  # type: ignore[union-attr]
    messages.clock = lambda: time.time() + 5
    assert alice.call("TIMMsgRevoke", "tb", C2C, json.dumps(sent)).code == 20016


def test_delete_message_for_me_only_locally_or_everywhere(make_tim: Any) -> None:
    alice: Tim = make_tim("da")
    bob: Tim = make_tim("db")
    first = alice.send_text("db", C2C, "one")
    second = alice.send_text("db", C2C, "two")
    phone: Tim = make_tim("db", device="phone")
    cloud = {k.MSG_DELETE_PARAM_MSG: second, k.MSG_DELETE_PARAM_IS_RAMBLE: True}
    assert bob.ok("TIMMsgDelete", "da", C2C, json.dumps(cloud)) is None
    assert [m[k.MESSAGE_SEQ] for m in bob.ok("TIMMsgGetMsgList", "da", C2C, "")] == [1]
    assert [m[k.MESSAGE_SEQ] for m in phone.ok("TIMMsgGetMsgList", "da", C2C, "")] == [1]
    assert [m[k.MESSAGE_SEQ] for m in alice.ok("TIMMsgGetMsgList", "db", C2C, "")] == [2, 1]
    info = bob.conv("da", C2C)
    assert info is not None
    assert info[k.CONV_LAST_MSG][k.MESSAGE_MSG_ID] == first[k.MESSAGE_MSG_ID]
    local = {k.MSG_DELETE_PARAM_MSG: first}
    assert phone.ok("TIMMsgDelete", "da", C2C, json.dumps(local)) is None
    assert phone.ok("TIMMsgGetMsgList", "da", C2C, "") == []
    assert len(bob.ok("TIMMsgGetMsgList", "da", C2C, "")) == 1, "local deletion stays local"
    gone = {
        k.MSG_DELETE_PARAM_MSG: {**first, k.MESSAGE_SEQ: 50},
        k.MSG_DELETE_PARAM_IS_RAMBLE: True,
    }
    assert bob.call("TIMMsgDelete", "da", C2C, json.dumps(gone)).code == 6017


def test_clear_history_keeps_the_conversation(make_tim: Any) -> None:
    alice: Tim = make_tim("ca")
    bob: Tim = make_tim("cb")
    assert bob.total_unread() == 0
    alice.send_text("cb", C2C, "one")
    alice.send_text("cb", C2C, "two")
    bob.totals.wait(lambda t: t == 2)
    assert bob.ok("TIMMsgClearHistoryMessage", "ca", C2C) is None
    assert bob.ok("TIMMsgGetMsgList", "ca", C2C, "") == []
    info = bob.conv("ca", C2C)
    assert info is not None
    assert info[k.CONV_IS_HAS_LASTMSG] is False
    assert info[k.CONV_UNREAD_NUM] == 0
    assert [c[k.CONV_ID] for c in bob.conv_list()] == ["ca"]
    assert len(alice.ok("TIMMsgGetMsgList", "cb", C2C, "")) == 2, "only for the user"
    assert bob.call("TIMMsgClearHistoryMessage", "nobody", C2C).code == 6004


def test_group_tips_reach_the_callback_and_never_count(make_tim: Any) -> None:
    owner, me = group_with(make_tim, "to", ["tm"], "tg")
    newcomer: Tim = make_tim("tn")
    assert newcomer.ok("TIMGroupJoin", "tg", "") is None
    joined = me.tips.wait(lambda t: t[k.GROUP_TIPS_ELEM_TIP_TYPE] == k.kTIMGroupTip_Invite)
    assert joined[k.GROUP_TIPS_ELEM_GROUP_ID] == "tg"
    remove = {
        k.GROUP_DELETE_MEMBER_PARAM_GROUP_ID: "tg",
        k.GROUP_DELETE_MEMBER_PARAM_IDENTIFIER_ARRAY: ["tn"],
    }
    owner.ok("TIMGroupDeleteMember", json.dumps(remove))
    kicked = me.tips.wait(lambda t: t[k.GROUP_TIPS_ELEM_TIP_TYPE] == k.kTIMGroupTip_Kick)
    assert kicked[k.GROUP_TIPS_ELEM_USER_ARRAY] == ["tn"]
    info = me.conv("tg", GROUP)
    assert info is not None
    assert info[k.CONV_UNREAD_NUM] == 0
    assert info[k.CONV_LAST_MSG][k.MESSAGE_ELEM_ARRAY][0][k.ELEM_TYPE] == k.kTIMElem_GroupTips
    assert me.total_unread() == 0


def test_mentions_fill_at_info_until_read(make_tim: Any) -> None:
    owner, me, other = group_with(make_tim, "ao", ["am", "ax"], "ag")

    def at(users: list[str]) -> dict[str, Any]:
        msg = {
            k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "ping"}],
            k.MESSAGE_GROUP_AT_USER_ARRAY: users,
        }
        return owner.ok("TIMMsgSendMessage", "ag", GROUP, json.dumps(msg), None)  # type: ignore[no-any-return]

    m1 = at(["am"])
    m2 = at([k.kImSDK_MessageAtALL])
    m3 = at([k.kImSDK_MessageAtALL, "am"])
    me.totals.wait(lambda t: t == 3)
    info = me.conv("ag", GROUP)
    assert info is not None
    assert info[k.CONV_GROUP_AT_INFO_ARRAY] == [
        {k.CONV_GROUP_AT_INFO_SEQ: m1[k.MESSAGE_SEQ], k.CONV_GROUP_AT_INFO_AT_TYPE: 1},
        {k.CONV_GROUP_AT_INFO_SEQ: m2[k.MESSAGE_SEQ], k.CONV_GROUP_AT_INFO_AT_TYPE: 2},
        {k.CONV_GROUP_AT_INFO_SEQ: m3[k.MESSAGE_SEQ], k.CONV_GROUP_AT_INFO_AT_TYPE: 3},
    ]
    other.totals.wait(lambda t: t == 3)
    theirs = other.conv("ag", GROUP)
    assert theirs is not None
    assert [a[k.CONV_GROUP_AT_INFO_AT_TYPE] for a in theirs[k.CONV_GROUP_AT_INFO_ARRAY]] == [2, 2]
    mine = owner.conv("ag", GROUP)
    assert mine is not None
    assert mine[k.CONV_GROUP_AT_INFO_ARRAY] == []
    me.ok("TIMConvCleanConversationUnreadMessageCount", "group_ag", 0, m2[k.MESSAGE_SEQ])
    info = me.conv("ag", GROUP)
    assert info is not None
    assert [a[k.CONV_GROUP_AT_INFO_SEQ] for a in info[k.CONV_GROUP_AT_INFO_ARRAY]] == [
        m3[k.MESSAGE_SEQ]
    ]
    me.ok("TIMConvCleanConversationUnreadMessageCount", "group_ag", 0, 0)
    info = me.conv("ag", GROUP)
    assert info is not None
    assert info[k.CONV_GROUP_AT_INFO_ARRAY] == []


def test_user_sig_expired_callback(make_tim: Any, server: ServerThread) -> None:
    tim: Tim = make_tim()
    expired = server.sig("late", now=int(time.time()) - 1000, expire=10)
    res = tim.call("TIMLogin", "late", expired)
    assert res.code == 70001
    assert tim.sig_expired.wait(lambda ud: True) is tim
