"""TIMMsgGetMsgList both ways, by anchor, time window, element type and seqs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from opentim.tim import keys as k

from .conftest import Tim

BOTH_ENGINES = True

C2C = k.kTIMConv_C2C


def listed(tim: Tim, peer: str, **param: Any) -> list[str]:
    """The texts (or custom data) of the messages TIMMsgGetMsgList gives, in its order."""
    got = tim.ok("TIMMsgGetMsgList", peer, C2C, json.dumps(param))
    return [
        e.get(k.TEXT_ELEM_CONTENT) or e.get(k.CUSTOM_ELEM_DATA)
        for m in got
        for e in m[k.MESSAGE_ELEM_ARRAY]
    ]


def test_lists_backward_forward_by_anchor_type_time_and_seq(make_tim: Callable[..., Tim]) -> None:
    make_tim("bob")
    ann = make_tim("ann")
    sent = [ann.send_text("bob", C2C, f"m{i}") for i in range(5)]
    custom = {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Custom, k.CUSTOM_ELEM_DATA: "c"}]}
    sent.append(ann.ok("TIMMsgSendMessage", "bob", C2C, json.dumps(custom), None))
    seq = [m[k.MESSAGE_SEQ] for m in sent]
    everything = ["m0", "m1", "m2", "m3", "m4", "c"]

    assert listed(ann, "bob") == everything[::-1]
    assert listed(ann, "bob", msg_getmsglist_param_count=2) == ["c", "m4"]
    assert listed(ann, "bob", msg_getmsglist_param_last_msg=sent[3]) == ["m2", "m1", "m0"]
    assert listed(ann, "bob", msg_getmsglist_param_last_msg_seq=seq[3]) == ["m3", "m2", "m1", "m0"]

    forward: dict[str, Any] = {k.MSG_GETMSGLIST_PARAM_IS_FORWARD: True}
    assert listed(ann, "bob", **forward) == everything
    assert listed(ann, "bob", **forward, msg_getmsglist_param_count=2) == ["m0", "m1"]
    assert listed(ann, "bob", **forward, msg_getmsglist_param_last_msg=sent[1]) == everything[2:]
    assert listed(ann, "bob", **forward, msg_getmsglist_param_last_msg_seq=seq[4]) == ["m4", "c"]

    types = {k.MSG_GETMSGLIST_PARAM_MESSAGE_TYPE_ARRAY: [k.kTIMElem_Custom]}
    assert listed(ann, "bob", **types) == ["c"]
    assert listed(ann, "bob", **types, **forward) == ["c"]

    first, last = sent[0][k.MESSAGE_SERVER_TIME], sent[-1][k.MESSAGE_SERVER_TIME]
    window = {
        k.MSG_GETMSGLIST_PARAM_TIME_BEGIN: first,
        k.MSG_GETMSGLIST_PARAM_TIME_PERIOD: last - first,
    }
    assert listed(ann, "bob", **window) == everything[::-1]
    assert listed(ann, "bob", msg_getmsglist_param_time_begin=last + 1) == []
    before = {k.MSG_GETMSGLIST_PARAM_TIME_BEGIN: 1, k.MSG_GETMSGLIST_PARAM_TIME_PERIOD: first - 2}
    assert listed(ann, "bob", **before, **forward) == []

    seqs = {k.MSG_GETMSGLIST_PARAM_MESSAGE_SEQ_ARRAY: [seq[4], seq[1], seq[1], 999]}
    assert listed(ann, "bob", **seqs) == ["m1", "m4"]


def test_bad_list_params_are_refused_synchronously(make_tim: Callable[..., Tim]) -> None:
    ann = make_tim("ann")
    for param in (
        {k.MSG_GETMSGLIST_PARAM_MESSAGE_TYPE_ARRAY: ["text"]},
        {k.MSG_GETMSGLIST_PARAM_MESSAGE_SEQ_ARRAY: list(range(1, 102))},
        {k.MSG_GETMSGLIST_PARAM_TIME_BEGIN: 2**50},
        {k.MSG_GETMSGLIST_PARAM_IS_FORWARD: "yes"},
    ):
        ret, _ = ann.start("TIMMsgGetMsgList", "bob", C2C, json.dumps(param))
        assert ret == k.TIM_ERR_PARAM, param
