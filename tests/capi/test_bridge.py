"""The Python side of libImSDK (``opentim.capi.bridge``), driven with cffi cdata as the library
hands it: strings, out buffers, callbacks, user_data, and exceptions at the boundary."""

from __future__ import annotations

import logging
from typing import Any

import cffi
import pytest

import opentim.tim
from opentim.capi import reference as ref
from opentim.capi.bridge import OUT_BUFFER_SIZE, RESULT_ON_ERROR, CCallback, Export
from opentim.capi.build import cdef_types
from opentim.protocol import TIMResult


@pytest.fixture(scope="module")
def ffi() -> Any:
    ffi = cffi.FFI()
    ffi.cdef(cdef_types())
    return ffi


def export(ffi: Any, name: str, target: Any) -> Export:
    function = next(f for f in ref.functions() if f.name == name)
    exp = Export(ffi, function)
    exp.target = target
    return exp


def test_a_python_exception_is_logged_and_never_returns_tim_succ(
    ffi: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*args: object) -> int:
        raise RuntimeError("bug")

    with caplog.at_level(logging.ERROR, "opentim.capi.bridge"):
        result = export(ffi, "TIMConvGetConvList", boom)(ffi.NULL, ffi.NULL)
    assert result == RESULT_ON_ERROR == int(TIMResult.TIM_ERR_PARAM)
    assert "TIMConvGetConvList failed" in caplog.text
    assert "RuntimeError: bug" in caplog.text


def test_a_result_that_is_not_an_int_is_an_error_not_success(ffi: Any) -> None:
    assert export(ffi, "TIMUninit", lambda: None)() == RESULT_ON_ERROR


def test_strings_are_copied_in_null_is_none_and_bad_utf8_stays_refusable(ffi: Any) -> None:
    seen: list[object] = []

    def target(*args: object) -> int:
        seen.extend(args)
        return 0

    conv_id = ffi.new("char[]", "bøb".encode())
    assert export(ffi, "TIMConvSetDraft", target)(conv_id, 1, ffi.NULL) == 0
    assert seen == ["bøb", 1, None]
    seen.clear()
    export(ffi, "TIMConvCancelDraft", target)(ffi.new("char[]", b"\xff"), 2)
    assert isinstance(seen[0], str)
    with pytest.raises(UnicodeEncodeError):
        str(seen[0]).encode()  # the TIM layer refuses it as it does for Python callers


def test_out_buffers_are_filled_nul_terminated_and_cut_to_the_reference_size(ffi: Any) -> None:
    def target(buffer: bytearray | None) -> int:
        assert buffer is not None
        text = ("x" * 300).encode() + b"\0"
        buffer[:] = text
        return 0

    c_buffer = ffi.new("char[]", OUT_BUFFER_SIZE + 8)
    assert export(ffi, "TIMGetLoginUserID", target)(c_buffer) == 0
    assert ffi.string(c_buffer) == b"x" * (OUT_BUFFER_SIZE - 1)
    assert export(ffi, "TIMGetLoginUserID", lambda b: 0 if b is None else 1)(ffi.NULL) == 0


def test_callbacks_get_live_c_strings_and_user_data_untouched(ffi: Any) -> None:
    got: list[tuple[int, bytes, bytes, int]] = []
    user_data = ffi.new("int*", 7)

    @ffi.callback("TIMCommCallback")
    def c_callback(code: int, desc: Any, json_params: Any, ud: Any) -> None:
        got.append((code, ffi.string(desc), ffi.string(json_params), ffi.cast("int*", ud)[0]))
        assert ud == ffi.cast("void*", user_data)

    def target(cb: Any, ud: object) -> int:
        assert isinstance(cb, CCallback)
        cb(0, "done", '{"a": "é"}', ud)
        return 0

    assert export(ffi, "TIMConvGetConvList", target)(c_callback, user_data) == 0
    assert got == [(0, b"done", '{"a": "é"}'.encode(), 7)]


def test_two_wrappers_of_one_pointer_are_equal(ffi: Any) -> None:
    @ffi.callback("TIMRecvNewMsgCallback")
    def c_callback(json_msg_array: Any, ud: Any) -> None:
        pass

    one = CCallback(ffi, "TIMRecvNewMsgCallback", c_callback)
    two = CCallback(ffi, "TIMRecvNewMsgCallback", c_callback)
    assert one == two
    assert hash(one) == hash(two)


def test_a_const_char_result_stays_alive(ffi: Any) -> None:
    result = export(ffi, "TIMGetSDKVersion", lambda: "8.6-opentim")()
    assert ffi.string(result) == b"8.6-opentim"
    assert export(ffi, "TIMGetSDKVersion", lambda: "8.6-opentim")() is not None


def test_not_yet_is_7013() -> None:
    from opentim.tim.plan import NOT_YET_CODE

    assert ref.enum_value("TIMErrCode", "ERR_SDK_INTERFACE_NOT_SUPPORT") == NOT_YET_CODE


def test_every_export_calls_the_same_named_tim_function(ffi: Any) -> None:
    """All 244: the library calls opentim.tim for each, with as many arguments as C passes."""
    import inspect

    for function in ref.functions():
        exp = Export(ffi, function)
        assert exp.target is getattr(opentim.tim, function.name), function.name
        params = inspect.signature(exp.target).parameters
        assert len(params) == len(function.params), function.name


def test_a_log_callback_gets_its_level_and_a_live_c_string(ffi: Any) -> None:
    got: list[tuple[int, bytes]] = []

    @ffi.callback("TIMLogCallback")
    def c_callback(level: int, text: Any, ud: Any) -> None:
        got.append((level, ffi.string(text)))

    CCallback(ffi, "TIMLogCallback", c_callback)(4, "a line", ffi.NULL)
    assert got == [(4, b"a line")]


def test_each_c_return_type_has_its_failure_value(ffi: Any) -> None:
    by_name = {f.name: f for f in ref.functions()}
    assert Export(ffi, by_name["TIMConvGetConvList"]).on_error() == RESULT_ON_ERROR
    assert ffi.string(Export(ffi, by_name["TIMGetSDKVersion"]).on_error()) == b""
    assert Export(ffi, by_name["TIMSetConvEventCallback"]).on_error() is None
    assert Export(ffi, by_name["TIMGetLoginStatus"]).on_error() == ref.enum_value(
        "TIMLoginStatus", "kTIMLoginStatus_UnLogined"
    )
    assert Export(ffi, by_name["TIMGetServerTime"]).on_error() == 0


def test_a_callback_wrapper_names_its_type(ffi: Any) -> None:
    @ffi.callback("TIMRecvNewMsgCallback")
    def c_callback(json_msg_array: Any, ud: Any) -> None:
        pass

    assert "TIMRecvNewMsgCallback" in repr(CCallback(ffi, "TIMRecvNewMsgCallback", c_callback))
