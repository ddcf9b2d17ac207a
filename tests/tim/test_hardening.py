"""Hostile values through the TIM layer (issue 9): uint64 marks and times in their whole range,
lone surrogates refused synchronously, never raised into the app."""

from __future__ import annotations

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
