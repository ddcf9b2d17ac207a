"""What Tencent's sample apps and public wrappers call at start-up (issue 11): TIMGetSDKVersion,
TIMGetServerTime, TIMSetConfig, the log callback, callExperimentalAPI, and the older send
names TIMMsgSendNewMsg / TIMMsgSendNewMsgEx; each with its bad input refused with the
synchronous codes of DESIGN §6 and nothing changed."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opentim.tim import TIMSDK, keys as k
from opentim.tim.logs import python_level, tim_level
from opentim.tim.manager import SDK_VERSION
from opentim.tim.runtime import early_thread

from .conformance import AllFacts, Recorder
from .conftest import TIMEOUT, ServerThread, Stream, Tim

C2C = k.kTIMConv_C2C
UI_PLATFORM = {
    "request_internal_operation": "internal_operation_set_ui_platform",
    "request_set_ui_platform_param": 6,
}
TEXT = json.dumps(
    {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: "hi"}]}
)


class Answers:
    """TIMCommCallback answers, with the thread each came on."""

    def __init__(self) -> None:
        self.stream = Stream()

    def cb(self, code: int, desc: str, json_params: str, user_data: Any) -> None:
        self.stream.append((code, desc, json_params, user_data, threading.current_thread().name))

    def next(self, since: int = 0) -> tuple[int, str, str, Any, str]:
        item: tuple[int, str, str, Any, str] = self.stream.wait(lambda _: True, since=since)
        return item


# --- version and server time ----------------------------------------------------------------
def test_sdk_version_is_the_reference_version_at_any_time() -> None:
    assert SDK_VERSION in AllFacts().meta["description"]
    sdk = TIMSDK()
    assert sdk.TIMGetSDKVersion() == SDK_VERSION


@pytest.fixture
def ahead_server(tmp_path: Path) -> Iterator[ServerThread]:
    """A server whose clock runs 1000 s ahead of this machine's."""
    srv = ServerThread(tmp_path / "ahead", clock=lambda: time.time() + 1000)
    srv.start()
    yield srv
    srv.stop()


def test_server_time_is_the_servers_clock_learnt_at_login(
    ahead_server: ServerThread, recorder: Recorder, tmp_path: Path
) -> None:
    tim = Tim(ahead_server, recorder, tmp_path / "dev")
    try:
        before = time.time()
        assert abs(tim.sdk.TIMGetServerTime() - before) <= 2, "before login: this clock"
        tim.login("clock-user")
        now = time.time()
        assert 998 <= tim.sdk.TIMGetServerTime() - now <= 1002
        assert abs(TIMSDK().TIMGetServerTime() - time.time()) <= 2
    finally:
        tim.uninit()


# --- TIMSetConfig and the log callback ------------------------------------------------------
def test_set_config_sets_levels_and_accepts_the_other_keys(make_tim: Any) -> None:
    me: Tim = make_tim()
    config = {
        k.SET_CONFIG_LOG_LEVEL: k.kTIMLog_Debug,
        k.SET_CONFIG_CALLBACK_LOG_LEVEL: k.kTIMLog_Warn,
        k.SET_CONFIG_IS_LOG_OUTPUT_CONSOLE: False,
        k.SET_CONFIG_USER_CONFIG: {k.USER_CONFIG_IS_IS_DISABLE_STORAGE: False},
        k.SET_CONFIG_USER_DEFINE_DATA: "app data",
        k.SET_CONFIG_HTTP_PROXY_INFO: {
            "http_proxy_info_ip": "10.0.0.1",
            "http_proxy_info_port": 8080,
        },
        k.SET_CONFIG_SOCKS5_PROXY_INFO: {"socks5_proxy_info_ip": "10.0.0.2"},
        k.SET_CONFIG_PAC_PROXY_INFO: {},
        k.SET_CONFIG_IS_ONLY_LOCAL_DNS_SOURCE: True,
    }
    result = me.call("TIMSetConfig", json.dumps(config), user_data="ud")
    assert (result.code, result.json_params, result.user_data) == (0, "", "ud")
    assert logging.getLogger("opentim").level == logging.DEBUG
    assert me.sdk._callback_log_handler is not None
    assert me.sdk._callback_log_handler.level == logging.WARNING
    assert me.sdk._config[k.SET_CONFIG_USER_DEFINE_DATA] == "app data"
    assert me.ok("TIMSetConfig", "{}") is None, "an empty config changes nothing"
    assert logging.getLogger("opentim").level == logging.DEBUG


