"""Session life through the TIM layer: UserSig expiry, the local cache across restarts."""

from __future__ import annotations

import json
from typing import Any

from opentim.tim import keys as k

from .conftest import Stream, Tim


def test_usersig_expiring_while_logged_in_calls_back_and_logs_out(make_tim: Any) -> None:
    tim: Tim = make_tim()
    expired = Stream()
    tim.sdk.TIMSetUserSigExpiredCallback(
        tim.recorder.wrap("TIMUserSigExpiredCallback", expired.append), "ud"
    )
    res = tim.call("TIMLogin", "short-lived", tim.server.sig("short-lived", expire=1))
    assert res.code == 0
    assert expired.wait(lambda ud: True) == "ud"  # within the sig's one-second life
    assert tim.sdk.TIMGetLoginStatus() == k.kTIMLoginStatus_UnLogined


def test_a_restarted_app_lists_its_conversations_from_the_local_cache(make_tim: Any) -> None:
    peer: Tim = make_tim("cache-peer")
    first: Tim = make_tim("cache-user", device="phone")
    peer.send_text("cache-user", k.kTIMConv_C2C, "hello")
    first.conv_events.wait(lambda e: e.has(k.kTIMConvEvent_Add, "cache-peer"))
    before = first.conv_list()
    first.uninit()

    again: Tim = make_tim(device="phone")  # the same config path: the same device and cache
    assert again.call("TIMLogin", "cache-user", again.server.sig("cache-user")).code == 0
    listed = again.conv_list()
    assert [c[k.CONV_ID] for c in listed] == [c[k.CONV_ID] for c in before]
    assert listed[0][k.CONV_UNREAD_NUM] == 1
    assert json.loads(json.dumps(listed)) == listed
