"""TIM semantics found by porting apps call for call: drafts stamped by the SDK whatever the
app passes, drafts that create their conversation, ``TIMMsgReportReaded`` with ``"null"``."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from opentim.tim import keys as k

from .conftest import Tim
from .test_events_per_call import ADD, UPD, events

C2C = k.kTIMConv_C2C
UINT32_MAX = 2**32 - 1
Pred = Callable[[dict[str, Any]], bool]

SEED_DRAFT = {  # the seed document's example, edit time and all
    k.DRAFT_EDIT_TIME: 1551271429,
    k.DRAFT_MSG: {
        k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: "this draft"}]
    },
    k.DRAFT_USER_DEFINE: "this is userdefine",
}


def draft(text: str, edit_time: int) -> str:
    return json.dumps({k.DRAFT_USER_DEFINE: text, k.DRAFT_EDIT_TIME: edit_time})


def user_define(info: dict[str, Any] | None) -> str | None:
    """The draft's text as a ConvInfo shows it (None: no draft)."""
    assert info is not None
    if not info[k.CONV_IS_HAS_DRAFT]:
        assert k.CONV_DRAFT not in info
        return None
    return info[k.CONV_DRAFT][k.DRAFT_USER_DEFINE]  # type: ignore[no-any-return]


def shown(tim: Tim, conv_id: str, text: str | None, since: int) -> dict[str, Any]:
    """Wait until ``tim`` has an event showing ``conv_id`` with draft ``text``; its ConvInfo
    as a read then gives it."""
    tim.conv_events.wait(
        lambda e: any(c[k.CONV_ID] == conv_id and user_define(c) == text for c in e.convs),
        since=since,
    )
    info = tim.conv(conv_id, C2C)
    assert user_define(info) == text
    assert info is not None
    return info


def stamped_now(info: dict[str, Any], before: int) -> None:
    """The draft's edit time is the SDK's: UTC seconds of the set, fitting uint32."""
    stamp = info[k.CONV_DRAFT][k.DRAFT_EDIT_TIME]
    assert before <= stamp <= int(time.time()) <= UINT32_MAX


@pytest.mark.parametrize(
    "app_edit_time",
    [
        pytest.param(int(time.time() * 1000), id="milliseconds"),
        pytest.param(638_357_568_001_234_567, id="dotnet-ticks"),
        pytest.param(int(time.time()) + 86_400, id="tomorrow"),
    ],
)
def test_an_apps_edit_time_never_blocks_later_sets_and_cancels_on_either_device(
    make_tim: Any, app_edit_time: int
) -> None:
    make_tim("dt-peer")
    phone: Tim = make_tim("dt-me", device="phone")
    laptop: Tim = make_tim("dt-me", device="laptop")
    phone.ok("TIMConvCreate", "dt-peer", C2C)
    laptop.conv_events.wait(lambda e: e.has(ADD, "dt-peer"))

    steps: list[tuple[Tim, str | None, int]] = [
        (phone, "stamped by the app", app_edit_time),
        (laptop, "later, on the laptop", 1),
        (phone, None, 0),  # cancel
        (laptop, "after the cancel", 1551271429),
        (phone, "again", app_edit_time),
        (laptop, None, 0),
    ]
    for device, text, edit_time in steps:
        marks = [phone.conv_events.mark(), laptop.conv_events.mark()]
        before = int(time.time())
        if text is None:
            assert device.sdk.TIMConvCancelDraft("dt-peer", C2C) == k.TIM_SUCC
        else:
            ret = device.sdk.TIMConvSetDraft("dt-peer", C2C, draft(text, edit_time))
            assert ret == k.TIM_SUCC
        for tim, mark in zip((phone, laptop), marks, strict=True):
            info = shown(tim, "dt-peer", text, mark)
            if text is not None:
                stamped_now(info, before)


