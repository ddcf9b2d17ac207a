"""The networked buses' outbox: in order, bounded, retried with backoff, flushed at close."""

from __future__ import annotations

import asyncio
import logging

import pytest

from opentim.server.bus.base import Outbox


class Sink:
    """A send function that fails while ``down`` is set and records what went through."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.down = False
        self.attempts = 0
        self.went_through = asyncio.Event()
        self.failed = asyncio.Event()

    async def failures(self, n: int) -> None:
        """Wait until ``n`` attempts have failed."""
        while self.attempts < n:
            self.failed.clear()
            await self.failed.wait()

    async def send(self, batch: list[bytes]) -> None:
        self.attempts += 1
        if self.down:
            self.failed.set()
            raise ConnectionError("service away")
        self.sent.extend(batch)
        self.went_through.set()


async def test_envelopes_go_out_in_order_in_batches_and_close_flushes() -> None:
    sink = Sink()
    box = Outbox(sink.send, "test", batch=2)
    box.start()
    for i in range(5):
        box.put(b"%d" % i)
    await box.close()
    assert sink.sent == [b"0", b"1", b"2", b"3", b"4"]
    assert sink.attempts == 3


async def test_a_failing_send_is_retried_until_it_goes_through_nothing_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = Sink()
    sink.down = True
    box = Outbox(sink.send, "test", backoff=0.001, backoff_max=0.004)
    box.start()
    with caplog.at_level(logging.WARNING, "opentim.server.bus.base"):
        box.put(b"a")
        box.put(b"b")
        await sink.failures(4)
        assert box.failing
        sink.down = False
        await sink.went_through.wait()
        await box.close()
    assert sink.sent == [b"a", b"b"]
    assert not box.failing
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "test: publishing failed (service away); retrying",
        "test: publishing again",
    ]


async def test_past_the_limit_new_envelopes_are_dropped_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = Sink()
    box = Outbox(sink.send, "test", limit=2)
    with caplog.at_level(logging.WARNING, "opentim.server.bus.base"):
        for i in range(4):
            box.put(b"%d" % i)
    assert box.dropped == 2
    assert "outbox full, 1 pushes dropped so far" in caplog.text
    box.start()
    await box.close()
    assert sink.sent == [b"0", b"1"]


async def test_close_while_failing_gives_up_what_is_queued(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = Sink()
    sink.down = True
    box = Outbox(sink.send, "test", backoff=0.001)
    box.start()
    box.put(b"a")
    await sink.failures(1)
    await box.close()
    assert sink.sent == []
    await box.close()  # closing twice is harmless


async def test_a_flush_that_takes_too_long_is_cut_at_close(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def slow(batch: list[bytes]) -> None:
        await release.wait()

    box = Outbox(slow, "test")
    box.start()
    box.put(b"a")
    with caplog.at_level(logging.WARNING, "opentim.server.bus.base"):
        await box.close(flush_timeout=0.01)
    assert "test: 1 pushes not sent at close" in caplog.text
