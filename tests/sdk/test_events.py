"""SDK event listeners: plain callables and ``async def`` ones."""

from __future__ import annotations

import asyncio
import logging

import pytest

from opentim.protocol import Message
from opentim.sdk import ConvType

from ..conftest import Login

pytestmark = pytest.mark.e2e


async def test_an_async_listener_is_scheduled_on_the_loop_and_its_failure_logged(
    login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob = await login("alice"), await login("bob")
    got: list[str] = []
    arrived = asyncio.Event()

    async def on_messages(msgs: list[Message]) -> None:
        await asyncio.sleep(0)  # really a coroutine, suspended once
        got.extend(m.msg_id for m in msgs)
        arrived.set()

    async def broken(msgs: list[Message]) -> None:
        raise ValueError("listener bug")

    bob.events.new_messages.add(on_messages)
    bob.events.new_messages.add(broken)
    with caplog.at_level(logging.ERROR, logger="opentim.sdk.events"):
        sent = await alice.messages.send_text(ConvType.C2C, "bob", "hello")
        async with asyncio.timeout(10):
            await arrived.wait()  # the failing task started after this one and never yields
    assert got == [sent.msg_id]
    failures = [r for r in caplog.records if r.exc_info and "listener bug" in str(r.exc_info[1])]
    assert len(failures) == 1
