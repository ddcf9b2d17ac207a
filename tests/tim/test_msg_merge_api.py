"""Merged (forwarded) messages through the TIM layer: send, receive, download on any device of
anyone who can see the merged message, and nobody else."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from opentim.tim import keys as k

from .conftest import Tim

BOTH_ENGINES = True

C2C, GROUP = k.kTIMConv_C2C, k.kTIMConv_Group


def merged(title: str, msgs: list[dict[str, Any]]) -> str:
    elem = {
        k.ELEM_TYPE: k.kTIMElem_Merge,
        k.MERGE_ELEM_TITLE: title,
        k.MERGE_ELEM_ABSTRACT_ARRAY: [f"abstract {i}" for i in range(len(msgs))],
        k.MERGE_ELEM_COMPATIBLE_TEXT: "upgrade to see",
        k.MERGE_ELEM_MESSAGE_ARRAY: msgs,
    }
    return json.dumps({k.MESSAGE_ELEM_ARRAY: [elem]})


def texts(msgs: list[dict[str, Any]]) -> list[str]:
    return [m[k.MESSAGE_ELEM_ARRAY][0].get(k.TEXT_ELEM_CONTENT, "") for m in msgs]


def test_a_merged_message_is_downloaded_by_who_can_see_it(make_tim: Callable[..., Tim]) -> None:
    bob, carol, carol2, eve = (
        make_tim("bob"),
        make_tim("carol"),
        make_tim("carol", device="carol2"),
        make_tim("eve"),
    )
    ann = make_tim("ann")
    chat = [ann.send_text("bob", C2C, "hi"), bob.send_text("ann", C2C, "hello")]
    sent = ann.ok("TIMMsgSendMessage", "carol", C2C, merged("ann & bob", chat), None)
    [elem] = sent[k.MESSAGE_ELEM_ARRAY]
    assert k.MERGE_ELEM_MESSAGE_ARRAY not in elem
    got = carol.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID])
    [elem] = got[k.MESSAGE_ELEM_ARRAY]
    assert elem[k.MERGE_ELEM_TITLE] == "ann & bob"
    assert elem[k.MERGE_ELEM_ABSTRACT_ARRAY] == ["abstract 0", "abstract 1"]
    assert elem[k.MERGE_ELEM_LAYER_OVER_LIMIT] is False
    assert k.MERGE_ELEM_MESSAGE_ARRAY not in elem

    for tim in (carol, carol2, ann):
        carried = tim.ok("TIMMsgDownloadMergerMessage", json.dumps(got))
        assert texts(carried) == ["hi", "hello"]
        assert [m[k.MESSAGE_SENDER] for m in carried] == ["ann", "bob"]
        assert [m[k.MESSAGE_MSG_ID] for m in carried] == [m[k.MESSAGE_MSG_ID] for m in chat]
    for outsider in (bob, eve):  # bob wrote a carried message, but cannot see the merged one
        assert outsider.call("TIMMsgDownloadMergerMessage", json.dumps(got)).code == 6017
    assert carol.call("TIMMsgDownloadMergerMessage", json.dumps(chat[0])).code == 6017

    # Forwarded again inside another merged message, it keeps its title, not its messages.
    again = carol.ok("TIMMsgSendMessage", "eve", C2C, merged("fwd", [got]), None)
    eve_got = eve.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == again[k.MESSAGE_MSG_ID])
    [inner] = eve.ok("TIMMsgDownloadMergerMessage", json.dumps(eve_got))
    [inner_elem] = inner[k.MESSAGE_ELEM_ARRAY]
    assert inner_elem[k.MERGE_ELEM_TITLE] == "ann & bob"
    assert inner_elem[k.MERGE_ELEM_LAYER_OVER_LIMIT] is True


def test_group_members_download_and_others_cannot(
    make_tim: Callable[..., Tim],
) -> None:
    dan, eve = make_tim("dan"), make_tim("eve")
    ann = make_tim("ann")
    ann.create_group("merge-g", ["dan"])
    chat = [ann.send_text("eve", C2C, "private")]
    sent = ann.ok("TIMMsgSendMessage", "merge-g", GROUP, merged("to the group", chat), None)
    got = dan.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID])
    assert texts(dan.ok("TIMMsgDownloadMergerMessage", json.dumps(got))) == ["private"]
    assert eve.call("TIMMsgDownloadMergerMessage", json.dumps(got)).code == 6017


def test_merged_messages_are_checked_and_capped(make_tim: Callable[..., Tim]) -> None:
    make_tim("bob")
    ann = make_tim("ann")
    for bad in (merged("empty", []), merged("not messages", ["x"])):  # type: ignore[list-item]
        ret, _ = ann.start("TIMMsgSendMessage", "bob", C2C, bad, None)
        assert ret == k.TIM_ERR_PARAM
    ret, _ = ann.start("TIMMsgDownloadMergerMessage", json.dumps({k.MESSAGE_SEQ: 1}))
    assert ret == k.TIM_ERR_PARAM
    big = [
        {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: "x" * 200}]}
    ] * 100
    res = ann.call("TIMMsgSendMessage", "bob", C2C, merged("too big", big), None)
    assert res.code == 8001