@pytest.mark.parametrize(
    ("config", "code"),
    [
        ("{", k.TIM_ERR_JSON),
        ("[]", k.TIM_ERR_JSON),
        ("", k.TIM_ERR_JSON),
        (None, k.TIM_ERR_PARAM),
        (5, k.TIM_ERR_PARAM),
        ('{"set_config_log_level": "info"}', k.TIM_ERR_PARAM),
        ('{"set_config_log_level": 9}', k.TIM_ERR_PARAM),
        ('{"set_config_callback_log_level": -1}', k.TIM_ERR_PARAM),
        ('{"set_config_callback_log_level": true}', k.TIM_ERR_PARAM),
        ('{"set_config_is_log_output_console": 1}', k.TIM_ERR_PARAM),
        ('{"set_config_http_proxy_info": "host:80"}', k.TIM_ERR_PARAM),
        ('{"set_config_user_config": {"user_config_is_is_disable_storage": 1}}', k.TIM_ERR_PARAM),
    ],
)
def test_set_config_refuses_bad_input_and_changes_nothing(
    make_tim: Any, config: Any, code: int
) -> None:
    me: Tim = make_tim()
    level = logging.getLogger("opentim").level
    answers = Answers()
    assert me.sdk.TIMSetConfig(config, answers.cb, None) == code
    me.ok("TIMSetConfig", "{}")
    assert answers.stream.items == []
    assert me.sdk._config == {}
    assert logging.getLogger("opentim").level == level


def test_set_config_needs_init_and_a_callback_but_no_login(make_tim: Any) -> None:
    assert TIMSDK().TIMSetConfig("{}", lambda *a: None, None) == k.TIM_ERR_SDKUNINIT
    me: Tim = make_tim()
    assert me.sdk.TIMSetConfig("{}", None, None) == k.TIM_ERR_PARAM
    assert me.ok("TIMSetConfig", "{}") is None


def test_log_lines_at_the_callback_level_reach_it_on_the_sdk_thread(make_tim: Any) -> None:
    me: Tim = make_tim()
    lines = Stream()
    sdk_thread = me.sdk._runtime.name if me.sdk._runtime else ""

    def on_log(level: int, text: str, user_data: Any) -> None:
        lines.append((level, text, user_data, threading.current_thread().name))

    levels = {
        k.SET_CONFIG_LOG_LEVEL: k.kTIMLog_Debug,
        k.SET_CONFIG_CALLBACK_LOG_LEVEL: k.kTIMLog_Info,
    }
    me.ok("TIMSetConfig", json.dumps(levels))
    me.sdk.TIMSetLogCallback(me.recorder.wrap("TIMLogCallback", on_log), "ud")
    me.login("log-user")
    info = lines.wait(lambda line: "TIMLogin: log-user logged in" in line[1])
    assert info[0] == k.kTIMLog_Info
    assert info[2:] == ("ud", sdk_thread)
    # A refusal on the app's thread is a Warn line, delivered on the SDK thread.
    mark = lines.mark()
    assert me.sdk.TIMConvCreate("", C2C, lambda *a: None, None) == k.TIM_ERR_PARAM
    warn = lines.wait(lambda line: "TIMConvCreate returned -4" in line[1], since=mark)
    assert (warn[0], warn[3]) == (k.kTIMLog_Warn, sdk_thread)
    # Raised to Error: Info and Warn lines stop; None unregisters.
    me.ok("TIMSetConfig", json.dumps({k.SET_CONFIG_CALLBACK_LOG_LEVEL: k.kTIMLog_Error}))
    mark = lines.mark()
    assert me.sdk.TIMConvCreate("", C2C, lambda *a: None, None) == k.TIM_ERR_PARAM
    me.conv_list()
    me.sdk.TIMSetLogCallback(None, None)
    logging.getLogger("opentim.tim").error("after unregistering")
    me.conv_list()
    assert lines.items[mark:] == []


def test_a_log_callback_that_raises_does_not_loop(make_tim: Any) -> None:
    me: Tim = make_tim()
    calls: list[str] = []

    def bad(level: int, text: str, user_data: Any) -> None:
        calls.append(text)
        raise RuntimeError("app bug")

    me.sdk.TIMSetLogCallback(bad, None)
    me.ok("TIMSetConfig", json.dumps({k.SET_CONFIG_CALLBACK_LOG_LEVEL: k.kTIMLog_Warn}))
    assert me.sdk.TIMConvCreate("", C2C, lambda *a: None, None) == k.TIM_ERR_NOTLOGIN
    me.ok("TIMSetConfig", "{}")
    assert len([c for c in calls if "TIMConvCreate" in c]) == 1


def test_log_levels_map_both_ways() -> None:
    for level in k.TIMLogLevel:
        if level not in (k.kTIMLog_Off, k.kTIMLog_Test):
            assert tim_level(python_level(level)) == level
    assert tim_level(python_level(k.kTIMLog_Test)) == k.kTIMLog_Verbose
    assert python_level(k.kTIMLog_Off) > logging.CRITICAL