def test_the_seed_example_draft_after_an_earlier_cancel_is_stored(make_tim: Any) -> None:
    make_tim("seed-d-peer")
    me: Tim = make_tim("seed-d-me", device="one")
    other: Tim = make_tim("seed-d-me", device="two")
    me.ok("TIMConvCreate", "seed-d-peer", C2C)
    other.conv_events.wait(lambda e: e.has(ADD, "seed-d-peer"))
    assert me.sdk.TIMConvSetDraft("seed-d-peer", C2C, draft("first", 0)) == k.TIM_SUCC
    assert me.sdk.TIMConvCancelDraft("seed-d-peer", C2C) == k.TIM_SUCC
    marks = [me.conv_events.mark(), other.conv_events.mark()]
    before = int(time.time())
    assert me.sdk.TIMConvSetDraft("seed-d-peer", C2C, json.dumps(SEED_DRAFT)) == k.TIM_SUCC
    for tim, mark in zip((me, other), marks, strict=True):
        info = shown(tim, "seed-d-peer", "this is userdefine", mark)
        stamped_now(info, before)
        assert info[k.CONV_DRAFT][k.DRAFT_MSG] == SEED_DRAFT[k.DRAFT_MSG]


def test_a_draft_on_a_conversation_the_user_lacks_creates_it_on_every_device(
    make_tim: Any,
) -> None:
    make_tim("new-d-peer")
    me: Tim = make_tim("new-d-me", device="one")
    other: Tim = make_tim("new-d-me", device="two")
    assert me.conv("new-d-peer", C2C) is None
    marks = [me.conv_events.mark(), other.conv_events.mark()]
    assert me.sdk.TIMConvSetDraft("new-d-peer", C2C, draft("hello?", 0)) == k.TIM_SUCC
    for tim, mark in zip((me, other), marks, strict=True):
        event = tim.conv_events.wait(lambda e: e.has(ADD, "new-d-peer"), since=mark)
        assert user_define(event.convs[0]) == "hello?", "the Add carries the draft"
        assert user_define(tim.conv("new-d-peer", C2C)) == "hello?"
    assert events(me, "new-d-peer", marks[0]) == [ADD], "one event on the calling device"
    # It is server state: a device logging in later has it, and TIMConvCreate finds it.
    late: Tim = make_tim("new-d-me", device="three")
    assert user_define(late.conv("new-d-peer", C2C)) == "hello?"
    assert user_define(late.ok("TIMConvCreate", "new-d-peer", C2C)) == "hello?"
    # A cancel there, and on a conversation nobody has, just holds.
    mark = other.conv_events.mark()
    assert me.sdk.TIMConvCancelDraft("new-d-peer", C2C) == k.TIM_SUCC
    shown(other, "new-d-peer", None, mark)
    assert me.sdk.TIMConvCancelDraft("never-had-it", C2C) == k.TIM_SUCC
    assert me.conv("never-had-it", C2C) is None


def test_a_draft_for_a_user_that_does_not_exist_is_refused_as_conv_create_would(
    make_tim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """There is no callback: the refusal (TIMConvCreate's 6032) is logged, nothing is kept."""
    me: Tim = make_tim("nobody-d-me")
    with caplog.at_level(logging.WARNING, logger="opentim.tim.runtime"):
        assert me.sdk.TIMConvSetDraft("no-such-user", C2C, draft("lost", 0)) == k.TIM_SUCC
        assert me.conv("no-such-user", C2C) is None
    assert any("6032" in r.getMessage() for r in caplog.records)
    assert me.conv_list() == []


def test_report_readed_with_null_reads_the_whole_conversation(make_tim: Any) -> None:
    peer: Tim = make_tim("null-peer")
    me: Tim = make_tim("null-me")
    for text in ("one", "two"):
        peer.send_text("null-me", C2C, text)
    me.conv_events.wait(
        lambda e: any(c[k.CONV_ID] == "null-peer" and c[k.CONV_UNREAD_NUM] == 2 for c in e.convs)
    )
    mark = me.conv_events.mark()
    assert me.ok("TIMMsgReportReaded", "null-peer", C2C, "null") is None
    info = me.conv("null-peer", C2C)
    assert info is not None
    assert info[k.CONV_UNREAD_NUM] == 0
    assert events(me, "null-peer", mark) == [UPD]
    assert me.total_unread() == 0
