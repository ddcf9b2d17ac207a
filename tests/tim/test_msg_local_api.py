"""A message's local custom data through the TIM layer: on one device only, across restarts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentim.protocol.limits import MAX_LOCAL_CUSTOM_BYTES
from opentim.tim import keys as k

from .conftest import Recorder, ServerThread, Tim

BOTH_ENGINES = True

C2C = k.kTIMConv_C2C


def customs(tim: Tim, peer: str) -> dict[str, tuple[str, int]]:
    """Each message of the conversation with ``peer``: its local custom string and int."""
    return {
        m[k.MESSAGE_MSG_ID]: (m[k.MESSAGE_CUSTOM_STR], m[k.MESSAGE_CUSTOM_INT])
        for m in tim.ok("TIMMsgGetMsgList", peer, C2C, json.dumps({}))
    }


def local(msg: dict[str, Any], text: str, number: int) -> str:
    return json.dumps(msg | {k.MESSAGE_CUSTOM_STR: text, k.MESSAGE_CUSTOM_INT: number})


def test_local_custom_data_stays_on_the_device_and_survives_a_restart(
    server: ServerThread, recorder: Recorder, tmp_path: Path
) -> None:
    ann = Tim(server, recorder, tmp_path / "ann")
    bob = Tim(server, recorder, tmp_path / "bob-phone")
    other = Tim(server, recorder, tmp_path / "bob-laptop")
    try:
        for tim, user in ((ann, "ann"), (bob, "bob"), (other, "bob")):
            tim.login(user)
        first = ann.send_text("bob", C2C, "one")
        second = ann.send_text("bob", C2C, "two")
        got = bob.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == first[k.MESSAGE_MSG_ID])
        assert bob.ok("TIMMsgSetLocalCustomData", local(got, "played", 7)) is None
        bob.ok("TIMMsgSetLocalCustomData", local(got, "played twice", 8))  # the last one wins
        mine = {first[k.MESSAGE_MSG_ID]: ("played twice", 8), second[k.MESSAGE_MSG_ID]: ("", 0)}
        assert customs(bob, "ann") == mine
        untouched = {first[k.MESSAGE_MSG_ID]: ("", 0), second[k.MESSAGE_MSG_ID]: ("", 0)}
        assert customs(other, "ann") == untouched
        assert customs(ann, "bob") == untouched
        bob.uninit()
        bob = Tim(server, recorder, tmp_path / "bob-phone")  # the app starts again
        bob.login("bob")
        assert customs(bob, "ann") == mine
    finally:
        for tim in (ann, bob, other):
            tim.uninit()


def test_bad_local_custom_data_is_refused_synchronously(make_tim: Callable[..., Tim]) -> None:
    ann = make_tim("ann")
    msg = {k.MESSAGE_MSG_ID: "some-id"}
    for param in (
        local({}, "x", 1),
        local(msg, "x", -1),
        local(msg, "x", 2**32),
        local(msg, "x" * (MAX_LOCAL_CUSTOM_BYTES + 1), 0),
        json.dumps(msg | {k.MESSAGE_CUSTOM_STR: 5}),
    ):
        ret, _ = ann.start("TIMMsgSetLocalCustomData", param)
        assert ret == k.TIM_ERR_PARAM, param
