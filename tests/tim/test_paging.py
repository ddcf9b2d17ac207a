"""TIMMsgGetMsgList returns the count the app asked for, though the server pages its answers by
bytes (issue 9, finding 1)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from opentim.protocol.limits import MAX_ELEMS_BYTES, MAX_MSG_BYTES
from opentim.tim import keys as k

from .conftest import Tim

pytestmark = pytest.mark.e2e

C2C = k.kTIMConv_C2C


def test_get_msg_list_returns_100_maximum_size_messages(make_tim: Any) -> None:
    alice: Tim = make_tim("pg-a")
    bob: Tim = make_tim("pg-b")
    text = "x" * (MAX_ELEMS_BYTES - 64)
    custom = "y" * (MAX_MSG_BYTES - MAX_ELEMS_BYTES - 512)
    sent = []
    for i in range(100):
        msg = {
            k.MESSAGE_ELEM_ARRAY: [
                {k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: f"{i}{text}"}
            ],
            k.MESSAGE_CLOUD_CUSTOM_STR: custom,
        }
        sent.append(alice.ok("TIMMsgSendMessage", "pg-b", C2C, json.dumps(msg), None))
    param = {k.MSG_GETMSGLIST_PARAM_COUNT: 100}
    got = bob.ok("TIMMsgGetMsgList", "pg-a", C2C, json.dumps(param))
    assert [m[k.MESSAGE_SEQ] for m in got] == [m[k.MESSAGE_SEQ] for m in reversed(sent)]
    assert got[0][k.MESSAGE_CLOUD_CUSTOM_STR] == custom