def test_set_log_callback_refuses_what_is_not_callable() -> None:
    with pytest.raises(TypeError):
        TIMSDK().TIMSetLogCallback("print", None)  # type: ignore[arg-type]


# --- callExperimentalAPI --------------------------------------------------------------------
def test_experimental_requests_of_wrappers_work_before_init_on_a_thread_of_opentim() -> None:
    sdk = TIMSDK()
    answers = Answers()
    requests: list[dict[str, Any]] = [
        UI_PLATFORM,
        {**UI_PLATFORM, "request_set_ui_platform_param": "unity"},
        {"request_internal_operation": "internal_operation_set_env", "request_set_env_param": True},
        {
            "request_internal_operation": "internal_operation_set_custom_server_info",
            "request_set_custom_server_info_param": {
                "longconnection_address_array": [
                    {"server_address_ip": "127.0.0.1", "server_address_port": 9000}
                ],
                "server_public_key": "k",
            },
        },
    ]
    for request in requests:
        assert sdk.callExperimentalAPI(json.dumps(request), answers.cb, "ud") == k.TIM_SUCC
    got = [answers.next(i) for i in range(len(requests))]
    assert [g[0] for g in got] == [0, 0, 0, 0]
    assert {g[4] for g in got} == {"opentim-early"}
    assert {g[3] for g in got} == {"ud"}
    assert json.loads(got[2][2]) == {
        "response_internal_operation": "internal_operation_set_env",
        "response_set_env_res": True,
    }
    assert json.loads(got[0][2]) == {
        "response_internal_operation": UI_PLATFORM["request_internal_operation"]
    }
    facts = AllFacts()
    for g in got:
        assert facts.check_flat("TIMExperimentalAPI.h", json.loads(g[2]), "response") == []
    assert sdk._experimental["internal_operation_set_ui_platform"] == "unity"


def test_the_early_thread_ends_when_it_has_delivered_everything() -> None:
    """A host such as Mono waits at exit for every thread that ran its code: the thread that
    answers before TIMInit must not outlive its answers."""
    got: list[str] = []
    for round_ in ("first", "second"):
        release = threading.Event()
        early_thread.call_soon(release.wait, TIMEOUT)  # holds the thread until we look at it
        early_thread.call_soon(got.append, round_)
        thread = early_thread._thread
        assert thread is not None
        assert thread.is_alive()
        release.set()
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    assert got == ["first", "second"]


def test_experimental_requests_after_init_answer_on_the_sdk_thread(make_tim: Any) -> None:
    me: Tim = make_tim()
    result = me.call("callExperimentalAPI", json.dumps(UI_PLATFORM))
    assert result.code == 0
    assert result.thread_id == me.sdk._runtime.thread_id  # type: ignore[union-attr]


def test_experimental_operations_opentim_does_not_do_answer_7013(make_tim: Any) -> None:
    me: Tim = make_tim()
    facts = AllFacts()
    operations = [
        spec["key"]
        for name, spec in facts.headers["TIMExperimentalAPI.h"]["json_keys"].items()
        if name.startswith("kTIMInternalOperation")
    ]
    assert len(operations) > 30
    from opentim.tim.experimental import ACCEPTED

    assert set(ACCEPTED) <= set(operations)
    for operation in sorted(set(operations) - set(ACCEPTED)):
        result = me.call(
            "callExperimentalAPI", json.dumps({"request_internal_operation": operation})
        )
        assert (result.code, result.json_params) == (7013, ""), operation
        assert operation in result.desc


def test_write_log_writes_the_apps_line_through_opentims_log(make_tim: Any) -> None:
    me: Tim = make_tim()
    lines = Stream()
    me.sdk.TIMSetLogCallback(lambda level, text, ud: lines.append((level, text)), None)
    me.ok("TIMSetConfig", json.dumps({k.SET_CONFIG_LOG_LEVEL: k.kTIMLog_Info}))
    request = {
        "request_internal_operation": "internal_operation_write_log",
        "request_write_log_log_level_param": k.kTIMLog_Info,
        "request_write_log_log_content_param": "hello from the app",
    }
    assert me.ok("callExperimentalAPI", json.dumps(request)) == {
        "response_internal_operation": "internal_operation_write_log"
    }
    assert lines.wait(lambda line: "hello from the app" in line[1])[0] == k.kTIMLog_Info


