"""Threading and callbacks (DESIGN §6): callbacks on the SDK thread, never inside the call,
user_data handed back as is, callbacks calling TIM functions, several instances per process,
and the order of events against later callbacks."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

import opentim.tim
from opentim.tim import TIMSDK, keys as k

from .conftest import SDKAPPID, TIMEOUT, Result, ServerThread, Stream, Tim

pytestmark = pytest.mark.e2e

C2C, GROUP = k.kTIMConv_C2C, k.kTIMConv_Group
TEXT = json.dumps({k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "hi"}]})


def sdk_thread(tim: Tim) -> int:
    runtime = tim.sdk._runtime
    assert runtime is not None
    ident = runtime.thread_id
    assert ident is not None
    return ident


def test_callbacks_run_on_the_sdk_thread_with_user_data_as_given(make_tim: Any) -> None:
    make_tim("t-peer")
    tim: Tim = make_tim("t-user")
    marker = object()
    res = tim.call("TIMConvCreate", "t-peer", C2C, user_data=marker)
    assert res.code == 0
    assert res.user_data is marker, "user_data comes back as the same object"
    assert res.thread_id != threading.get_ident()
    assert res.thread_id == sdk_thread(tim)
    assert {e.thread_id for e in tim.conv_events.items} == {sdk_thread(tim)}
    failed = tim.call("TIMConvDelete", "no-such-peer", C2C, user_data=marker)
    assert failed.code == 6004
    assert failed.user_data is marker

    seen: list[Any] = []
    done = threading.Event()
    tim.sdk.TIMSetConvEventCallback(
        tim.recorder.wrap("TIMConvEventCallback", lambda ev, js, ud: (seen.append(ud), done.set())),
        marker,
    )
    assert tim.sdk.TIMConvSetDraft("t-peer", C2C, json.dumps({k.DRAFT_USER_DEFINE: "x"})) == 0
    assert done.wait(TIMEOUT)
    assert seen[0] is marker


def test_a_callback_never_runs_inside_the_call_and_may_call_any_tim_function(
    make_tim: Any,
) -> None:
    make_tim("n-peer")
    tim: Tim = make_tim("n-user")
    sdk = tim.sdk
    log: list[str] = []
    finished = Stream()

    def inner(code: int, desc: str, json_params: str, ud: Any) -> None:
        log.append(f"inner {ud} {code}")
        if ud == "send":
            finished.append("done")

    def outer(code: int, desc: str, json_params: str, ud: Any) -> None:
        assert threading.get_ident() == sdk_thread(tim)
        log.append("outer: calling")
        wrapped = tim.recorder.wrap
        # From the SDK thread: a read, a change and a send; none may block or call back here.
        assert sdk.TIMConvGetConvList(wrapped("TIMConvGetConvList", inner), "list") == 0
        assert (
            sdk.TIMConvPinConversation(
                "n-peer", C2C, True, wrapped("TIMConvPinConversation", inner), "pin"
            )
            == 0
        )
        assert (
            sdk.TIMMsgSendMessage(
                "n-peer", C2C, TEXT, bytearray(8), wrapped("TIMMsgSendMessage", inner), "send"
            )
            == 0
        )
        log.append("outer: returned")

    assert sdk.TIMConvCreate("n-peer", C2C, tim.recorder.wrap("TIMConvCreate", outer), None) == 0
    finished.wait(lambda item: item == "done")
    assert log[:2] == ["outer: calling", "outer: returned"]
    assert sorted(log[2:]) == ["inner list 0", "inner pin 0", "inner send 0"]
    info = tim.conv("n-peer", C2C)
    assert info is not None
    assert info[k.CONV_IS_PINNED] is True


def test_uninit_from_a_callback_does_not_deadlock(make_tim: Any) -> None:
    tim: Tim = make_tim("u-user")
    results: list[int] = []
    done = threading.Event()

    def cb(code: int, desc: str, json_params: str, ud: Any) -> None:
        results.append(tim.sdk.TIMUninit())
        results.append(tim.sdk.TIMConvGetConvList(cb, None))
        done.set()

    assert tim.sdk.TIMConvGetConvList(tim.recorder.wrap("TIMConvGetConvList", cb), None) == 0
    assert done.wait(TIMEOUT)
    assert results == [k.TIM_SUCC, k.TIM_ERR_SDKUNINIT]


def test_uninit_stops_the_daemon_sdk_thread_and_answers_calls_in_flight(make_tim: Any) -> None:
    make_tim("f-peer")
    tim: Tim = make_tim("f-user")
    runtime = tim.sdk._runtime
    assert runtime is not None
    thread = runtime._thread
    assert thread.daemon, "an SDK thread never keeps the process alive"
    ret, wait = tim.start("TIMMsgSendMessage", "f-peer", C2C, TEXT, None)
    assert ret == 0
    assert tim.sdk.TIMUninit() == k.TIM_SUCC
    assert not thread.is_alive()
    assert wait().code in (0, 6013), "finished, or cut short by TIMUninit"
    # A new TIMInit of the same instance starts a new thread, and the instance works again.
    config = {"sdk_config_server_url": tim.server.url}
    assert tim.sdk.TIMInit(SDKAPPID, json.dumps(config)) == k.TIM_SUCC
    runtime2 = tim.sdk._runtime
    assert runtime2 is not None
    assert runtime2._thread is not thread
    assert runtime2._thread.is_alive()
    tim.login("f-user")
    assert tim.send_text("f-peer", C2C, "again")[k.MESSAGE_SEQ] >= 1


def test_two_instances_in_one_process_are_two_users_on_two_threads(make_tim: Any) -> None:
    alice: Tim = make_tim("two-alice")
    bob: Tim = make_tim("two-bob")
    assert sdk_thread(alice) != sdk_thread(bob)
    buf = bytearray(128)
    assert alice.sdk.TIMGetLoginUserID(buf) == 0
    assert bytes(buf[: buf.index(0)]) == b"two-alice"
    assert bob.sdk.TIMGetLoginUserID(buf) == 0
    assert bytes(buf[: buf.index(0)]) == b"two-bob"

    alice.send_text("two-bob", C2C, "hello bob")
    got = bob.messages.wait(lambda m: m[k.MESSAGE_SENDER] == "two-alice")
    assert got[k.MESSAGE_CONV_ID] == "two-alice"
    assert got[k.MESSAGE_IS_FROM_SELF] is False
    assert [c[k.CONV_ID] for c in alice.conv_list()] == ["two-bob"]


def test_module_functions_act_on_the_default_instance(
    server: ServerThread, make_tim: Any, tmp_path: Any
) -> None:
    tim = opentim.tim
    cfg = {
        k.SDK_CONFIG_CONFIG_FILE_PATH: str(tmp_path / "default"),
        "sdk_config_server_url": server.url,
    }
    assert tim.TIMInit(SDKAPPID, json.dumps(cfg)) == k.TIM_SUCC
    try:
        got: list[Result] = []
        done = threading.Event()

        def cb(code: int, desc: str, json_params: str, ud: Any) -> None:
            got.append(Result(code, desc, json_params, ud, threading.get_ident()))
            done.set()

        assert tim.TIMLogin("default-user", server.sig("default-user"), cb, None) == 0
        assert done.wait(TIMEOUT)
        assert got[0].code == 0
        assert tim.TIMGetLoginStatus() == k.kTIMLoginStatus_Logined
        done.clear()
        assert tim.TIMConvGetConvList(cb, "ud") == 0
        assert done.wait(TIMEOUT)
        assert (got[1].code, got[1].json_params, got[1].user_data) == (0, "[]", "ud")
    finally:
        assert tim.TIMUninit() == k.TIM_SUCC
    assert tim.TIMGetLoginStatus() == k.kTIMLoginStatus_UnLogined


def test_setting_a_callback_to_none_unregisters_it(make_tim: Any) -> None:
    peer: Tim = make_tim("r-peer")
    tim: Tim = make_tim("r-user")
    assert tim.total_unread() == 0
    tim.sdk.TIMSetConvEventCallback(None, None)
    tim.sdk.TIMSetConvTotalUnreadMessageCountChangedCallback(None, None)
    messages: list[str] = []

    def extra(json_msg_array: str, ud: Any) -> None:
        messages.append(json_msg_array)

    recorded_extra = tim.recorder.wrap("TIMRecvNewMsgCallback", extra)
    tim.sdk.TIMAddRecvNewMsgCallback(recorded_extra, None)
    tim.sdk.TIMRemoveRecvNewMsgCallback(recorded_extra)
    events, totals = tim.conv_events.mark(), tim.totals.mark()
    mark = tim.messages.mark()
    peer.send_text("r-user", C2C, "one")
    tim.messages.wait(lambda m: True, since=mark)  # the harness's own listener still runs
    peer.ok("TIMConvCreate", "r-user", C2C)
    tim.ok("TIMConvCreate", "r-peer", C2C)  # a barrier: earlier events would have come by now
    assert tim.conv_events.items[events:] == []
    assert tim.totals.items[totals:] == []
    assert messages == []


def test_total_unread_callback_starts_after_the_first_count_request(make_tim: Any) -> None:
    peer: Tim = make_tim("tu-peer")
    tim: Tim = make_tim("tu-user")
    tim.ok("TIMConvCreate", "tu-peer", C2C)
    mark = tim.conv_events.mark()
    peer.send_text("tu-user", C2C, "one")
    tim.conv_events.wait(lambda e: e.has(k.kTIMConvEvent_Update, "tu-peer"), since=mark)
    assert tim.totals.items == [], "not before TIMConvGetTotalUnreadMessageCount"
    assert tim.total_unread() == 1
    peer.send_text("tu-user", C2C, "two")
    assert tim.totals.wait(lambda t: t == 2) == 2


def test_an_event_reaches_the_app_before_a_later_callback_that_shows_its_change(
    make_tim: Any,
) -> None:
    peer: Tim = make_tim("o-peer")
    tim: Tim = make_tim("o-user")
    violations: list[str] = []
    checked = Stream()

    def check_list(code: int, desc: str, json_params: str, ud: Any) -> None:
        for conv in json.loads(json_params):
            unread = conv[k.CONV_UNREAD_NUM]
            announced = any(
                c[k.CONV_ID] == conv[k.CONV_ID] and c[k.CONV_UNREAD_NUM] == unread
                for e in tim.conv_events.items
                for c in e.convs
            )
            if not announced:
                violations.append(f"{conv[k.CONV_ID]} unread {unread} shown before its event")
        checked.append(ud)

    def on_message(json_msg_array: str, ud: Any) -> None:
        # On the SDK thread, right as the message arrives: ask for the list at once.
        tim.sdk.TIMConvGetConvList(tim.recorder.wrap("TIMConvGetConvList", check_list), "msg")

    tim.sdk.TIMAddRecvNewMsgCallback(tim.recorder.wrap("TIMRecvNewMsgCallback", on_message), None)
    for i in range(5):
        peer.send_text("o-user", C2C, f"m{i}")
    checked.wait(lambda ud: True, since=4)  # one list per message, each checked on arrival
    assert tim.conv("o-peer", C2C) is not None
    assert violations == []


def test_an_internal_error_still_calls_back_with_7012(
    make_tim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tim: Tim = make_tim("ie-user")
    client = tim.sdk._client
    assert client is not None

    def broken() -> list[Any]:
        raise RuntimeError("boom")

    client.conversations.list = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="opentim.tim.runtime"):
        res = tim.call("TIMConvGetConvList", user_data="ud")
    assert (res.code, res.json_params, res.user_data) == (7012, "", "ud")
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


def test_a_callback_that_raises_does_not_break_the_sdk(
    make_tim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tim: Tim = make_tim("raise-user")

    def bad(code: int, desc: str, json_params: str, ud: Any) -> None:
        raise ValueError("app bug")

    with caplog.at_level(logging.ERROR, logger="opentim.tim.runtime"):
        assert tim.sdk.TIMConvGetConvList(tim.recorder.wrap("TIMConvGetConvList", bad), None) == 0
        assert tim.conv_list() == []
    assert any("app bug" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_a_login_in_flight_orders_later_calls(server: ServerThread, make_tim: Any) -> None:
    tim: Tim = make_tim()
    sdk: TIMSDK = tim.sdk
    ret_login, wait_login = tim.start("TIMLogin", "q-user", server.sig("q-user"))
    assert ret_login == 0
    assert sdk.TIMGetLoginStatus() in (k.kTIMLoginStatus_Logining, k.kTIMLoginStatus_Logined)
    # Accepted while logging in, run after the login.
    ret_list, wait_list = tim.start("TIMConvGetConvList")
    assert ret_list == 0
    assert wait_login().code == 0
    assert (wait_list().code, wait_list().json_params) == (0, "[]")


def test_a_second_login_from_the_same_device_kicks_the_first(make_tim: Any) -> None:
    first: Tim = make_tim("kick-user", device="same-device")
    kicked = Stream()
    first.sdk.TIMSetKickedOfflineCallback(
        first.recorder.wrap("TIMKickedOfflineCallback", kicked.append), "first"
    )
    elsewhere: Tim = make_tim("kick-user", device="another-device")  # any number of devices

    second: Tim = make_tim(device="same-device")  # same config path: same device id
    network = Stream()
    second.sdk.TIMSetNetworkStatusListenerCallback(
        second.recorder.wrap(
            "TIMNetworkStatusListenerCallback",
            lambda status, code, desc, ud: network.append((status, code, ud)),
        ),
        "net",
    )
    second.login("kick-user")
    assert network.items[0] == (k.kTIMConnecting, 0, "net")
    assert network.wait(lambda item: item[0] == k.kTIMConnected) == (k.kTIMConnected, 0, "net")

    assert kicked.wait(lambda ud: True) == "first"
    assert first.sdk.TIMGetLoginStatus() == k.kTIMLoginStatus_UnLogined
    assert first.sdk.TIMConvGetConvList(NeverCalled(), None) == k.TIM_ERR_NOTLOGIN
    assert second.conv_list() == []
    assert elsewhere.conv_list() == []
    assert kicked.items == ["first"]


class NeverCalled:
    def __call__(self, *args: Any) -> None:
        raise AssertionError(f"called with {args!r}")
