"""The SDK's socket and transport (issue 9, finding 8): a request whose connection is lost while
it is being sent raises ConnectionLostError, and leaves no future whose exception nobody
retrieved."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from opentim.protocol.ops import Empty
from opentim.sdk.connection import Connection
from opentim.sdk.core import ClientSession
from opentim.sdk.exceptions import ConnectionLostError
from opentim.sdk.transport import Transport
from opentim.server.app import Server

pytestmark = pytest.mark.e2e


async def test_request_cut_off_while_sending_leaves_no_unretrieved_future(server: Server) -> None:
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    transport = Transport(ClientSession())
    closed = asyncio.Event()
    real_lost = transport.lost

    def lost(conn: Connection) -> None:
        real_lost(conn)
        closed.set()

    transport.lost = lost  # type: ignore[method-assign]
    conn = await transport.open(server.url, None)
    ws = conn._ws
    assert ws is not None
    real_send = ws.send

    async def send_as_the_link_dies(*args: Any, **kwargs: Any) -> None:
        # The reader sees the connection end (and fails the pending request's future) while
        # this send is still on its way; then the send fails too.
        assert ws.transport is not None
        ws.transport.abort()
        async with asyncio.timeout(5):
            await closed.wait()
        await real_send(*args, **kwargs)

    ws.send = send_as_the_link_dies  # type: ignore[method-assign]
    try:
        with pytest.raises(ConnectionLostError):
            await transport.request_on(conn, "ping", Empty(), Empty)
        with pytest.raises(ConnectionLostError):
            await transport.request_on(conn, "ping", Empty(), Empty)  # a connection gone
        await conn.close()
        gc.collect()
        await asyncio.sleep(0)
        assert unhandled == []
        assert transport.session.requests.pending == {}
    finally:
        loop.set_exception_handler(None)