@pytest.mark.parametrize(
    ("request_text", "code"),
    [
        ("{", k.TIM_ERR_JSON),
        ("[]", k.TIM_ERR_JSON),
        (None, k.TIM_ERR_PARAM),
        ("{}", k.TIM_ERR_PARAM),
        ('{"request_internal_operation": 5}', k.TIM_ERR_PARAM),
        ('{"request_internal_operation": "format_disk"}', k.TIM_ERR_PARAM),
        ('{"request_internal_operation": "internal_operation_set_env"}', k.TIM_ERR_PARAM),
        (
            '{"request_internal_operation": "internal_operation_set_env", '
            '"request_set_env_param": "yes"}',
            k.TIM_ERR_PARAM,
        ),
        (
            '{"request_internal_operation": "internal_operation_set_ui_platform", '
            '"request_set_ui_platform_param": -1}',
            k.TIM_ERR_PARAM,
        ),
        (
            '{"request_internal_operation": "internal_operation_set_custom_server_info", '
            '"request_set_custom_server_info_param": {"longconnection_address_array": []}}',
            k.TIM_ERR_PARAM,
        ),
        (
            '{"request_internal_operation": "internal_operation_write_log", '
            '"request_write_log_log_level_param": 4}',
            k.TIM_ERR_PARAM,
        ),
    ],
)
def test_experimental_bad_input_is_refused_and_nothing_changes(
    request_text: Any, code: int
) -> None:
    sdk = TIMSDK()
    answers = Answers()
    assert sdk.callExperimentalAPI(request_text, answers.cb, None) == code
    assert sdk.callExperimentalAPI(json.dumps(UI_PLATFORM), answers.cb, "after") == 0
    assert answers.next()[3] == "after", "the refused call never called back"
    assert set(sdk._experimental) == {UI_PLATFORM["request_internal_operation"]}


def test_experimental_needs_a_callback() -> None:
    assert TIMSDK().callExperimentalAPI(json.dumps(UI_PLATFORM), None, None) == k.TIM_ERR_PARAM


# --- the older send names -------------------------------------------------------------------
def test_send_new_msg_and_ex_send_as_send_message(make_tim: Any) -> None:
    bob: Tim = make_tim("old-bob")
    alice: Tim = make_tim("old-alice")
    sent = alice.ok("TIMMsgSendNewMsg", "old-bob", C2C, TEXT)
    got = bob.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID])
    assert got[k.MESSAGE_ELEM_ARRAY][0][k.TEXT_ELEM_CONTENT] == "hi"
    order: list[tuple[str, int, str, Any, str]] = []

    def on_id(code: int, desc: str, json_params: str, user_data: Any) -> None:
        order.append(("id", code, json_params, user_data, threading.current_thread().name))

    msgid_cb = alice.recorder.wrap("TIMMsgSendNewMsgEx.msgid_cb", on_id)
    result = alice.call("TIMMsgSendNewMsgEx", "old-bob", C2C, TEXT, msgid_cb, user_data="ud")
    assert result.code == 0
    message = result.value
    sdk_thread = alice.sdk._runtime.name if alice.sdk._runtime else ""
    assert order == [("id", 0, message[k.MESSAGE_MSG_ID], "ud", sdk_thread)]
    bob.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == message[k.MESSAGE_MSG_ID])
    # msgid_cb may be None: only the result comes.
    assert alice.call("TIMMsgSendNewMsgEx", "old-bob", C2C, TEXT, None).code == 0


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("old-peer", 9, TEXT), k.TIM_ERR_CONV),
        (("", C2C, TEXT), k.TIM_ERR_PARAM),
        (("old-peer", C2C, "{"), k.TIM_ERR_JSON),
        (("old-peer", C2C, "{}"), k.TIM_ERR_PARAM),
        (("old-peer", "1", TEXT), k.TIM_ERR_PARAM),
    ],
)
def test_older_sends_refuse_bad_input_and_send_nothing(
    make_tim: Any, args: tuple[Any, ...], code: int
) -> None:
    peer: Tim = make_tim("old-peer")
    me: Tim = make_tim("old-me")
    answers = Answers()
    assert me.sdk.TIMMsgSendNewMsg(*args, answers.cb, None) == code
    assert me.sdk.TIMMsgSendNewMsgEx(*args, answers.cb, answers.cb, None) == code
    assert me.sdk.TIMMsgSendNewMsg("old-peer", C2C, TEXT, None, None) == k.TIM_ERR_PARAM
    assert (
        me.sdk.TIMMsgSendNewMsgEx("old-peer", C2C, TEXT, answers.cb, None, None) == k.TIM_ERR_PARAM
    )
    assert (
        me.sdk.TIMMsgSendNewMsgEx("old-peer", C2C, TEXT, "x", answers.cb, None) == k.TIM_ERR_PARAM
    )
    assert me.ok("TIMMsgGetMsgList", "old-peer", C2C, "") == []
    assert answers.stream.items == []
    assert TIMSDK().TIMMsgSendNewMsg("old-peer", C2C, TEXT, answers.cb, None) == k.TIM_ERR_SDKUNINIT
    logged_out: Tim = make_tim()
    assert (
        logged_out.sdk.TIMMsgSendNewMsgEx("p", C2C, TEXT, None, answers.cb, None)
        == k.TIM_ERR_NOTLOGIN
    )
    assert peer.messages.items == []
