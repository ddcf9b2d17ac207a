"""One event per change: how many conversation events each TIM call gives, on the device that
made it, on the user's other device, and on the peer (docs/tim-mapping.md, "Events per call").

Counting needs to know that every event of a call has come. On the calling device, a read
after the call waits for the change (and the SDK emits a change's events before its call
returns). On the other devices, the caller then changes a second conversation (the fence):
pushes reach a device in order, so once the fence's event is there, the call's are too. The
peer's fence is a message from a third user.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from opentim.tim import keys as k

from .conftest import Tim

C2C = k.kTIMConv_C2C
ADD, DEL, UPD = k.kTIMConvEvent_Add, k.kTIMConvEvent_Del, k.kTIMConvEvent_Update
PEER, FENCE = "ev-peer", "ev-fence"


class Devices:
    """``me`` on two devices, a peer, and a fence conversation."""

    def __init__(self, make_tim: Callable[..., Tim]) -> None:
        self.peer = make_tim(PEER)
        self.fence = make_tim(FENCE)
        self.me = make_tim("ev-me", device="first")
        self.other = make_tim("ev-me", device="second")
        self.fence_pinned = False
        self.me.ok("TIMConvCreate", FENCE, C2C)
        self.other.conv_events.wait(lambda e: e.has(ADD, FENCE))

    def marks(self) -> tuple[int, int, int]:
        return self.me.conv_events.mark(), self.other.conv_events.mark(), self.peer_mark()

    def peer_mark(self) -> int:
        return self.peer.conv_events.mark()

    def settle(self) -> None:
        """Wait until every event of what ``me`` did so far has reached both devices."""
        self.me.conv_list()
        mark = self.other.conv_events.mark()
        self.fence_pinned = not self.fence_pinned
        self.me.ok("TIMConvPinConversation", FENCE, C2C, self.fence_pinned)
        self.other.conv_events.wait(lambda e: e.has(UPD, FENCE), since=mark)


def events(tim: Tim, conv_id: str, since: int) -> list[int]:
    """The kinds of the conversation events about ``conv_id`` since ``since``, in order."""
    return [e.event for e in tim.conv_events.items[since:] if e.has(e.event, conv_id)]


DRAFT = json.dumps({k.DRAFT_USER_DEFINE: "typing", k.DRAFT_EDIT_TIME: 1})
TEXT = json.dumps(
    {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: "hi"}]}
)
Call = Callable[[Tim], None]


def no_cb(name: str, *args: Any) -> Call:
    return lambda tim: getattr(tim.sdk, name)(*args)


def with_cb(name: str, *args: Any) -> Call:
    return lambda tim: tim.ok(name, *args)


# (call, events on the calling device, on the user's other device, on the peer)
CALLS: dict[str, tuple[Call, list[int], list[int], list[int]]] = {
    "TIMConvSetDraft": (no_cb("TIMConvSetDraft", PEER, C2C, DRAFT), [UPD], [UPD], []),
    "TIMConvCancelDraft": (no_cb("TIMConvCancelDraft", PEER, C2C), [UPD], [UPD], []),
    "TIMConvPinConversation": (
        with_cb("TIMConvPinConversation", PEER, C2C, True),
        [UPD],
        [UPD],
        [],
    ),
    "TIMConvMarkConversation": (
        with_cb("TIMConvMarkConversation", json.dumps([f"c2c_{PEER}"]), 1, True),
        [UPD],
        [UPD],
        [],
    ),
    "TIMConvSetConversationCustomData": (
        with_cb("TIMConvSetConversationCustomData", json.dumps([f"c2c_{PEER}"]), "cd"),
        [UPD],
        [UPD],
        [],
    ),
    "TIMConvCreateConversationGroup": (
        with_cb("TIMConvCreateConversationGroup", "work", json.dumps([f"c2c_{PEER}"])),
        [UPD],
        [UPD],
        [],
    ),
    "TIMMsgSetC2CReceiveMessageOpt": (
        with_cb("TIMMsgSetC2CReceiveMessageOpt", json.dumps([PEER]), 2),
        [UPD],
        [UPD],
        [],
    ),
    "TIMMsgReportReaded": (with_cb("TIMMsgReportReaded", PEER, C2C, ""), [UPD], [UPD], []),
    "TIMConvCleanConversationUnreadMessageCount": (
        with_cb("TIMConvCleanConversationUnreadMessageCount", f"c2c_{PEER}", 0, 0),
        [UPD],
        [UPD],
        [],
    ),
    "TIMMsgSendMessage": (
        with_cb("TIMMsgSendMessage", PEER, C2C, TEXT, None),
        [UPD],
        [UPD],
        [UPD],
    ),
    "TIMMsgClearHistoryMessage": (
        with_cb("TIMMsgClearHistoryMessage", PEER, C2C),
        [UPD],
        [UPD],
        [],
    ),
    "TIMConvDelete": (with_cb("TIMConvDelete", PEER, C2C), [DEL], [DEL], []),
    "TIMConvDeleteConversationList": (
        with_cb("TIMConvDeleteConversationList", json.dumps([f"c2c_{PEER}"]), True),
        [DEL],
        [DEL],
        [],
    ),
}


def revoke_last(tim: Tim) -> None:
    sent = tim.send_text(PEER, C2C, "oops")
    tim.ok("TIMMsgRevoke", PEER, C2C, json.dumps(sent))


# A send, then its revoke: one event each.
CALLS["TIMMsgRevoke"] = (revoke_last, [UPD, UPD], [UPD, UPD], [UPD, UPD])
CALLS["TIMConvAddConversationsToGroup"] = (
    with_cb("TIMConvAddConversationsToGroup", "work", json.dumps([f"c2c_{PEER}"])),
    [UPD],
    [UPD],
    [],
)
CALLS["TIMConvDeleteConversationGroup"] = (
    with_cb("TIMConvDeleteConversationGroup", "work"),
    [UPD],
    [UPD],
    [],
)
PREPARE: dict[str, Call] = {
    "TIMConvCancelDraft": no_cb("TIMConvSetDraft", PEER, C2C, DRAFT),
    "TIMConvAddConversationsToGroup": with_cb(
        "TIMConvCreateConversationGroup", "work", json.dumps([f"c2c_{FENCE}"])
    ),
    "TIMConvDeleteConversationGroup": with_cb(
        "TIMConvCreateConversationGroup", "work", json.dumps([f"c2c_{PEER}"])
    ),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_each_call_gives_one_event_per_device(make_tim: Any, name: str) -> None:
    d = Devices(make_tim)
    d.peer.send_text("ev-me", C2C, "unread")  # so reading, drafting … all change something
    d.me.conv_events.wait(lambda e: e.has(ADD, PEER))
    d.other.conv_events.wait(lambda e: e.has(ADD, PEER))
    if name in PREPARE:
        PREPARE[name](d.me)
        d.settle()
    call, on_me, on_other, on_peer = CALLS[name]
    mine, others, peers = d.marks()
    call(d.me)
    d.settle()
    # The peer's fence: a message from a third user, pushed after whatever we gave it.
    d.fence.send_text(PEER, C2C, "fence")
    d.peer.conv_events.wait(lambda e: e.has(e.event, FENCE), since=peers)
    seen = (events(d.me, PEER, mine), events(d.other, PEER, others), events(d.peer, "ev-me", peers))
    assert seen == (on_me, on_other, on_peer)


NEW = "ev-new"
STARTS: dict[str, Call] = {
    "TIMConvCreate": with_cb("TIMConvCreate", NEW, C2C),
    "TIMConvSetDraft": no_cb("TIMConvSetDraft", NEW, C2C, DRAFT),
    "TIMMsgSendMessage": with_cb("TIMMsgSendMessage", NEW, C2C, TEXT, None),
    "TIMGroupCreate": with_cb(
        "TIMGroupCreate",
        json.dumps(
            {
                k.CREATE_GROUP_PARAM_GROUP_NAME: NEW,
                k.CREATE_GROUP_PARAM_GROUP_ID: NEW,
                k.CREATE_GROUP_PARAM_GROUP_MEMBER_ARRAY: [{k.GROUP_MEMBER_INFO_IDENTIFIER: PEER}],
            }
        ),
    ),
}


@pytest.mark.parametrize("name", list(STARTS))
def test_a_call_that_starts_a_conversation_gives_one_add_per_device(
    make_tim: Any, name: str
) -> None:
    d = Devices(make_tim)
    new_user = make_tim(NEW)
    mine, others, _ = d.marks()
    theirs = new_user.conv_events.mark()
    STARTS[name](d.me)
    d.settle()
    assert (events(d.me, NEW, mine), events(d.other, NEW, others)) == ([ADD], [ADD])
    if name == "TIMConvCreate":  # again, on a conversation that exists: nothing changes
        d.me.ok("TIMConvCreate", NEW, C2C)
        d.settle()
        assert (events(d.me, NEW, mine), events(d.other, NEW, others)) == ([ADD], [ADD])
    if name == "TIMMsgSendMessage":
        new_user.conv_events.wait(lambda e: e.has(ADD, "ev-me"), since=theirs)
        d.fence.send_text(NEW, C2C, "fence")
        new_user.conv_events.wait(lambda e: e.has(e.event, FENCE), since=theirs)
        assert events(new_user, "ev-me", theirs) == [ADD]


GROUP_ID = "ev-group"


def group_param(key: str, ids: list[str]) -> str:
    """A GroupInviteMemberParam / GroupDeleteMemberParam."""
    prefix = key.removesuffix("group_id")
    return json.dumps({key: GROUP_ID, prefix + "identifier_array": ids})


# (call, events on me, on my other device, on the peer (a member), on the fence user)
GROUP_CALLS: dict[str, tuple[Call, list[int], list[int], list[int], list[int]]] = {
    "TIMGroupInviteMember": (
        with_cb("TIMGroupInviteMember", group_param(k.GROUP_INVITE_MEMBER_PARAM_GROUP_ID, [FENCE])),
        [UPD],
        [UPD],
        [UPD],
        [ADD],
    ),
    "TIMGroupDeleteMember": (
        with_cb("TIMGroupDeleteMember", group_param(k.GROUP_DELETE_MEMBER_PARAM_GROUP_ID, [PEER])),
        [UPD],
        [UPD],
        [UPD],
        [],
    ),
    # Here the fence user owns the group and me quits it.
    "TIMGroupQuit": (with_cb("TIMGroupQuit", GROUP_ID), [UPD], [UPD], [UPD], [UPD]),
    "TIMGroupDelete": (with_cb("TIMGroupDelete", GROUP_ID), [UPD], [UPD], [UPD], []),
}


@pytest.mark.parametrize("name", list(GROUP_CALLS))
def test_each_group_call_gives_one_event_per_device(make_tim: Any, name: str) -> None:
    d = Devices(make_tim)
    owner = d.fence if name == "TIMGroupQuit" else d.me
    owner.create_group(GROUP_ID, [PEER] if owner is d.me else [PEER, "ev-me"])
    for tim in (d.me, d.other, d.peer):
        tim.conv_events.wait(lambda e: e.has(ADD, GROUP_ID))
    call, on_me, on_other, on_peer, on_fence = GROUP_CALLS[name]
    mine, others, peers = d.marks()
    fences = d.fence.conv_events.mark()
    call(d.me)
    d.settle()
    d.fence.send_text(PEER, C2C, "fence")
    d.peer.conv_events.wait(lambda e: e.has(e.event, FENCE), since=peers)
    if on_fence:
        d.fence.conv_events.wait(lambda e: e.has(e.event, GROUP_ID), since=fences)
    seen = (
        events(d.me, GROUP_ID, mine),
        events(d.other, GROUP_ID, others),
        events(d.peer, GROUP_ID, peers),
        events(d.fence, GROUP_ID, fences),
    )
    assert seen == (on_me, on_other, on_peer, on_fence)
