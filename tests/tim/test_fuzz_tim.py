"""Fuzzing every TIM function's arguments: a call returns a TIMResult and never raises.

Arguments are drawn by each parameter's annotation (``json_*`` strings get JSON — the right shape
or not — and junk text; callbacks are real callables or None; integers cross every width), with a
wrong Python type now and then. A callback setter (void in C) raises TypeError for a
non-callable and nothing else. A call refused synchronously never calls its callback; every
callback gets an int code and str arguments; afterwards the instance still works.
"""

from __future__ import annotations

import inspect
import json
import logging
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import opentim.tim
from opentim.tim import TIMSDK

from ..fuzzing import Fuzzer
from .conftest import SDKAPPID, TIMEOUT, ServerThread

LIFECYCLE = frozenset({"TIMInit", "TIMUninit", "TIMLogin", "TIMLogout"})
FUNCTIONS = sorted(set(opentim.tim.__all__) - LIFECYCLE - {"TIMSDK"})
RESULTS = frozenset({0, -1, -2, -3, -4, -5, -6})
NOT_A_RESULT = frozenset({"TIMGetLoginStatus", "TIMGetSDKVersion", "TIMGetServerTime"})
"""The reference's functions that return something else than a TIMResult."""
SYNC_NOT_YET = frozenset({"TIMMsgGetGroupMessageReadMemberList"})
"""Not real yet, and without a TIMCommCallback: 7013 comes back from the call."""


class Calls:
    """Callback invocations, by the call that registered them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[int, list[tuple[Any, ...]]] = {}

    def callback(self, call: int) -> Callable[..., None]:
        def cb(*args: Any) -> None:
            with self.lock:
                self.seen.setdefault(call, []).append(args)

        return cb


def argument(fuzzer: Fuzzer, name: str, annotation: str, calls: Calls, call: int) -> Any:
    r = fuzzer.rng
    if r.random() < 0.05:  # a wrong Python type
        return r.choice([None, 1.5, b"bytes", ["list"], {"d": 1}, 2**70])
    if "Callback" in annotation:
        return None if r.random() < 0.1 else calls.callback(call)
    if annotation.startswith("bytearray"):
        return None if r.random() < 0.5 else bytearray(r.choice([0, 8, 128]))
    if annotation == "bool":
        return r.random() < 0.5
    if annotation == "int":
        return r.choice([1, 2, 0, 3]) if name.endswith("type") else fuzzer.integer()
    if annotation == "object":
        return object()
    if name.startswith("json"):
        pick = r.random()
        if pick < 0.6:
            value = fuzzer.junk() if pick < 0.2 else {fuzzer.text()[:30]: fuzzer.junk()}
            return json.dumps(value, ensure_ascii=False)
        return None if pick < 0.7 else fuzzer.text()
    return fuzzer.text()


@pytest.fixture
def tim(tmp_path: Path) -> Iterator[TIMSDK]:
    server = ServerThread(tmp_path / "server")
    server.start()
    sdk = TIMSDK()
    config = {"sdk_config_server_url": server.url, "sdk_config_config_file_path": str(tmp_path)}
    assert sdk.TIMInit(SDKAPPID, json.dumps(config)) == 0
    done = threading.Event()
    assert sdk.TIMLogin("mallory", server.sig("mallory"), lambda *a: done.set(), None) == 0
    assert done.wait(TIMEOUT)
    yield sdk
    sdk.TIMUninit()
    server.stop()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(rng=st.randoms(use_true_random=False))
def test_every_tim_function_returns_a_result_for_any_argument(
    tim: TIMSDK, rng: random.Random, caplog: pytest.LogCaptureFixture
) -> None:
    fuzzer = Fuzzer(rng, users=("alice", "mallory", "c2c_alice", "@TIM#SYSTEM"))
    calls = Calls()
    refused = []
    for call, name in enumerate(rng.sample(FUNCTIONS, 20)):
        signature = inspect.signature(getattr(TIMSDK, name))
        params = list(signature.parameters.values())[1:]
        args = [argument(fuzzer, p.name, str(p.annotation), calls, call) for p in params]
        if signature.return_annotation == "None":
            # A callback setter is void in C: a non-callable is a programming error.
            try:
                getattr(tim, name)(*args)
            except TypeError:
                assert any(a is not None and not callable(a) for a in args), (name, args)
            continue
        result = getattr(tim, name)(*args)
        if name in NOT_A_RESULT:
            continue
        assert isinstance(result, int), (name, args)
        assert result in (RESULTS | {7013} if name in SYNC_NOT_YET else RESULTS), (name, result)
        if result != 0:
            refused.append(call)
    # The instance still answers; then no refused call may have called back.
    done = threading.Event()
    assert tim.TIMConvGetConvList(lambda code, *a: done.set(), None) == 0
    assert done.wait(TIMEOUT)
    with calls.lock:
        assert not [c for c in refused if c in calls.seen]
        for invocations in calls.seen.values():
            for args in invocations:
                assert all(isinstance(a, int | str | object) for a in args)
    internal = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not internal, internal
