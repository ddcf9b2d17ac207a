"""Unit tests of the TIM layer's pieces that need no server: argument checks, conversions,
device ids, and the SDK thread's ordering."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from opentim.protocol import Conversation, Draft, Message, TIMResult
from opentim.sdk import SdkError
from opentim.tim import TIMSDK, keys as k
from opentim.tim.convert import (
    CallRefusedError,
    conv_info,
    draft_in,
    elems_in,
    fill_buffer,
    message_json,
    parse_json,
    unique_id,
)
from opentim.tim.manager import load_device_id
from opentim.tim.runtime import CallKind, SdkThread

from .conftest import Stream


def refused(fn: Any, *args: Any) -> int:
    with pytest.raises(CallRefusedError) as info:
        fn(*args)
    return int(info.value.code)


def test_parse_json_distinguishes_json_errors_from_parameter_errors() -> None:
    assert parse_json('{"a": 1}', dict, "x") == {"a": 1}
    assert parse_json(None, dict, "x", optional=True) is None
    assert parse_json("", list, "x", optional=True) is None
    assert refused(parse_json, "", dict, "x") == TIMResult.TIM_ERR_JSON
    assert refused(parse_json, None, dict, "x") == TIMResult.TIM_ERR_PARAM
    assert refused(parse_json, b"{}", dict, "x") == TIMResult.TIM_ERR_PARAM
    assert refused(parse_json, "{'a': 1}", dict, "x") == TIMResult.TIM_ERR_JSON
    assert refused(parse_json, "[]", dict, "x") == TIMResult.TIM_ERR_JSON


def test_elements_keep_only_reference_keys_of_their_type() -> None:
    elems = elems_in(
        [
            {k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "a", k.CUSTOM_ELEM_DATA: "b", "x": 1},
            {k.ELEM_TYPE: 7, k.LOCATION_ELEM_LONGITUDE: 2, k.LOCATION_ELEM_DESC: None},
            {k.ELEM_TYPE: 99, k.TEXT_ELEM_CONTENT: "unknown type"},
        ]
    )
    assert elems == [
        {k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "a"},
        {k.ELEM_TYPE: 7, k.LOCATION_ELEM_LONGITUDE: 2},
        {k.ELEM_TYPE: 99},
    ]
    assert refused(elems_in, None) == TIMResult.TIM_ERR_PARAM
    assert refused(elems_in, [{k.ELEM_TYPE: True}]) == TIMResult.TIM_ERR_PARAM
    bad = [{k.ELEM_TYPE: 7, k.LOCATION_ELEM_LATITUDE: "north"}]
    assert refused(elems_in, bad) == TIMResult.TIM_ERR_PARAM


def test_draft_ignores_the_apps_edit_time_and_refuses_oversize() -> None:
    draft = draft_in(json.dumps({k.DRAFT_USER_DEFINE: "u"}))
    assert draft.user_define == "u"
    assert draft.edit_time == 0, "the SDK stamps it when the draft is set"
    assert draft.msg == {}
    for app_value in (1551271429, 1_700_000_000_123, 638_357_568_001_234_567, -1, "now"):
        given = draft_in(json.dumps({k.DRAFT_USER_DEFINE: "u", k.DRAFT_EDIT_TIME: app_value}))
        assert given == draft, app_value
    assert refused(draft_in, json.dumps({k.DRAFT_USER_DEFINE: "x" * 12_289})) == (
        TIMResult.TIM_ERR_PARAM
    )
    assert refused(draft_in, json.dumps({k.DRAFT_MSG: "text"})) == TIMResult.TIM_ERR_PARAM


def test_fill_buffer_writes_in_place_or_grows() -> None:
    buf = bytearray(b"\xff" * 6)
    fill_buffer(buf, "ab")
    assert buf == bytearray(b"ab\0\xff\xff\xff")
    small = bytearray(1)
    fill_buffer(small, "héllo")
    assert small == bytearray("héllo".encode() + b"\0")
    fill_buffer(None, "ignored")


def _msg(**kw: Any) -> Message:
    base: dict[str, Any] = {
        "msg_id": "m1",
        "conv_type": 1,
        "sender": "bob",
        "receiver": "alice",
        "elems": [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "hi"}],
        "seq": 3,
    }
    return Message(**{**base, **kw})


def test_message_json_is_as_the_reader_sees_it() -> None:
    msg = _msg()
    for_alice = message_json(msg, "alice", read_seq=2)
    assert for_alice[k.MESSAGE_CONV_ID] == "bob"
    assert for_alice[k.MESSAGE_IS_FROM_SELF] is False
    assert for_alice[k.MESSAGE_IS_READ] is False
    assert message_json(msg, "alice", read_seq=3)[k.MESSAGE_IS_READ] is True
    for_bob = message_json(msg, "bob", read_seq=0)
    assert for_bob[k.MESSAGE_CONV_ID] == "alice"
    assert for_bob[k.MESSAGE_IS_READ] is True
    assert for_alice[k.MESSAGE_UNIQUE_ID] == for_bob[k.MESSAGE_UNIQUE_ID]
    assert 0 <= unique_id(msg) < 2**63
    assert unique_id(msg) != unique_id(_msg(seq=4))
    assert for_alice[k.MESSAGE_SENDER_PROFILE][k.USER_PROFILE_IDENTIFIER] == "bob"


def test_message_unique_ids_fit_a_signed_64_bit_integer() -> None:
    """Readers holding message_unique_id in an int64 (jsoncpp asInt64, Java long) must read
    it as it is: every id is below 2^63, and they stay distinct."""
    ids = {
        unique_id(_msg(seq=seq, conv_type=conv_type, receiver=receiver))
        for seq in range(1, 2_001)
        for conv_type, receiver in ((1, "alice"), (2, "group-1"), (2, "group-2"))
    }
    assert len(ids) == 6_000
    assert max(ids) < 2**63
    assert max(ids) >= 2**61, "the ids still spread over the range"


def test_conv_info_has_draft_and_last_message_keys_only_when_present() -> None:
    bare = conv_info(Conversation(conv_type=1, conv_id="bob", activity=5), "alice")
    assert bare[k.CONV_ACTIVE_TIME] == 5
    assert k.CONV_DRAFT not in bare
    assert k.CONV_LAST_MSG not in bare
    assert k.CONV_GROUP_TYPE not in bare
    full = conv_info(
        Conversation(
            conv_type=2,
            conv_id="g",
            activity=5,
            pinned=True,
            draft=Draft(user_define="u", edit_time=9),
            last_msg=_msg(conv_type=2, receiver="g"),
            max_seq=3,
            count=3,
            read_seq=1,
            read_count=1,
        ),
        "alice",
    )
    assert full[k.CONV_ACTIVE_TIME] == (1 << 62) + 5
    assert full[k.CONV_DRAFT] == {
        k.DRAFT_MSG: {},
        k.DRAFT_USER_DEFINE: "u",
        k.DRAFT_EDIT_TIME: 9,
    }
    assert full[k.CONV_UNREAD_NUM] == 2
    assert full[k.CONV_GROUP_READ_SEQUENCE] == 1
    assert full[k.CONV_LAST_MSG][k.MESSAGE_CONV_ID] == "g"


def test_the_same_config_path_is_the_same_device(tmp_path: Path) -> None:
    first = load_device_id(tmp_path / "a")
    assert load_device_id(tmp_path / "a") == first
    assert load_device_id(tmp_path / "b") != first
    (tmp_path / "a" / "opentim-device-id").write_text("")
    assert load_device_id(tmp_path / "a") not in ("", first)


def test_tim_init_refuses_bad_arguments(tmp_path: Path) -> None:
    sdk: Any = TIMSDK()
    afile = tmp_path / "a-file"
    afile.write_text("not a directory")
    for app_id in (0, -1, 2**64, True, "1400000000", None):
        assert sdk.TIMInit(app_id, None) == TIMResult.TIM_ERR_PARAM, app_id
    config = json.dumps({k.SDK_CONFIG_CONFIG_FILE_PATH: str(afile)})
    assert sdk.TIMInit(1400000000, config) == TIMResult.TIM_ERR_PARAM
    assert sdk.TIMInit(1400000000, json.dumps({k.SDK_CONFIG_CONFIG_FILE_PATH: 5})) == (
        TIMResult.TIM_ERR_PARAM
    )
    assert sdk.TIMInit(1400000000, 7) == TIMResult.TIM_ERR_PARAM
    assert sdk.TIMUninit() == TIMResult.TIM_ERR_SDKUNINIT


def test_reads_wait_for_earlier_changes_and_sessions_for_everything() -> None:
    runtime = SdkThread("test-sdk")
    runtime.start()
    order = Stream()
    gates: dict[str, Any] = {}
    results = Stream()

    def work(name: str, gated: bool = False) -> Any:
        async def run() -> str:
            if gated:
                gates[name] = asyncio.get_running_loop().create_future()
                order.append(f"{name} waiting")
                await gates[name]
            order.append(name)
            return name

        return run

    def cb(code: int, desc: str, json_params: str, ud: Any) -> None:
        results.append((code, json_params, ud, threading.get_ident()))

    try:
        runtime.submit(CallKind.CHANGE, work("change", gated=True), cb, 1)
        runtime.submit(CallKind.READ, work("read"), cb, 2)
        runtime.submit(CallKind.CHANGE, work("other change"), cb, 3)
        order.wait(lambda x: x == "other change")
        assert "read" not in order.items, "a read waits for the change before it"
        runtime.call_soon(lambda: gates["change"].set_result(None))
        order.wait(lambda x: x == "read")
        runtime.submit(CallKind.SESSION, work("session"), cb, 4)
        runtime.submit(CallKind.CHANGE, work("after session"), cb, 5)
        order.wait(lambda x: x == "after session")
        assert order.items.index("session") < order.items.index("after session")

        async def fails() -> str:
            raise SdkError(6004, "no conversation")

        runtime.submit(CallKind.CHANGE, fails, cb, 6)
        results.wait(lambda r: r[2] == 6)
    finally:
        runtime.stop(lambda: _nothing())
    by_ud = {r[2]: r for r in results.items}
    assert by_ud[6][:2] == (6004, "")
    assert by_ud[2][:2] == (0, "read")
    assert {r[3] for r in results.items} == {runtime.thread_id}
    assert not runtime._thread.is_alive()
    assert results.mark() == 6


async def _nothing() -> None:
    return None
