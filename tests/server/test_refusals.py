"""The refusal log: a line each while refusals are few, one summary per interval in a flood."""

from __future__ import annotations

import logging

import pytest

from opentim.server.gateway.refusals import RefusalLog

LOGGER = "opentim.test.refusals"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    out = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    caplog.clear()
    return out


def test_a_flood_gives_one_summary_line_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    refusals = RefusalLog(logging.getLogger(LOGGER), interval=10, burst=3, clock=clock)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        refusals.refused(6017, "bad draft", "conv_draft", "alice")
        assert lines(caplog) == ["refused conv_draft of alice: 6017 bad draft"]
        for _ in range(1199):
            refusals.refused(6017, "bad draft", "conv_draft", "alice")
        for _ in range(34):
            refusals.refused(9506, "too many requests", "send", "bob")
        assert len(lines(caplog)) == 2, "the burst only, the rest counted"
        clock.now += 9.9
        refusals.flush()
        assert lines(caplog) == [], "the interval has not ended"
        clock.now += 0.1
        refusals.flush()
        assert lines(caplog) == ["refused 1234 requests in the last 10 s: 6017×1200, 9506×34"]
        refusals.flush()
        assert lines(caplog) == [], "once"

        clock.now += 60  # a new interval starts with the next refusal: a line each again
        refusals.refused(70001, "UserSig expired", "login", "carol")
        clock.now += 20
        refusals.flush()
        assert lines(caplog) == ["refused login of carol: 70001 UserSig expired"], "no summary"


def test_a_refusal_after_the_interval_brings_out_its_summary(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    refusals = RefusalLog(logging.getLogger(LOGGER), interval=10, burst=1, clock=clock)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        refusals.refused(6014, "not logged in")
        refusals.refused(6014, "not logged in")
        clock.now += 11
        refusals.refused(6004, "no such conversation", "conv_get", "dave")
    assert lines(caplog) == [
        "refused a request: 6014 not logged in",
        "refused 2 requests in the last 10 s: 6014×2",
        "refused conv_get of dave: 6004 no such conversation",
    ]


def test_nothing_is_counted_when_info_is_off(caplog: pytest.LogCaptureFixture) -> None:
    refusals = RefusalLog(logging.getLogger(LOGGER), burst=0, clock=Clock())
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        refusals.refused(6017, "bad")
        refusals.flush()
    assert lines(caplog) == []
