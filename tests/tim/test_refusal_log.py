"""Synchronous refusals say why on the ``opentim.tim`` logger (the return code alone does not)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from opentim.tim import TIMSDK, keys as k

from .conftest import Tim

pytestmark = pytest.mark.e2e

C2C = k.kTIMConv_C2C


def test_each_sync_refusal_logs_its_code_and_reason_at_warning(
    make_tim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tim: Tim = make_tim("refusal-user")
    sdk = tim.sdk
    with caplog.at_level(logging.WARNING, logger="opentim.tim"):
        assert TIMSDK().TIMConvGetConvList(lambda *a: None, None) == k.TIM_ERR_SDKUNINIT
        assert sdk.TIMConvGetConvInfo("not json", lambda *a: None, None) == k.TIM_ERR_JSON
        assert sdk.TIMConvSetDraft("", C2C, "{}") == k.TIM_ERR_PARAM
        assert sdk.TIMConvCreate("peer", 7, lambda *a: None, None) == k.TIM_ERR_CONV
    refusals = [r for r in caplog.records if r.name == "opentim.tim"]
    assert all(r.levelno == logging.WARNING for r in refusals)
    lines = [r.getMessage() for r in refusals]
    assert len(lines) == 4, lines
    assert lines[0].startswith("TIMConvGetConvList returned -1 (TIM_ERR_SDKUNINIT): TIMInit")
    assert lines[1].startswith("TIMConvGetConvInfo returned -3 (TIM_ERR_JSON): ")
    assert lines[2].startswith("TIMConvSetDraft returned -4 (TIM_ERR_PARAM): ")
    assert lines[3].startswith("TIMConvCreate returned -5 (TIM_ERR_CONV): ")
    assert all(len(line.split(": ", 1)[1]) > 3 for line in lines), "each names its reason"
