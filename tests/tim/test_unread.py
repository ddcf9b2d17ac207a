"""Unread counts across C2C and groups, own messages, list order, and one user on two devices."""

from __future__ import annotations

import json
from typing import Any

import pytest

from opentim.tim import keys as k

from .conftest import Tim

pytestmark = pytest.mark.e2e

C2C, GROUP = k.kTIMConv_C2C, k.kTIMConv_Group


def unread_of(tim: Tim, conv_id: str, conv_type: int) -> int:
    info = tim.conv(conv_id, conv_type)
    assert info is not None, f"{tim.user_id} has no conversation {conv_id}"
    return info[k.CONV_UNREAD_NUM]  # type: ignore[no-any-return]


def ids(convs: list[dict[str, Any]]) -> list[str]:
    return [c[k.CONV_ID] for c in convs]


def texts(msgs: list[dict[str, Any]]) -> list[str]:
    return [m[k.MESSAGE_ELEM_ARRAY][0][k.TEXT_ELEM_CONTENT] for m in msgs]


def test_unread_adds_up_over_c2c_and_groups_and_own_messages_never_count(make_tim: Any) -> None:
    p1: Tim = make_tim("u-p1")
    p2: Tim = make_tim("u-p2")
    me: Tim = make_tim("u-me")
    assert me.total_unread() == 0

    p1.send_text("u-me", C2C, "one")
    p1.send_text("u-me", C2C, "two")
    me.totals.wait(lambda t: t == 2)
    p2.create_group("u-g", ["u-me", "u-p1"], **{k.CREATE_GROUP_PARAM_ADD_OPTION: 2})
    for i in range(3):
        p1.send_text("u-g", GROUP, f"g{i}")
    p2.send_text("u-g", GROUP, "g3")
    me.totals.wait(lambda t: t == 6)

    assert me.total_unread() == 6
    assert unread_of(me, "u-p1", C2C) == 2
    assert unread_of(me, "u-g", GROUP) == 4, "the group's creation tips do not count"
    assert ids(me.conv_list()) == ["u-g", "u-p1"], "newest activity first"
    assert unread_of(p1, "u-g", GROUP) == 1, "p1's own three messages are not unread for p1"
    assert unread_of(p2, "u-g", GROUP) == 0

    # Replying reads the conversation (DESIGN §3): own messages never count.
    sent = me.send_text("u-g", GROUP, "reply")
    assert sent[k.MESSAGE_IS_FROM_SELF] is True
    assert sent[k.MESSAGE_IS_READ] is True
    assert unread_of(me, "u-g", GROUP) == 0
    assert me.total_unread() == 2
    me.send_text("u-p1", C2C, "back")
    assert me.total_unread() == 0
    assert ids(me.conv_list()) == ["u-p1", "u-g"]

    # A message flagged excluded-from-unread does not count.
    quiet = {
        k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "quiet"}],
        k.MESSAGE_IS_EXCLUDED_FROM_UNREAD_COUNT: True,
    }
    mark = me.messages.mark()
    p1.ok("TIMMsgSendMessage", "u-me", C2C, json.dumps(quiet), None)
    got = me.messages.wait(lambda m: m[k.MESSAGE_SENDER] == "u-p1", since=mark)
    assert got[k.MESSAGE_IS_EXCLUDED_FROM_UNREAD_COUNT] is True
    assert unread_of(me, "u-p1", C2C) == 0


def test_clean_unread_by_sequence_and_by_scope(make_tim: Any) -> None:
    p1: Tim = make_tim("c-p1")
    me: Tim = make_tim("c-me")
    assert me.total_unread() == 0
    p1.create_group("c-g", ["c-me"])
    seqs = [p1.send_text("c-g", GROUP, f"g{i}")[k.MESSAGE_SEQ] for i in range(3)]
    for i in range(2):
        p1.send_text("c-me", C2C, f"c{i}")
    me.totals.wait(lambda t: t == 5)

    # One group conversation, up to a sequence: the two first are read, the last is not.
    mark = me.conv_events.mark()
    res = me.call("TIMConvCleanConversationUnreadMessageCount", "group_c-g", 0, seqs[1])
    assert (res.code, res.json_params) == (0, "")
    update = next(e for e in me.conv_events.items[mark:] if e.has(k.kTIMConvEvent_Update, "c-g"))
    assert update.convs[0][k.CONV_UNREAD_NUM] == 1
    assert update.convs[0][k.CONV_GROUP_READ_SEQUENCE] == seqs[1]
    history = me.ok("TIMMsgGetMsgList", "c-g", GROUP, json.dumps({"msg_getmsglist_param_count": 3}))
    assert [m[k.MESSAGE_IS_READ] for m in history] == [False, True, True]

    # "group": every group conversation; C2C ones keep theirs.
    me.ok("TIMConvCleanConversationUnreadMessageCount", "group", 0, 0)
    assert unread_of(me, "c-g", GROUP) == 0
    assert unread_of(me, "c-p1", C2C) == 2

    # A C2C timestamp before every message reads nothing; "" reads everything.
    first = me.ok("TIMMsgGetMsgList", "c-p1", C2C, None)[-1]
    before = first[k.MESSAGE_SERVER_TIME] - 1
    me.ok("TIMConvCleanConversationUnreadMessageCount", "c2c_c-p1", before, 0)
    assert unread_of(me, "c-p1", C2C) == 2
    # A timestamp at the first message reads what was sent by then (both, within a second).
    stamp = first[k.MESSAGE_SERVER_TIME]
    later = [
        m for m in me.ok("TIMMsgGetMsgList", "c-p1", C2C, None) if m[k.MESSAGE_SERVER_TIME] > stamp
    ]
    me.ok("TIMConvCleanConversationUnreadMessageCount", "c2c_c-p1", stamp, 0)
    assert unread_of(me, "c-p1", C2C) == len(later)
    mark = me.totals.mark()
    p1.send_text("c-me", C2C, "c2")
    me.totals.wait(lambda t: t == len(later) + 1, since=mark)
    me.ok("TIMConvCleanConversationUnreadMessageCount", "", 0, 0)
    assert me.total_unread() == 0
    assert me.totals.items[-1] == 0


