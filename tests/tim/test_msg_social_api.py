"""The reaction, pinned-message and extension functions of TIMMessageManager.h through the TIM
layer with Tencent's JSON keys: results, the change callbacks on the other users' and devices,
Tencent's codes, and bad input refused synchronously. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from opentim.capi import reference as ref
from opentim.tim import keys as k, msg_ext as xk, reactions as rk

from .conftest import Stream, Tim

BOTH_ENGINES = True
C2C = k.kTIMConv_C2C


def test_reaction_keys_are_the_references() -> None:
    facts = {key.key for h in ref.headers() for key in h.keys}
    ours = {v for n, v in vars(rk).items() if n.isupper() and isinstance(v, str) and "_" in v}
    ours.discard(rk.CHANGED_CB)
    assert len(ours) == 14
    assert ours <= facts


def listen(tim: Tim) -> Stream:
    seen = Stream()
    tim.sdk.TIMSetMsgReactionsChangedCallback(lambda js, ud: seen.append(json.loads(js)), None)
    return seen


def test_add_read_page_and_remove(make_tim: Callable[..., Tim]) -> None:
    ann, ann_pad, ben = make_tim("ann"), make_tim("ann", device="pad"), make_tim("ben")
    on_pad, on_ben = listen(ann_pad), listen(ben)
    sent = ann.send_text("ben", C2C, "react to me")
    msg = json.dumps(sent)
    assert ann.ok("TIMMsgAddMessageReaction", msg, "like") is None
    [info] = on_pad.wait(lambda items: True)
    assert info[rk.CHANGE_MSG_ID] == sent[k.MESSAGE_MSG_ID]
    [r] = info[rk.CHANGE_LIST]
    assert (r[rk.REACTION_ID], r[rk.TOTAL_USER_COUNT], r[rk.BY_MYSELF]) == ("like", 1, True)
    assert r[rk.PARTIAL_USERS] == [{rk.USER_ID: "ann"}]
    [seen] = on_ben.wait(lambda items: True)
    assert seen[rk.CHANGE_LIST][0][rk.BY_MYSELF] is False
    # Ben names the message as he got it: his conversation is "ann".
    theirs = dict(sent, **{k.MESSAGE_CONV_ID: "ann"})
    [his] = ben.ok("TIMMsgGetMessageReactions", json.dumps([theirs]), 10)
    assert (his[rk.RESULT_CODE], his[rk.RESULT_MSG_ID]) == (0, sent[k.MESSAGE_MSG_ID])
    assert his[rk.RESULT_LIST][0][rk.BY_MYSELF] is False
    assert ben.ok("TIMMsgAddMessageReaction", json.dumps(theirs), "like") is None
    [res] = ann.ok("TIMMsgGetMessageReactions", json.dumps([sent]), 1)
    [like] = res[rk.RESULT_LIST]
    assert (like[rk.TOTAL_USER_COUNT], like[rk.PARTIAL_USERS]) == (2, [{rk.USER_ID: "ann"}])
    assert like[rk.BY_MYSELF] is True
    page = ann.ok("TIMMsgGetAllUserListOfMessageReaction", msg, "like", 0, 1)
    assert page[rk.USERS_ARRAY] == [{rk.USER_ID: "ann"}]
    assert (page[rk.USERS_NEXT_SEQ], page[rk.USERS_FINISHED]) == (1, False)
    page = ann.ok("TIMMsgGetAllUserListOfMessageReaction", msg, "like", 1, 1)
    assert (page[rk.USERS_ARRAY], page[rk.USERS_FINISHED]) == ([{rk.USER_ID: "ben"}], True)
    assert ann.call("TIMMsgAddMessageReaction", msg, "like").code == 23007
    assert ann.ok("TIMMsgRemoveMessageReaction", msg, "like") is None
    assert ann.call("TIMMsgRemoveMessageReaction", msg, "like").code == 23009
    assert ann.call("TIMMsgRemoveMessageReaction", msg, "gone").code == 23008
    assert ann.call("TIMMsgGetAllUserListOfMessageReaction", msg, "gone", 0, 5).code == 23008


def test_ten_reactions_per_message(make_tim: Callable[..., Tim]) -> None:
    me, _ = make_tim("many"), make_tim("peer")
    msg = json.dumps(me.send_text("peer", C2C, "m"))
    for i in range(10):
        assert me.ok("TIMMsgAddMessageReaction", msg, f"r{i}") is None
    assert me.call("TIMMsgAddMessageReaction", msg, "r10").code == 23005


MSG = json.dumps({k.MESSAGE_CONV_ID: "p", k.MESSAGE_CONV_TYPE: C2C, k.MESSAGE_SEQ: 1})
BAD: list[tuple[str, tuple[Any, ...], int]] = [
    ("TIMMsgAddMessageReaction", ("{", "x"), k.TIM_ERR_JSON),
    ("TIMMsgAddMessageReaction", (MSG, ""), k.TIM_ERR_PARAM),
    ("TIMMsgAddMessageReaction", (MSG, "x" * 101), k.TIM_ERR_PARAM),
    ("TIMMsgAddMessageReaction", (json.dumps({k.MESSAGE_SEQ: 1}), "x"), k.TIM_ERR_PARAM),
    ("TIMMsgRemoveMessageReaction", (json.dumps({k.MESSAGE_CONV_ID: "p"}), "x"), k.TIM_ERR_PARAM),
    ("TIMMsgGetMessageReactions", ("[]", 5), k.TIM_ERR_PARAM),
    ("TIMMsgGetMessageReactions", (json.dumps([json.loads(MSG)] * 21), 5), k.TIM_ERR_PARAM),
    ("TIMMsgGetMessageReactions", (f"[{MSG}]", 11), k.TIM_ERR_PARAM),
    ("TIMMsgGetAllUserListOfMessageReaction", (MSG, "x", 0, 0), k.TIM_ERR_PARAM),
    ("TIMMsgGetAllUserListOfMessageReaction", (MSG, "x", 0, 101), k.TIM_ERR_PARAM),
]


@pytest.mark.parametrize(
    ("name", "args", "code"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_input_is_refused_synchronously(
    make_tim: Callable[..., Tim], name: str, args: tuple[Any, ...], code: int
) -> None:
    me = make_tim("bad")
    called: list[Any] = []
    assert getattr(me.sdk, name)(*args, lambda *a: called.append(a), None) == code
    assert called == []


# --- pinned group messages -------------------------------------------------------------------
def test_pin_list_callback_and_codes(make_tim: Callable[..., Tim]) -> None:
    boss, boss_pad, member = make_tim("boss"), make_tim("boss", device="pad"), make_tim("pleb")
    seen: Stream = Stream()
    member.sdk.TIMSetMsgGroupPinnedMessageChangedCallback(
        lambda gid, js, pinned, op, ud: seen.append((gid, json.loads(js), pinned, op)), None
    )
    on_pad: Stream = Stream()
    boss_pad.sdk.TIMSetMsgGroupPinnedMessageChangedCallback(
        lambda gid, js, pinned, op, ud: on_pad.append(pinned), None
    )
    param = {
        k.CREATE_GROUP_PARAM_GROUP_NAME: "pins",
        k.CREATE_GROUP_PARAM_GROUP_TYPE: k.kTIMGroup_Public,
        k.CREATE_GROUP_PARAM_GROUP_MEMBER_ARRAY: [{k.GROUP_MEMBER_INFO_IDENTIFIER: "pleb"}],
    }
    gid = boss.ok("TIMGroupCreate", json.dumps(param))[k.CREATE_GROUP_RESULT_GROUPID]
    sent = member.send_text(gid, k.kTIMConv_Group, "pin me")
    msg = json.dumps(sent)
    assert member.call("TIMPinGroupMessage", gid, msg, True).code == 10007
    assert boss.ok("TIMPinGroupMessage", gid, msg, True) is None
    got_gid, got_msg, pinned, op = seen.wait(lambda e: True)
    assert (got_gid, pinned, op) == (gid, True, "boss")
    assert got_msg[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID]
    assert on_pad.wait(lambda e: True) is True
    [listed] = member.ok("TIMGetPinnedGroupMessageList", gid)
    assert listed[k.MESSAGE_SEQ] == sent[k.MESSAGE_SEQ]
    assert boss.call("TIMPinGroupMessage", gid, msg, True).code == 10071
    assert boss.ok("TIMPinGroupMessage", gid, msg, False) is None
    assert member.ok("TIMGetPinnedGroupMessageList", gid) == []
    assert boss.call("TIMPinGroupMessage", gid, msg, False).code == 10004


@pytest.mark.parametrize(
    ("name", "args", "code"),
    [
        ("TIMPinGroupMessage", ("", MSG, True), k.TIM_ERR_PARAM),
        ("TIMPinGroupMessage", ("g", "{", True), k.TIM_ERR_JSON),
        ("TIMPinGroupMessage", ("g", MSG, 1), k.TIM_ERR_PARAM),
        ("TIMPinGroupMessage", ("g", "{}", True), k.TIM_ERR_PARAM),
        ("TIMGetPinnedGroupMessageList", (7,), k.TIM_ERR_PARAM),
    ],
)
def test_pin_bad_input(
    make_tim: Callable[..., Tim], name: str, args: tuple[Any, ...], code: int
) -> None:
    me = make_tim("badpin")
    called: list[Any] = []
    assert getattr(me.sdk, name)(*args, lambda *a: called.append(a), None) == code
    assert called == []


# --- message extensions ----------------------------------------------------------------------
def test_extensions_set_get_delete_callbacks_and_conflict(make_tim: Callable[..., Tim]) -> None:
    eve, eve_pad, fay = make_tim("eve"), make_tim("eve", device="pad"), make_tim("fay")
    changed: Stream = Stream()
    deleted: Stream = Stream()
    eve_pad.sdk.TIMSetMsgExtensionsChangedCallback(
        lambda mid, js, ud: changed.append((mid, json.loads(js))), None
    )
    eve_pad.sdk.TIMSetMsgExtensionsDeletedCallback(
        lambda mid, js, ud: deleted.append((mid, json.loads(js))), None
    )
    out = {
        k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: "poll"}],
        k.MESSAGE_SUPPORT_MESSAGE_EXTENSION: True,
    }
    sent = eve.ok("TIMMsgSendMessage", "fay", C2C, json.dumps(out), None)
    assert sent[k.MESSAGE_SUPPORT_MESSAGE_EXTENSION] is True
    msg = json.dumps(sent)
    ext = [{xk.KEY: "eve", xk.VALUE: "A"}, {xk.KEY: "fay", xk.VALUE: ""}]
    results = eve.ok("TIMMsgSetMessageExtensions", msg, json.dumps(ext))
    assert [(r[xk.RESULT_CODE], r[xk.ITEM][xk.KEY]) for r in results] == [(0, "eve"), (0, "fay")]
    mid, items = changed.wait(lambda e: True)
    assert mid == sent[k.MESSAGE_MSG_ID]
    assert items == [{xk.KEY: "eve", xk.VALUE: "A"}, {xk.KEY: "fay", xk.VALUE: ""}]
    # Fay's SDK learnt the versions from the push: her set goes through. A device of hers
    # that came later has seen nothing: its set of an existing key is stale (23001) and tells
    # it the key as it is; asking again then works.
    theirs = json.dumps(dict(sent, **{k.MESSAGE_CONV_ID: "eve"}))
    mine = json.dumps([{xk.KEY: "fay", xk.VALUE: "B"}])
    [ok] = fay.ok("TIMMsgSetMessageExtensions", theirs, mine)
    assert ok[xk.RESULT_CODE] == 0
    late = make_tim("fay", device="late")
    again = json.dumps([{xk.KEY: "fay", xk.VALUE: "C"}])
    [stale] = late.ok("TIMMsgSetMessageExtensions", theirs, again)
    assert (stale[xk.RESULT_CODE], stale[xk.ITEM][xk.VALUE]) == (23001, "B")
    [ok] = late.ok("TIMMsgSetMessageExtensions", theirs, again)
    assert ok[xk.RESULT_CODE] == 0
    got = eve.ok("TIMMsgGetMessageExtensions", msg)
    assert sorted((e[xk.KEY], e[xk.VALUE]) for e in got) == [("eve", "A"), ("fay", "C")]
    results = eve.ok("TIMMsgDeleteMessageExtensions", msg, json.dumps(["eve", "nope"]))
    assert [r[xk.RESULT_CODE] for r in results] == [0, 23004]
    assert deleted.wait(lambda e: True) == (sent[k.MESSAGE_MSG_ID], ["eve"])
    plain = json.dumps(eve.send_text("fay", C2C, "plain"))
    assert eve.call("TIMMsgGetMessageExtensions", plain).code == 6017


@pytest.mark.parametrize(
    ("name", "args", "code"),
    [
        ("TIMMsgSetMessageExtensions", (MSG, "[]"), k.TIM_ERR_PARAM),
        ("TIMMsgSetMessageExtensions", (MSG, "{"), k.TIM_ERR_JSON),
        (
            "TIMMsgSetMessageExtensions",
            (MSG, json.dumps([{"message_extension_key": "k" * 101}])),
            k.TIM_ERR_PARAM,
        ),
        (
            "TIMMsgSetMessageExtensions",
            (
                MSG,
                json.dumps([{"message_extension_key": "k", "message_extension_value": "v" * 1025}]),
            ),
            k.TIM_ERR_PARAM,
        ),
        (
            "TIMMsgSetMessageExtensions",
            (MSG, json.dumps([{"message_extension_key": f"k{i}"} for i in range(21)])),
            k.TIM_ERR_PARAM,
        ),
        ("TIMMsgGetMessageExtensions", ("{}",), k.TIM_ERR_PARAM),
        ("TIMMsgDeleteMessageExtensions", (MSG, json.dumps([1])), k.TIM_ERR_PARAM),
    ],
)
def test_extension_bad_input(
    make_tim: Callable[..., Tim], name: str, args: tuple[Any, ...], code: int
) -> None:
    me = make_tim("badext")
    called: list[Any] = []
    assert getattr(me.sdk, name)(*args, lambda *a: called.append(a), None) == code
    assert called == []
