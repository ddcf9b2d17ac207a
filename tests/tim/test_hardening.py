"""Hostile values through the TIM layer (issue 9): uint64 marks and times in their whole range,
lone surrogates refused synchronously, never raised into the app."""

from __future__ import annotations

import json
from typing import Any

import pytest

from opentim.tim import keys as k

from .conftest import Tim

pytestmark = pytest.mark.e2e

C2C = k.kTIMConv_C2C
STAR = k.kTIMConversationMarkTypeStar
BIT63 = 1 << 63


def test_app_mark_bit_63_works_end_to_end(make_tim: Any) -> None:
    me: Tim = make_tim("m63")
    make_tim("p63").send_text("m63", C2C, "hi")
    me.conv_events.wait(lambda e: any(c.get(k.CONV_ID) == "p63" for c in e.convs))
    tablet: Tim = make_tim("m63", device="tablet")
    assert me.results("TIMConvMarkConversation", me.ids("c2c_p63"), BIT63 | STAR, True) == {
        "c2c_p63": 0
    }
    got = me.conv("p63", C2C)
    assert got is not None
    assert got[k.CONV_MARK_ARRAY] == [STAR, BIT63]
    tablet.conv_events.wait(
        lambda e: any(c.get(k.CONV_MARK_ARRAY) == [STAR, BIT63] for c in e.convs)
    )
    me.ok("TIMConvMarkConversation", me.ids("c2c_p63"), STAR, False)
    tablet.conv_events.wait(lambda e: any(c.get(k.CONV_MARK_ARRAY) == [BIT63] for c in e.convs))


def test_lone_surrogates_are_refused_synchronously(make_tim: Any) -> None:
    # A Python str can hold what no C string can: a lone surrogate. A JSON argument holding one
    # does not parse (TIM_ERR_JSON); any other str argument is a bad parameter (TIM_ERR_PARAM).
    me: Tim = make_tim("sur")
    called: list[Any] = []

    def cb(*args: Any) -> None:
        called.append(args)

    bad = "a\ud800b"
    text = json.dumps({k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "hi"}]})
    bad_text = text.replace('"hi"', '"h\ud800"')
    escaped = text.replace('"hi"', '"h\\ud800"')
    sdk = me.sdk
    assert sdk.TIMMsgSendMessage("peer", C2C, bad_text, None, cb, None) == k.TIM_ERR_JSON
    assert sdk.TIMMsgSendMessage(bad, C2C, text, None, cb, None) == k.TIM_ERR_PARAM
    assert sdk.TIMConvSetDraft("peer", C2C, '{"draft_user_define": "\ud800"}') == k.TIM_ERR_JSON
    assert sdk.TIMConvSetDraft(bad, C2C, "{}") == k.TIM_ERR_PARAM
    assert sdk.TIMConvMarkConversation('["c2c_\ud800"]', STAR, True, cb, None) == k.TIM_ERR_JSON
    ids = json.dumps(["c2c_peer"])
    assert sdk.TIMConvSetConversationCustomData(ids, bad, cb, None) == k.TIM_ERR_PARAM
    assert sdk.TIMConvCreateConversationGroup(bad, ids, cb, None) == k.TIM_ERR_PARAM
    assert sdk.TIMConvPinConversation(bad, C2C, True, cb, None) == k.TIM_ERR_PARAM
    assert sdk.TIMConvDelete(bad, C2C, cb, None) == k.TIM_ERR_PARAM
    assert sdk.TIMGroupCreate('{"create_group_param_group_name": "\ud800"}', cb, None) == (
        k.TIM_ERR_JSON
    )
    assert sdk.TIMGroupQuit(bad, cb, None) == k.TIM_ERR_PARAM
    assert sdk.TIMLogin(bad, "sig", cb, None) == k.TIM_ERR_PARAM
    # Escaped in the JSON text, a lone surrogate does not parse either.
    assert sdk.TIMMsgSendMessage("peer", C2C, escaped, None, cb, None) == k.TIM_ERR_JSON
    assert me.conv_list() == []  # also a barrier: no refused call called back before it
    assert called == []
