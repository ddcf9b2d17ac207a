"""The sync driver over a transport whose requests are answered by a fake server: what the core
asks goes out, answers come back, deliveries reach the app once."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from opentim.sdk import Client
from opentim.sdk.core import Ask

from .core_helpers import BOB, ME, FakeServer, msg, snap


def offline_client() -> tuple[Client, FakeServer, list[str]]:
    client = Client("ws://127.0.0.1:9/ws")
    client.user_id = ME
    client.conversations.apply([snap(5)])
    client.session.sync.delivered[BOB] = 5
    server = FakeServer(client.session.sync)
    got: list[str] = []
    client.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
    return client, server, got


async def test_a_gap_is_filled_through_the_transport_and_announced_once() -> None:
    client, server, got = offline_client()
    server.add(*(msg(s) for s in range(6, 10)))

    async def answer(op: str, body: msgspec.Struct, result: type[Any]) -> object:
        return server.answer(Ask(0, op, body, result))

    client.transport.request = answer  # type: ignore[method-assign]
    client.engine.on_push(msg(9))
    client.engine.on_push(msg(7))
    await client.engine.settle()
    assert got == ["bob-6", "bob-7", "bob-8", "bob-9"]
    assert client.engine.delivered[BOB] == 9
    assert client.engine.fillers == {}
    assert client.engine.targets[BOB] == 9
    await client.close()


async def test_a_request_that_fails_unexpectedly_still_ends_its_filler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, _, got = offline_client()

    async def broken(op: str, body: msgspec.Struct, result: type[Any]) -> object:
        raise RuntimeError("a bug below the sync")

    client.transport.request = broken  # type: ignore[method-assign]
    client.engine.on_push(msg(8))
    await client.engine.settle()
    assert client.engine.fillers == {}
    assert "sync request failed unexpectedly" in caplog.text
    assert got == []
    await client.close()
