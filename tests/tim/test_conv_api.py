"""The TIM conversation API of issue 3, end to end: filters and paging, marks, conversation
groups, custom data, unread by filter and subscriptions, receive options, @-mentions, clean
unread, show names and faces, delete list; each on a real server, through ``TIMSDK``."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from opentim.protocol import ErrorCode
from opentim.tim import keys as k

from .conftest import ServerThread, Tim

pytestmark = pytest.mark.e2e

C2C, GROUP = k.kTIMConv_C2C, k.kTIMConv_Group
STAR, UNREAD = k.kTIMConversationMarkTypeStar, k.kTIMConversationMarkTypeUnread
FOLD, HIDE = k.kTIMConversationMarkTypeFold, k.kTIMConversationMarkTypeHide
F_TYPE = k.CONVERSATION_LIST_FILTER_CONV_TYPE
F_GROUP = k.CONVERSATION_LIST_FILTER_CONVERSATION_GROUP
F_MARK = k.CONVERSATION_LIST_FILTER_MARK_TYPE
F_UNREAD = k.CONVERSATION_LIST_FILTER_HAS_UNREAD_COUNT
F_AT = k.CONVERSATION_LIST_FILTER_HAS_GROUP_AT_INFO


def ids(convs: list[dict[str, Any]]) -> list[str]:
    return [c[k.CONV_ID] for c in convs]


def page_ids(tim: Tim, conv_filter: dict[str, Any]) -> set[str]:
    result = tim.page(conv_filter)
    assert result[k.CONVERSATION_LIST_RESULT_IS_FINISHED] is True
    return set(ids(result[k.CONVERSATION_LIST_RESULT_CONV_LIST]))


def with_peers(make_tim: Any, me: str, peers: list[str]) -> Tim:
    """``me`` logged in, with a C2C conversation from each peer (one unread message each)."""
    tim: Tim = make_tim(me)
    assert tim.total_unread() == 0  # arms the total-unread callback
    for peer in peers:
        make_tim(peer).send_text(me, C2C, f"hi from {peer}")
    tim.totals.wait(lambda t: t == len(peers))
    return tim


def unread_by(tim: Tim, conv_filter: dict[str, Any]) -> int:
    value = tim.ok("TIMConvGetUnreadMessageCountByFilter", json.dumps(conv_filter))
    return value[k.CONV_GET_TOTAL_UNREAD_MESSAGE_COUNT_RESULT_UNREAD_COUNT]  # type: ignore[no-any-return]


def run_on_server(server: ServerThread, coro: Any) -> Any:
    return asyncio.run_coroutine_threadsafe(coro, server.loop).result(60)


# --- paging ---------------------------------------------------------------------------------
def test_paging_1000_conversations_while_messages_arrive(
    make_tim: Any, server: ServerThread
) -> None:
    n = 1000
    peers = [f"pp{i:04d}" for i in range(n)]
    store = server.server.store

    async def register() -> None:
        await asyncio.gather(*(store.users.ensure_user(p, True) for p in [*peers, "pp-late"]))

    run_on_server(server, register())
    me: Tim = make_tim("pager")
    text = json.dumps({k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "hi"}]})
    done = threading.Semaphore(0)
    codes: list[int] = []

    def sent(code: int, desc: str, js: str, ud: Any) -> None:
        codes.append(code)
        done.release()

    cb = me.recorder.wrap("TIMMsgSendMessage", sent)
    for p in peers:
        assert me.sdk.TIMMsgSendMessage(p, C2C, text, None, cb, None) == k.TIM_SUCC
    for _ in peers:
        assert done.acquire(timeout=60)
    assert set(codes) == {0}
    start = ids(me.conv_list())
    assert len(start) == n

    seen: list[str] = []
    next_seq, pages = 0, 0
    while True:
        result = me.page({}, next_seq, 100)
        seen += ids(result[k.CONVERSATION_LIST_RESULT_CONV_LIST])
        pages += 1
        if result[k.CONVERSATION_LIST_RESULT_IS_FINISHED]:
            assert result[k.CONVERSATION_LIST_RESULT_NEXT_SEQ] == 0
            break
        next_seq = result[k.CONVERSATION_LIST_RESULT_NEXT_SEQ]
        # While the app pages: one not yet returned and one already returned move to the
        # top, and a new conversation appears.
        me.send_text(start[pages * 100 + 10], C2C, "moved")
        me.send_text(start[5], C2C, "moved again")
        if pages == 4:
            me.send_text("pp-late", C2C, "new")
    assert pages == 10
    assert len(seen) == len(set(seen)) == n, "nothing returned twice"
    assert seen == start, "nothing skipped, in the order the pass began with"
    now = ids(me.conv_list())
    assert now[0] == start[5]
    assert "pp-late" in now
    assert len(now) == n + 1
    stale = me.call("TIMConvGetConversationListByFilter", "{}", next_seq or 7 << 32, 100)
    assert stale.code == ErrorCode.ERR_INVALID_PARAMETERS


def test_filters_combine_and_unread_by_filter(make_tim: Any) -> None:
    me = with_peers(make_tim, "fme", ["f1", "f2", "f3"])
    owner: Tim = make_tim("fowner")
    owner.create_group("fg", ["fme"], **{k.CREATE_GROUP_PARAM_ADD_OPTION: 2})
    at_me = {
        k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "@fme"}],
        k.MESSAGE_GROUP_AT_USER_ARRAY: ["fme"],
    }
    owner.ok("TIMMsgSendMessage", "fg", GROUP, json.dumps(at_me), None)
    me.totals.wait(lambda t: t == 4)
    assert me.results("TIMConvMarkConversation", me.ids("c2c_f1", "group_fg"), STAR, True) == {
        "c2c_f1": 0,
        "group_fg": 0,
    }
    me.ok("TIMConvCleanConversationUnreadMessageCount", "c2c_f2", 0, 0)
    me.results("TIMConvCreateConversationGroup", "fav", me.ids("c2c_f1", "c2c_f2"))

    assert page_ids(me, {}) == {"f1", "f2", "f3", "fg"}
    assert page_ids(me, {F_TYPE: C2C}) == {"f1", "f2", "f3"}
    assert page_ids(me, {F_TYPE: 0}) == {"f1", "f2", "f3", "fg"}, "0 (Invalid) does not filter"
    assert page_ids(me, {F_TYPE: GROUP, F_MARK: STAR}) == {"fg"}
    assert page_ids(me, {F_MARK: 0}) == {"f2", "f3"}
    assert page_ids(me, {F_GROUP: "fav", F_UNREAD: True}) == {"f1"}
    assert page_ids(me, {F_GROUP: "fav", F_MARK: STAR, F_UNREAD: False}) == set()
    assert page_ids(me, {F_UNREAD: False}) == {"f2"}
    assert page_ids(me, {F_GROUP: ""}) == {"f3", "fg"}
    assert page_ids(me, {F_AT: True}) == {"fg"}
    assert page_ids(me, {F_AT: False, F_TYPE: C2C, F_GROUP: ""}) == {"f3"}
    assert unread_by(me, {F_TYPE: C2C}) == 2
    assert unread_by(me, {F_MARK: STAR}) == 2
    assert unread_by(me, {F_GROUP: "fav"}) == 1
    assert unread_by(me, {F_AT: True}) == 1
    assert unread_by(me, {}) == me.total_unread() == 3

    info = me.conv("fg", GROUP)
    assert info is not None
    assert info[k.CONV_MARK_ARRAY] == [STAR]
    assert info[k.CONV_GROUP_AT_INFO_ARRAY] == [
        {k.CONV_GROUP_AT_INFO_SEQ: 2, k.CONV_GROUP_AT_INFO_AT_TYPE: k.kTIMGroup_At_Me}
    ]
    c2c = me.conv("f1", C2C)
    assert c2c is not None
    assert c2c[k.CONV_CONVERSATION_GROUP_ARRAY] == ["fav"]


def test_small_pages_walk_a_filter_to_its_end(make_tim: Any) -> None:
    me = with_peers(make_tim, "sme", [f"s{i}" for i in range(7)])
    me.ok("TIMConvMarkConversation", me.ids(*(f"c2c_s{i}" for i in range(0, 7, 2))), FOLD, True)
    seen: list[str] = []
    next_seq = 0
    while True:
        result = me.page({F_MARK: FOLD}, next_seq, 2)
        seen += ids(result[k.CONVERSATION_LIST_RESULT_CONV_LIST])
        if result[k.CONVERSATION_LIST_RESULT_IS_FINISHED]:
            break
        next_seq = result[k.CONVERSATION_LIST_RESULT_NEXT_SEQ]
    assert seen == ["s6", "s4", "s2", "s0"]
    other = me.call("TIMConvGetConversationListByFilter", json.dumps({F_MARK: STAR}), 1 << 32, 2)
    assert other.code == ErrorCode.ERR_INVALID_PARAMETERS, "a next_seq belongs to its filter's pass"


# --- subscriptions --------------------------------------------------------------------------
def test_subscribed_filters_fire_once_per_change_and_only_then(make_tim: Any) -> None:
    me = with_peers(make_tim, "bme", ["b1", "b2"])
    me.ok("TIMConvCleanConversationUnreadMessageCount", "", 0, 0)
    me.ok("TIMConvMarkConversation", me.ids("c2c_b1"), STAR, True)
    starred, c2c = {F_MARK: STAR}, {F_TYPE: C2C}
    assert me.sdk.TIMConvSubscribeUnreadMessageCountByFilter(json.dumps(starred)) == k.TIM_SUCC
    assert me.sdk.TIMConvSubscribeUnreadMessageCountByFilter(json.dumps(c2c)) == k.TIM_SUCC
    assert me.sdk.TIMConvSubscribeUnreadMessageCountByFilter(json.dumps(c2c)) == k.TIM_SUCC
    assert me.total_unread() == 0  # a READ: the subscriptions are in place after it

    b1, b2 = make_tim("b1"), make_tim("b2")

    def fired(since: int = 0) -> list[tuple[str, int]]:
        return [(json.dumps(f, sort_keys=True), t) for f, t in me.filter_totals.items[since:]]

    s_json, c_json = json.dumps(starred, sort_keys=True), json.dumps(c2c, sort_keys=True)
    b2.send_text("bme", C2C, "x")
    me.filter_totals.wait(lambda item: True)
    b1.send_text("bme", C2C, "y")
    me.filter_totals.wait(lambda item: item[1] == 2)
    me.ok("TIMConvPinConversation", "b2", C2C, True)  # changes no total
    me.ok("TIMConvCleanConversationUnreadMessageCount", "c2c_b1", 0, 0)
    me.filter_totals.wait(lambda item: item[0] == starred and item[1] == 0)
    assert me.total_unread() == 1
    assert fired() == [
        (c_json, 1),
        (s_json, 1),
        (c_json, 2),
        (s_json, 0),
        (c_json, 1),
    ], "each change of each subscribed total, exactly once"

    assert me.sdk.TIMConvUnsubscribeUnreadMessageCountByFilter(json.dumps(starred)) == 0
    mark = me.filter_totals.mark()
    b1.send_text("bme", C2C, "z")
    me.filter_totals.wait(lambda item: item[1] == 2, since=mark)
    assert me.total_unread() == 2
    assert fired(mark) == [(c_json, 2)]


# --- marks, custom data, second device ------------------------------------------------------
def test_marks_and_custom_data_reach_a_second_device(make_tim: Any) -> None:
    me = with_peers(make_tim, "mme", ["m1", "m2"])
    tablet: Tim = make_tim("mme", device="tablet")
    app_mark = 1 << 33
    assert me.results(
        "TIMConvMarkConversation", me.ids("c2c_m1", "c2c_nobody", "bogus"), STAR | app_mark, True
    ) == {
        "c2c_m1": 0,
        "c2c_nobody": ErrorCode.ERR_INVALID_CONVERSATION,
        "bogus": ErrorCode.ERR_INVALID_CONVERSATION,
    }
    me.ok("TIMConvMarkConversation", me.ids("c2c_m2"), UNREAD, True)
    assert me.total_unread() == 2, "the Unread mark is a flag"
    assert me.results("TIMConvSetConversationCustomData", me.ids("c2c_m2"), "é" * 128) == {
        "c2c_m2": 0
    }
    tablet.conv_events.wait(lambda e: any(c.get(k.CONV_CUSTOM_DATA) == "é" * 128 for c in e.convs))
    got = tablet.conv("m1", C2C)
    assert got is not None
    assert got[k.CONV_MARK_ARRAY] == [STAR, app_mark]
    got2 = tablet.conv("m2", C2C)
    assert got2 is not None
    assert got2[k.CONV_MARK_ARRAY] == [UNREAD]
    me.ok("TIMConvMarkConversation", me.ids("c2c_m1"), STAR, False)
    tablet.conv_events.wait(lambda e: any(c.get(k.CONV_MARK_ARRAY) == [app_mark] for c in e.convs))


def test_hide_mark_keeps_a_conversation_out_until_a_new_message(make_tim: Any) -> None:
    me = with_peers(make_tim, "hme", ["h1", "h2"])
    me.ok("TIMConvMarkConversation", me.ids("c2c_h1"), HIDE, True)
    assert ids(me.conv_list()) == ["h2"]
    assert page_ids(me, {}) == {"h2"}
    assert page_ids(me, {F_MARK: HIDE}) == {"h1"}
    mark = me.conv_events.mark()
    make_tim("h1").send_text("hme", C2C, "again")

    def shown_again(e: Any) -> bool:
        # Only the event itself: a TIM call made here would wait on the SDK thread, which is
        # itself waiting to hand over the next event.
        return e.has(k.kTIMConvEvent_Update, "h1") and all(
            HIDE not in c.get(k.CONV_MARK_ARRAY, []) for c in e.convs if c[k.CONV_ID] == "h1"
        )

    me.conv_events.wait(shown_again, since=mark)
    assert ids(me.conv_list()) == ["h1", "h2"]


# --- conversation groups --------------------------------------------------------------------
def test_conversation_groups_and_their_callbacks_on_both_devices(make_tim: Any) -> None:
    me = with_peers(make_tim, "gme", ["g1", "g2", "g3"])
    tablet: Tim = make_tim("gme", device="tablet")
    assert me.results("TIMConvCreateConversationGroup", "work", me.ids("c2c_g1", "c2c_g2")) == {
        "c2c_g1": 0,
        "c2c_g2": 0,
    }
    me.results("TIMConvAddConversationsToGroup", "work", me.ids("c2c_g3"))
    assert me.results(
        "TIMConvDeleteConversationsFromGroup", "work", me.ids("c2c_g1", "c2c_g2x")
    ) == {"c2c_g1": 0, "c2c_g2x": ErrorCode.ERR_INVALID_CONVERSATION}
    assert me.ok("TIMConvRenameConversationGroup", "work", "job") is None
    assert me.ok("TIMConvGetConversationGroupList") == ["job"]
    assert me.ok("TIMConvDeleteConversationGroup", "job") is None
    assert me.ok("TIMConvGetConversationGroupList") == []
    for tim in (me, tablet):
        tim.cgroup_events.wait(lambda e: e[0] == "TIMConvConversationGroupDeletedCallback")
        events = tim.cgroup_events.items
        assert [e[0] for e in events] == [
            "TIMConvConversationGroupCreatedCallback",
            "TIMConvConversationsAddedToGroupCallback",
            "TIMConvConversationsDeletedFromGroupCallback",
            "TIMConvConversationGroupNameChangedCallback",
            "TIMConvConversationGroupDeletedCallback",
        ]
        assert events[0][1] == "work"
        assert sorted(ids(json.loads(events[0][2]))) == ["g1", "g2"]
        assert ids(json.loads(events[1][2])) == ["g3"]
        assert ids(json.loads(events[2][2])) == ["g1"]
        assert events[2][3] == 0, "removed by the app: reason 0"
        assert events[3][1:] == ("work", "job")
        assert events[4][1:] == ("job",)
    got = tablet.conv("g2", C2C)
    assert got is not None
    assert got[k.CONV_CONVERSATION_GROUP_ARRAY] == []


def test_conversation_group_limits_return_their_codes_and_change_nothing(
    make_tim: Any, server: ServerThread
) -> None:
    limits = server.server.config.limits
    limits.convs_per_group = 2
    me = with_peers(make_tim, "lme", ["l1", "l2", "l3"])
    over = "x" * 33
    assert me.call("TIMConvCreateConversationGroup", over, me.ids("c2c_l1")).code == 51011
    assert me.call("TIMConvRenameConversationGroup", "nope", "b").code == 51009
    assert me.call("TIMConvDeleteConversationGroup", "nope").code == 51009
    assert me.call("TIMConvAddConversationsToGroup", "nope", me.ids("c2c_l1")).code == 51009
    assert me.call("TIMConvDeleteConversationsFromGroup", "nope", me.ids("c2c_l1")).code == 51009
    many = me.ids(*(f"c2c_u{i}" for i in range(101)))
    assert me.call("TIMConvCreateConversationGroup", "big", many).code == 51006
    assert me.call("TIMConvMarkConversation", many, STAR, True).code == 51006
    assert me.call("TIMConvSetConversationCustomData", many, "d").code == 51006
    me.ok("TIMConvCreateConversationGroup", "g0", me.ids("c2c_l1"))
    assert me.call("TIMConvCreateConversationGroup", "g0", me.ids("c2c_l2")).code == 6017
    for i in range(1, 20):
        me.ok("TIMConvCreateConversationGroup", f"g{i}", me.ids("c2c_l1"))
    assert me.call("TIMConvCreateConversationGroup", "g20", me.ids("c2c_l1")).code == 51010
    assert me.call("TIMConvRenameConversationGroup", "g0", over).code == 51011
    names = me.ok("TIMConvGetConversationGroupList")
    assert names == [f"g{i}" for i in range(20)], "nothing changed"
    info = me.conv("l2", C2C)
    assert info is not None
    assert info[k.CONV_CONVERSATION_GROUP_ARRAY] == []

    # g0 is full (2): adding l3 evicts l1, the earliest added, with reason 1.
    me.ok("TIMConvAddConversationsToGroup", "g0", me.ids("c2c_l2"))
    me.ok("TIMConvAddConversationsToGroup", "g0", me.ids("c2c_l3"))
    evicted = me.cgroup_events.wait(
        lambda e: e[0] == "TIMConvConversationsDeletedFromGroupCallback"
    )
    assert evicted[1] == "g0"
    assert ids(json.loads(evicted[2])) == ["l1"]
    assert evicted[3] == 1
    l1 = me.conv("l1", C2C)
    assert l1 is not None
    assert "g0" not in l1[k.CONV_CONVERSATION_GROUP_ARRAY]

    limits.marked_convs = 1
    me.ok("TIMConvMarkConversation", me.ids("c2c_l1"), STAR, True)
    assert me.call("TIMConvMarkConversation", me.ids("c2c_l2"), FOLD, True).code == 51008
    l2 = me.conv("l2", C2C)
    assert l2 is not None
    assert l2[k.CONV_MARK_ARRAY] == []


# --- delete list, clean unread, receive options ---------------------------------------------
def test_delete_conversation_list_with_and_without_messages(make_tim: Any) -> None:
    me = with_peers(make_tim, "dme", ["d1", "d2"])
    mark = me.conv_events.mark()
    assert me.results("TIMConvDeleteConversationList", me.ids("c2c_d1", "c2c_zz", "x"), False) == {
        "c2c_d1": 0,
        "c2c_zz": ErrorCode.ERR_INVALID_CONVERSATION,
        "x": ErrorCode.ERR_INVALID_CONVERSATION,
    }
    me.conv_events.wait(lambda e: e.has(k.kTIMConvEvent_Del, "d1"), since=mark)
    me.ok("TIMConvDeleteConversationList", me.ids("c2c_d2"), True)
    assert me.conv_list() == []
    make_tim("d1").send_text("dme", C2C, "back")
    make_tim("d2").send_text("dme", C2C, "back")
    me.totals.wait(lambda t: t == 2)
    assert len(me.ok("TIMMsgGetMsgList", "d1", C2C, "")) == 2, "history kept"
    assert len(me.ok("TIMMsgGetMsgList", "d2", C2C, "")) == 1, "history cleared"


def test_clean_unread_partial_forms_and_read_positions(make_tim: Any) -> None:
    me: Tim = make_tim("cme")
    peer: Tim = make_tim("cpeer")
    assert me.total_unread() == 0
    sent = [peer.send_text("cme", C2C, f"m{i}") for i in range(3)]
    peer.create_group("cg", ["cme"], **{k.CREATE_GROUP_PARAM_ADD_OPTION: 2})
    for i in range(3):
        peer.send_text("cg", GROUP, f"g{i}")
    me.totals.wait(lambda t: t == 6)
    stamp = sent[1][k.MESSAGE_SERVER_TIME]
    me.ok("TIMConvCleanConversationUnreadMessageCount", "c2c_cpeer", stamp, 0)
    c2c = me.conv("cpeer", C2C)
    assert c2c is not None
    assert c2c[k.CONV_UNREAD_NUM] <= 1
    me.ok("TIMConvCleanConversationUnreadMessageCount", "group_cg", 0, 3)
    group = me.conv("cg", GROUP)
    assert group is not None
    assert group[k.CONV_GROUP_READ_SEQUENCE] == 3
    assert group[k.CONV_UNREAD_NUM] == 1
    me.ok("TIMConvCleanConversationUnreadMessageCount", "group", 0, 0)
    me.ok("TIMConvCleanConversationUnreadMessageCount", "c2c", 0, 0)
    assert me.total_unread() == 0
    c2c = me.conv("cpeer", C2C)
    assert c2c is not None
    assert c2c[k.CONV_C2C_READ_TIMESTAMP] == sent[2][k.MESSAGE_SERVER_TIME]
    receipt = peer.receipts.wait(lambda r: r[k.MSG_RECEIPT_CONV_ID] == "cme")
    assert receipt[k.MSG_RECEIPT_CONV_TYPE] == C2C
    assert receipt[k.MSG_RECEIPT_IS_PEER_READ] is True


def test_receive_options_and_totals(make_tim: Any) -> None:
    me = with_peers(make_tim, "rme", ["r1", "r2", "r3", "r4"])
    for peer, opt in (
        ("r1", k.kTIMRecvMsgOpt_Not_Receive),
        ("r2", k.kTIMRecvMsgOpt_Not_Notify),
        ("r3", k.kTIMRecvMsgOpt_Not_Notify_Except_At),
    ):
        assert me.ok("TIMMsgSetC2CReceiveMessageOpt", json.dumps([peer]), opt) is None
    assert me.total_unread() == 1
    assert unread_by(me, {F_TYPE: C2C}) == 1
    got = me.ok("TIMMsgGetC2CReceiveMessageOpt", json.dumps(["r1", "r3", "r4"]))
    assert got == [
        {k.MSG_RECV_MSG_OPT_RESULT_IDENTIFIER: "r1", k.MSG_RECV_MSG_OPT_RESULT_OPT: 1},
        {k.MSG_RECV_MSG_OPT_RESULT_IDENTIFIER: "r3", k.MSG_RECV_MSG_OPT_RESULT_OPT: 3},
        {k.MSG_RECV_MSG_OPT_RESULT_IDENTIFIER: "r4", k.MSG_RECV_MSG_OPT_RESULT_OPT: 0},
    ]
    r1 = me.conv("r1", C2C)
    assert r1 is not None
    assert r1[k.CONV_RECV_OPT] == k.kTIMRecvMsgOpt_Not_Receive
    assert r1[k.CONV_UNREAD_NUM] == 1
    assert me.call("TIMMsgSetC2CReceiveMessageOpt", json.dumps(["ghost"]), 2).code == 6032

    owner: Tim = make_tim("rowner")
    owner.create_group("rg", ["rme"], **{k.CREATE_GROUP_PARAM_ADD_OPTION: 2})
    assert me.ok("TIMMsgSetGroupReceiveMessageOpt", "rg", k.kTIMRecvMsgOpt_Not_Notify) is None
    owner.send_text("rg", GROUP, "quiet")
    me.conv_events.wait(
        lambda e: any(c[k.CONV_UNREAD_NUM] == 1 for c in e.convs if c[k.CONV_ID] == "rg")
    )
    assert me.total_unread() == 1
    joined = me.ok("TIMGroupGetJoinedGroupList")
    assert joined[0][k.GROUP_BASE_INFO_MSG_FLAG] == k.kTIMRecvMsgOpt_Not_Notify
    assert me.call("TIMMsgSetGroupReceiveMessageOpt", "nogroup", 2).code == 10010
    laptop: Tim = make_tim("rme", device="laptop")
    assert laptop.total_unread() == 1


# --- names and faces ------------------------------------------------------------------------
def test_show_name_and_face_from_profiles_and_groups(make_tim: Any) -> None:
    me: Tim = make_tim("nme")
    peer: Tim = make_tim("npeer")
    assert me.total_unread() == 0
    client = peer.sdk._client
    assert client is not None
    fut = asyncio.run_coroutine_threadsafe(
        client.set_profile(nick="Peer Nick", face_url="http://peer/face"),
        peer.sdk._runtime._loop,  # type: ignore[union-attr]
    )
    fut.result(10)
    peer.send_text("nme", C2C, "hello")
    peer.create_group(
        "ng",
        ["nme"],
        name="The Group",
        **{
            k.CREATE_GROUP_PARAM_FACE_URL: "http://group/face",
            k.CREATE_GROUP_PARAM_ADD_OPTION: 2,
        },
    )
    me.totals.wait(lambda t: t == 1)
    info = me.conv("npeer", C2C)
    assert info is not None
    assert info[k.CONV_SHOW_NAME] == "Peer Nick"
    assert info[k.CONV_FACE_URL] == "http://peer/face"
    group = me.conv("ng", GROUP)
    assert group is not None
    assert group[k.CONV_SHOW_NAME] == "The Group"
    assert group[k.CONV_FACE_URL] == "http://group/face"
