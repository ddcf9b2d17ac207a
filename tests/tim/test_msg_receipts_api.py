"""``message_is_peer_read`` with Tencent's JSON keys: a C2C message of one's own shows read once
the peer's read position covers it (the receipt callback, then history, the conversation's last
message, and a device that logs in later all agree); the peer's own messages never do. Every
JSON emitted is checked against the header's keys (conformance.py)."""

from __future__ import annotations

import json
from typing import Any

from opentim.tim import keys as k

BOTH_ENGINES = True

C2C = k.kTIMConv_C2C


def history(tim: Any, peer: str) -> dict[str, bool]:
    msgs = tim.ok("TIMMsgGetMsgList", peer, C2C, json.dumps({k.MSG_GETMSGLIST_PARAM_COUNT: 20}))
    return {
        m[k.MESSAGE_ELEM_ARRAY][0][k.TEXT_ELEM_CONTENT]: m[k.MESSAGE_IS_PEER_READ] for m in msgs
    }


def test_peer_read_follows_the_peers_read_position(make_tim: Any) -> None:
    alice, bob = make_tim("alice"), make_tim("bob")
    first = alice.send_text("bob", C2C, "one")
    assert first[k.MESSAGE_IS_PEER_READ] is False
    alice.send_text("bob", C2C, "two")
    got = bob.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == first[k.MESSAGE_MSG_ID])
    mark = alice.receipts.mark()
    assert bob.ok("TIMMsgReportReaded", "alice", C2C, json.dumps(got)) is None
    receipt = alice.receipts.wait(lambda r: r[k.MSG_RECEIPT_CONV_ID] == "bob", since=mark)
    assert receipt[k.MSG_RECEIPT_CONV_TYPE] == C2C
    assert history(alice, "bob") == {"one": True, "two": False}
    reply = bob.send_text("alice", C2C, "three")
    assert reply[k.MESSAGE_IS_PEER_READ] is False
    alice.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == reply[k.MESSAGE_MSG_ID])
    assert history(alice, "bob") == {"one": True, "two": True, "three": False}
    later = make_tim("alice", device="a2")
    assert history(later, "bob") == {"one": True, "two": True, "three": False}, (
        "bob's reply read everything before it; a device that logs in later syncs it"
    )
    assert history(bob, "alice")["three"] is False, "alice has not read bob's reply"
    conv = later.conv("bob", C2C)
    assert conv is not None
    assert conv[k.CONV_LAST_MSG][k.MESSAGE_IS_PEER_READ] is False
