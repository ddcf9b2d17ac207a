"""Batch send and cancel send through the TIM layer, with Tencent's JSON keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentim.protocol.limits import MAX_BATCH_SEND_USERS
from opentim.tim import keys as k

from .conftest import Recorder, ServerThread, Tim

BOTH_ENGINES = True

C2C = k.kTIMConv_C2C


def text(body: str) -> dict[str, Any]:
    return {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: body}]}


def batch(users: list[Any], msg: Any) -> str:
    return json.dumps(
        {k.MSG_BATCH_SEND_PARAM_IDENTIFIER_ARRAY: users, k.MSG_BATCH_SEND_PARAM_MSG: msg}
    )


def test_batch_send_gives_each_receiver_a_copy_and_a_result(make_tim: Callable[..., Tim]) -> None:
    bob, carol = make_tim("bob"), make_tim("carol")
    ann = make_tim("ann")
    msg = text("to all") | {k.MESSAGE_CLOUD_CUSTOM_STR: "promo"}
    results = ann.ok("TIMMsgBatchSend", batch(["bob", "nobody", "carol", "bob"], msg))
    assert [r[k.MSG_BATCH_SEND_RESULT_IDENTIFIER] for r in results] == ["bob", "nobody", "carol"]
    assert [r[k.MSG_BATCH_SEND_RESULT_CODE] for r in results] == [0, 6032, 0]
    assert k.MSG_BATCH_SEND_RESULT_MSG not in results[1]
    assert results[1][k.MSG_BATCH_SEND_RESULT_DESC]
    sent = {
        r[k.MSG_BATCH_SEND_RESULT_IDENTIFIER]: r[k.MSG_BATCH_SEND_RESULT_MSG]
        for r in results
        if r[k.MSG_BATCH_SEND_RESULT_CODE] == 0
    }
    assert sent["bob"][k.MESSAGE_MSG_ID] != sent["carol"][k.MESSAGE_MSG_ID]
    for tim in (bob, carol):
        got = tim.messages.wait(lambda m: m[k.MESSAGE_SENDER] == "ann")
        assert got[k.MESSAGE_MSG_ID] == sent[tim.user_id][k.MESSAGE_MSG_ID]
        assert got[k.MESSAGE_ELEM_ARRAY][0][k.TEXT_ELEM_CONTENT] == "to all"
        assert got[k.MESSAGE_CLOUD_CUSTOM_STR] == "promo"
        assert got[k.MESSAGE_CONV_ID] == "ann"
    assert {c[k.CONV_ID] for c in ann.conv_list()} == {"bob", "carol"}


def test_batch_send_refuses_bad_input_synchronously(make_tim: Callable[..., Tim]) -> None:
    ann = make_tim("ann")
    too_many = [f"u{i}" for i in range(MAX_BATCH_SEND_USERS + 1)]
    for param in (
        batch([], text("x")),
        batch(too_many, text("x")),
        batch(["bob", 3], text("x")),
        batch(["bob"], "not a message"),
        batch(["bob"], {k.MESSAGE_ELEM_ARRAY: []}),
    ):
        ret, _ = ann.start("TIMMsgBatchSend", param)
        assert ret == k.TIM_ERR_PARAM, param
    assert ann.start("TIMMsgBatchSend", "[]")[0] == k.TIM_ERR_JSON
    assert ann.conv_list() == []


def test_cancel_send_of_a_message_no_longer_pending_answers_6017(
    make_tim: Callable[..., Tim],
) -> None:
    make_tim("bob")
    ann = make_tim("ann")
    sent = ann.send_text("bob", C2C, "gone already")
    res = ann.call("TIMMsgCancelSend", "bob", C2C, sent[k.MESSAGE_MSG_ID])
    assert res.code == 6017
    assert ann.call("TIMMsgCancelSend", "bob", C2C, "no-such-id").code == 6017
    ret, _ = ann.start("TIMMsgCancelSend", "bob", C2C, "")
    assert ret == k.TIM_ERR_PARAM


def test_a_send_cancelled_while_offline_never_reaches_the_server(
    recorder: Recorder, tmp_path: Path
) -> None:
    data = tmp_path / "server"
    first = ServerThread(data)
    first.start()
    bob = Tim(first, recorder, tmp_path / "bob")
    ann = Tim(first, recorder, tmp_path / "ann")
    try:
        bob.login("bob")
        ann.login("ann")
        first.stop()  # ann stays logged in, reconnecting: sends wait in her outbox
        buffer = bytearray(128)
        kept = bytearray(128)
        ret, cancelled = ann.start(
            "TIMMsgSendMessage", "bob", C2C, json.dumps(text("never")), buffer
        )
        assert ret == k.TIM_SUCC
        ret, _ = ann.start("TIMMsgSendMessage", "bob", C2C, json.dumps(text("kept")), kept)
        assert ret == k.TIM_SUCC
        msg_id = buffer.rstrip(b"\0").decode()
        assert ann.call("TIMMsgCancelSend", "bob", C2C, msg_id).code == 0
        assert cancelled().code == 7009
        assert ann.call("TIMMsgCancelSend", "bob", C2C, msg_id).code == 6017
        ann.uninit()  # the app quits; the next run sends what is left in the outbox
        second = ServerThread(data)
        second.start()
        try:
            reader = Tim(second, recorder, tmp_path / "bob2")
            reader.login("bob")
            again = Tim(second, recorder, tmp_path / "ann")
            again.login("ann")
            got = reader.messages.wait(lambda m: m[k.MESSAGE_SENDER] == "ann")
            assert got[k.MESSAGE_MSG_ID] == kept.rstrip(b"\0").decode()
            history = reader.ok("TIMMsgGetMsgList", "ann", C2C, json.dumps({}))
            assert [m[k.MESSAGE_ELEM_ARRAY][0][k.TEXT_ELEM_CONTENT] for m in history] == ["kept"]
            again.uninit()
            reader.uninit()
        finally:
            second.stop()
    finally:
        bob.uninit()
        ann.uninit()