def test_msg_list_is_newest_first_and_pages_by_anchor(make_tim: Any) -> None:
    p1: Tim = make_tim("h-p1")
    me: Tim = make_tim("h-me")
    sent = [p1.send_text("h-me", C2C, f"m{i}") for i in range(5)]

    page = me.ok("TIMMsgGetMsgList", "h-p1", C2C, json.dumps({k.MSG_GETMSGLIST_PARAM_COUNT: 2}))
    assert texts(page) == ["m4", "m3"]
    older = me.ok(
        "TIMMsgGetMsgList",
        "h-p1",
        C2C,
        json.dumps({k.MSG_GETMSGLIST_PARAM_COUNT: 2, k.MSG_GETMSGLIST_PARAM_LAST_MSG: page[-1]}),
    )
    assert texts(older) == ["m2", "m1"], "the anchor itself is left out"
    by_seq = me.ok(
        "TIMMsgGetMsgList",
        "h-p1",
        C2C,
        json.dumps(
            {
                k.MSG_GETMSGLIST_PARAM_COUNT: 10,
                k.MSG_GETMSGLIST_PARAM_LAST_MSG_SEQ: sent[1][k.MESSAGE_SEQ],
            }
        ),
    )
    assert texts(by_seq) == ["m1", "m0"], "last_msg_seq is included"
    assert [m[k.MESSAGE_MSG_ID] for m in by_seq] == [
        sent[1][k.MESSAGE_MSG_ID],
        sent[0][k.MESSAGE_MSG_ID],
    ]
    assert all(m[k.MESSAGE_CONV_ID] == "h-p1" for m in by_seq)
    assert len({m[k.MESSAGE_UNIQUE_ID] for m in page + older}) == 4

    # Both sides see the same message under the same unique id.
    theirs = p1.ok("TIMMsgGetMsgList", "h-me", C2C, json.dumps({k.MSG_GETMSGLIST_PARAM_COUNT: 2}))
    assert [m[k.MESSAGE_UNIQUE_ID] for m in theirs] == [m[k.MESSAGE_UNIQUE_ID] for m in page]
    assert all(m[k.MESSAGE_IS_FROM_SELF] and m[k.MESSAGE_IS_READ] for m in theirs)


def test_two_devices_of_one_user_share_pins_drafts_and_read_state(make_tim: Any) -> None:
    peer: Tim = make_tim("md-peer")
    dev1: Tim = make_tim("md-user", device="phone")
    dev2: Tim = make_tim("md-user", device="laptop")
    for i in range(3):
        peer.send_text("md-user", C2C, f"m{i}")
    for dev in (dev1, dev2):
        dev.conv_events.wait(
            lambda e: any(c[k.CONV_ID] == "md-peer" and c[k.CONV_UNREAD_NUM] == 3 for c in e.convs)
        )

    def on_dev2(pred: Any, mark: int) -> dict[str, Any]:
        """The conversation in dev2's first Update event after ``mark`` that satisfies pred."""
        event = dev2.conv_events.wait(
            lambda e: (
                e.event == k.kTIMConvEvent_Update
                and any(c[k.CONV_ID] == "md-peer" and pred(c) for c in e.convs)
            ),
            since=mark,
        )
        return next(c for c in event.convs if c[k.CONV_ID] == "md-peer")  # type: ignore[no-any-return]

    mark = dev2.conv_events.mark()
    dev1.ok("TIMConvPinConversation", "md-peer", C2C, True)
    seen = on_dev2(lambda c: c[k.CONV_IS_PINNED], mark)
    assert seen[k.CONV_ACTIVE_TIME] & (1 << 62)

    mark = dev2.conv_events.mark()
    draft = {k.DRAFT_MSG: {}, k.DRAFT_USER_DEFINE: "typed on the phone", k.DRAFT_EDIT_TIME: 7}
    assert dev1.sdk.TIMConvSetDraft("md-peer", C2C, json.dumps(draft)) == k.TIM_SUCC
    seen = on_dev2(lambda c: c[k.CONV_IS_HAS_DRAFT], mark)
    assert seen[k.CONV_DRAFT][k.DRAFT_USER_DEFINE] == "typed on the phone"

    mark = dev2.conv_events.mark()
    dev1.ok("TIMMsgReportReaded", "md-peer", C2C, "")
    seen = on_dev2(lambda c: c[k.CONV_UNREAD_NUM] == 0, mark)
    assert seen[k.CONV_IS_PINNED] is True

    assert dev1.conv("md-peer", C2C) == dev2.conv("md-peer", C2C)
    assert dev2.total_unread() == 0

    # A message sent from one device reaches the other as a new message, from self.
    mark = dev2.messages.mark()
    dev1.send_text("md-peer", C2C, "from the phone")
    msg = dev2.messages.wait(lambda m: m[k.MESSAGE_SENDER] == "md-user", since=mark)
    assert msg[k.MESSAGE_IS_FROM_SELF] is True
    assert msg[k.MESSAGE_CONV_ID] == "md-peer"
