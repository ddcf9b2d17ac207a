"""One exception root, ``OpenTimError``, drawn in protocol/exceptions.py; and the one function
per boundary that turns an error into what the boundary speaks: the gateway's ``error_frame``
(exception → error frame), the SDK's ``error_of`` (error frame → ``SdkError``), the TIM
runtime's ``callback_error`` (exception → callback code) and ``tim_call`` (refusal → return
value)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import pickle
import pkgutil
import re

import pytest

import opentim
from opentim.protocol import (
    ErrorCode,
    OpenTimError,
    OpenTimProtocolError,
    RemoteProtocolError,
    Response,
    TIMResult,
    decode_server_frame,
    exceptions as tree,
)
from opentim.sdk import ConnectionLostError, SdkError
from opentim.sdk.exceptions import error_of
from opentim.server.bus.base import BusUnavailableError
from opentim.server.config import ConfigError
from opentim.server.gateway.dispatch import error_frame
from opentim.server.gateway.refusals import REFUSALS
from opentim.server.services.errors import ConvNotFoundError, ServiceError
from opentim.server.store.base import StoreError, StoreUnavailableError
from opentim.tim.convert import CallRefusedError
from opentim.tim.core import tim_call
from opentim.tim.runtime import UNINIT_DESC, callback_error

APP_CODE = {"opentim.demo"}
"""Modules that are apps built on opentim, whose errors are their own."""

DISPATCH = "opentim.server.gateway.dispatch"

CODES = {int(c) for c in ErrorCode} | {int(r) for r in TIMResult}


def opentim_exception_classes() -> list[type[BaseException]]:
    """Every exception class defined in an opentim module (all of them imported)."""
    found: list[type[BaseException]] = []
    for info in pkgutil.walk_packages(opentim.__path__, "opentim."):
        if info.name in APP_CODE:
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == info.name:
                found.append(obj)
    return sorted(set(found), key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def example(cls: type[OpenTimError]) -> OpenTimError:
    """An instance of ``cls`` built through its own constructor."""
    params = [
        p
        for p in inspect.signature(cls).parameters.values()
        if p.default is inspect.Parameter.empty
    ]
    if not params:
        return cls()
    if len(params) == 1:
        return cls("what went wrong")  # type: ignore[call-arg]
    code = TIMResult.TIM_ERR_PARAM if "TIMResult" in str(params[0].annotation) else 6017
    return cls(code, "what went wrong")


def test_every_exception_class_is_an_opentim_error_with_a_code_drawn_in_the_tree() -> None:
    classes = opentim_exception_classes()
    names = {cls.__name__ for cls in classes}
    assert {"SdkError", "ServiceError", "StoreError", "CallRefusedError", "ConfigError"} <= names
    assert [c for c in classes if not issubclass(c, OpenTimError)] == []
    drawn = set(re.findall(r"── (\w+)", tree.__doc__ or ""))
    assert drawn == names - {"OpenTimError"}, "protocol/exceptions.py draws the whole tree"
    for cls in classes:
        error = example(cls)
        assert error.code in CODES, cls
        assert error.code != 0, cls
        assert error.desc, cls
        assert error.desc in str(error), cls
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is cls
        assert (copy.code, copy.desc, str(copy)) == (error.code, error.desc, str(error))


def test_the_protocol_split_is_under_the_root() -> None:
    assert issubclass(OpenTimProtocolError, OpenTimError)
    assert issubclass(tree.LocalProtocolError, OpenTimProtocolError)
    assert issubclass(tree.FrameTooBigError, RemoteProtocolError)
    assert not issubclass(ServiceError, OpenTimProtocolError)
    assert not issubclass(SdkError, OpenTimProtocolError)


def test_str_has_the_code_but_an_operator_reads_a_sentence() -> None:
    assert str(ConvNotFoundError("c2c_x")) == "6004: no conversation 'c2c_x'"
    assert str(SdkError(6017, "bad")) == "6017: bad"
    assert str(CallRefusedError(TIMResult.TIM_ERR_JSON, "not JSON")) == "TIM_ERR_JSON: not JSON"
    assert str(StoreUnavailableError("PostgreSQL at 127.0.0.1:1 is unreachable")) == (
        "PostgreSQL at 127.0.0.1:1 is unreachable"
    )


# --- the boundaries -------------------------------------------------------------------------
def answer(frame: bytes) -> tuple[int, int, str]:
    res = decode_server_frame(frame)
    assert isinstance(res, Response)
    return res.id, res.code, res.desc


@pytest.mark.parametrize(
    ("exc", "code", "desc"),
    [
        (ConvNotFoundError("c2c_x"), 6004, "no conversation 'c2c_x'"),
        (ServiceError(ErrorCode.ERR_SVR_GROUP_FULL_MEMBER_COUNT, "full"), 10014, "full"),
        (StoreUnavailableError("PostgreSQL is unreachable"), 7010, "PostgreSQL is unreachable"),
        (StoreError("no user 'x'"), 7010, "no user 'x'"),
        (BusUnavailableError("Redis is unreachable"), 20005, "Redis is unreachable"),
        (RemoteProtocolError(ErrorCode.ERR_INVALID_PARAMETERS, "bad token"), 6017, "bad token"),
        (ConfigError("no such setting"), 6017, "no such setting"),
        (RuntimeError("secret detail"), 7012, "internal error"),
    ],
)
def test_gateway_error_frame(exc: Exception, code: int, desc: str) -> None:
    assert answer(error_frame(42, exc)) == (42, code, desc)


@pytest.mark.parametrize(
    ("exc", "logger", "level", "traceback"),
    [
        (ConvNotFoundError("c2c_x"), "opentim.server.refusals", logging.INFO, False),
        (
            RemoteProtocolError(ErrorCode.ERR_INVALID_PARAMETERS, "bad"),
            "opentim.server.refusals",
            logging.INFO,
            False,
        ),
        (StoreUnavailableError("PostgreSQL is unreachable"), DISPATCH, logging.WARNING, False),
        (BusUnavailableError("Redis is unreachable"), DISPATCH, logging.WARNING, False),
        (StoreError("disk I/O error"), DISPATCH, logging.ERROR, True),
        (RuntimeError("secret detail"), DISPATCH, logging.ERROR, True),
    ],
)
def test_gateway_error_frame_logs_each_kind_once_where_it_belongs(
    exc: Exception, logger: str, level: int, traceback: bool, caplog: pytest.LogCaptureFixture
) -> None:
    REFUSALS.flush()
    with caplog.at_level(logging.INFO, logger="opentim"):
        error_frame(1, exc, "conv_get", "alice")
        REFUSALS.flush()
    records = [(r.name, r.levelno, r.exc_info is not None) for r in caplog.records]
    assert records == [(logger, level, traceback)]


def test_sdk_error_of_an_error_frame() -> None:
    error = error_of(Response(id=3, code=10010, desc="no group 'g'"))
    assert type(error) is SdkError
    assert (error.code, error.desc) == (10010, "no group 'g'")
    # What the gateway sends is what the app gets.
    res = decode_server_frame(error_frame(3, ConvNotFoundError("c2c_y")))
    assert isinstance(res, Response)
    assert (error_of(res).code, error_of(res).desc) == (6004, "no conversation 'c2c_y'")


def test_tim_callback_error() -> None:
    assert callback_error(SdkError(6004, "no conversation")) == (6004, "no conversation")
    assert callback_error(ConnectionLostError()) == (9508, "connection to the server lost")
    assert callback_error(asyncio.CancelledError()) == (6013, UNINIT_DESC)
    assert callback_error(KeyError("bug")) == (7012, "internal error")


def test_tim_call_returns_the_refusal_code() -> None:
    @tim_call
    def refusing(json_param: str) -> int:
        raise CallRefusedError(TIMResult.TIM_ERR_JSON, "not JSON")

    assert refusing("{") == TIMResult.TIM_ERR_JSON
