"""A connection cut under a client that is sending: the sends wait for the next connection."""

from __future__ import annotations

import asyncio

import pytest

from opentim.protocol import ConvType

from ..conftest import Login
from ..helpers import until

pytestmark = pytest.mark.e2e


async def test_sends_made_as_the_socket_dies_go_out_on_the_next_connection(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    got: list[str] = []
    bob.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
    for _ in range(3):
        conn = alice._conn
        assert conn is not None
        assert conn._ws is not None
        conn._ws.transport.abort()  # the network drops; the client has not noticed yet
        sends = [
            asyncio.ensure_future(alice.messages.send_text(ConvType.C2C, "bob", f"m{i}"))
            for i in range(20)
        ]
        async with asyncio.timeout(10):
            sent = await asyncio.gather(*sends)
        await until(bob, lambda: all(m.msg_id in got for m in sent), timeout=10)
    assert len(got) == len(set(got)) == 60
