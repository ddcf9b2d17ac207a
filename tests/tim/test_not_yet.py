"""The functions that are not real yet (tim/pending.py, generated from tim/plan.py): each checks
its call as every TIM function does (DESIGN §6), then answers 7013 through its callback, on the
SDK thread, naming the issue that makes it real; a setter of an event that is not real yet
registers, and None unregisters."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from opentim.tim import TIMSDK, keys as k
from opentim.tim.notyet import INT_RANGES, Param, Pending
from opentim.tim.pending import PENDING, PendingAPI
from opentim.tim.plan import NOT_YET_CODE, issue_text

from .conformance import AllFacts
from .conftest import TIMEOUT, Tim

SETTERS = sorted(
    name
    for name in vars(PendingAPI)
    if name.startswith("TIMSet") and name not in PENDING and callable(vars(PendingAPI)[name])
)


def good_value(param: Param, cb: Any, user_data: object) -> Any:
    """A valid argument for ``param``."""
    return {
        "json": "{}",
        "str": "x",
        "conv_ident": "peer",
        "group_ident": "group-1",
        "conv_kind": k.kTIMConv_C2C,
        "bool": False,
        "buffer": bytearray(128),
        "comm": cb,
        "callback": cb,
        "user_data": user_data,
    }.get(param.kind, min(param.values) if param.values else 0)


def bad_values(param: Param) -> list[tuple[Any, int]]:
    """Arguments DESIGN §6 refuses for ``param``, each with its code."""
    wrong_type = (1.5, k.TIM_ERR_PARAM)
    return {
        "json": [("{", k.TIM_ERR_JSON), ('"text"', k.TIM_ERR_JSON), (5, k.TIM_ERR_PARAM)],
        "str": [wrong_type],
        "conv_ident": [("", k.TIM_ERR_PARAM), (None, k.TIM_ERR_PARAM)],
        "group_ident": [("bad\ngroup", k.TIM_ERR_GROUP), ("", k.TIM_ERR_PARAM)],
        "conv_kind": [(9, k.TIM_ERR_CONV), ("1", k.TIM_ERR_PARAM)],
        "enum": [(max(param.values or {0}) + 100, k.TIM_ERR_PARAM), (True, k.TIM_ERR_PARAM)],
        "bool": [(1, k.TIM_ERR_PARAM)],
        "buffer": [(b"bytes", k.TIM_ERR_PARAM)],
        "comm": [(None, k.TIM_ERR_PARAM), ("not callable", k.TIM_ERR_PARAM)],
        "callback": [(None, k.TIM_ERR_PARAM)],
        "user_data": [],
    }.get(param.kind, [(INT_RANGES.get(param.kind, (0, 1))[1], k.TIM_ERR_PARAM), wrong_type])


def call_pending(sdk: TIMSDK, spec: Pending, values: dict[str, Any]) -> int:
    result: int = getattr(sdk, spec.name)(*(values[p.name] for p in spec.params))
    return result


def test_plan_covers_every_not_yet_function_with_a_filed_or_later_issue() -> None:
    # 48: TIMFriendshipManager.h; 7: group screens; 23: users; issue 12: 1 (modify), 4
    # (sending, local, merged), 5 reactions, 3 pins, 5 extensions
    assert len(PENDING) + len(SETTERS) == 244 - 68 - 48 - 7 - 23 - 1 - 4 - 5 - 3 - 5
    issues = {spec.issue for spec in PENDING.values()}
    assert issues == {0, 12}, "nothing issue 11 names waits any more"
    assert issue_text(12) == "issue 12"
    assert issue_text(0) == "a later issue"
    assert PENDING["TIMMsgTranslateText"].issue == 12
    assert "TIMGroupGetGroupInfoList" not in PENDING, "real since issue 11"
    assert "TIMFriendshipAddFriend" not in PENDING
    assert "TIMProfileGetUserProfileList" not in PENDING
    assert PENDING["TIMSignalingInvite"].issue == 0


def test_every_not_yet_function_answers_7013(make_tim: Any) -> None:
    """Every one, called correctly while logged in: TIM_SUCC, then cb(7013, desc naming its
    issue, "", user_data) once, on the SDK thread (the recorder checks the codes)."""
    me: Tim = make_tim("notyet-me")
    sdk_thread = me.sdk._runtime.thread_id if me.sdk._runtime else None
    for name, spec in PENDING.items():
        marker = object()
        done = threading.Event()
        got: list[tuple[Any, ...]] = []

        def cb(*args: Any, got: list[tuple[Any, ...]] = got, done: threading.Event = done) -> None:
            got.append((*args, threading.get_ident()))
            done.set()

        recorded = me.recorder.wrap(name, cb)
        values = {p.name: good_value(p, recorded, marker) for p in spec.params}
        result = call_pending(me.sdk, spec, values)
        if not any(p.kind == "comm" for p in spec.params):
            assert result == NOT_YET_CODE, name
            continue
        assert result == k.TIM_SUCC, name
        assert done.wait(TIMEOUT), name
        code, desc, json_params, user_data, thread = got[0]
        assert (code, json_params) == (NOT_YET_CODE, ""), name
        assert name in desc
        assert issue_text(spec.issue) in desc
        assert user_data is marker
        assert thread == sdk_thread


def test_not_yet_functions_refuse_before_init_and_before_login(make_tim: Any) -> None:
    fresh = TIMSDK()
    logged_out: Tim = make_tim()
    for spec in PENDING.values():
        values = {p.name: good_value(p, lambda *a: None, None) for p in spec.params}
        assert call_pending(fresh, spec, values) == k.TIM_ERR_SDKUNINIT, spec.name
        assert call_pending(logged_out.sdk, spec, values) == k.TIM_ERR_NOTLOGIN, spec.name


def test_not_yet_functions_refuse_bad_input_with_the_design_codes_and_never_call_back(
    make_tim: Any,
) -> None:
    me: Tim = make_tim("notyet-bad")
    called: list[str] = []
    tried = 0
    for spec in PENDING.values():
        good = {
            p.name: good_value(p, lambda *a, n=spec.name: called.append(n), None)
            for p in spec.params
        }
        for param in spec.params:
            for value, code in bad_values(param):
                assert call_pending(me.sdk, spec, {**good, param.name: value}) == code, (
                    spec.name,
                    param.name,
                    value,
                )
                tried += 1
    assert tried > 5 * len(PENDING)  # several bad values per function (fewer as they turn real)
    me.conv_list()  # a later call's answer: anything a refused call queued would be before it
    assert called == []


@pytest.mark.parametrize("name", SETTERS)
def test_every_setter_of_a_not_yet_event_registers(name: str) -> None:
    sdk = TIMSDK()
    setter = getattr(sdk, name)
    marker = object()

    def cb(*args: object) -> None:
        pass

    assert setter(cb, marker) is None
    typedef = AllFacts().functions[name]["params"][0].split()[0]
    stored, user_data = sdk._listeners[typedef]
    assert callable(stored)
    assert user_data is marker
    assert setter(None, None) is None
    assert typedef not in sdk._listeners
    with pytest.raises(TypeError):
        setter("not callable", None)


def test_not_yet_functions_exist_on_every_instance_with_their_docs() -> None:
    for name in [*PENDING, *SETTERS]:
        method = getattr(TIMSDK, name)
        assert method.__doc__
        assert ("Not real yet" in method.__doc__) or ("fires from" in method.__doc__), name
