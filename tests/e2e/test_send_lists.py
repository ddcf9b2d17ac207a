"""Cancelling a queued send and listing newer messages, with the SDK against a real server."""

from __future__ import annotations

import asyncio

import pytest

from opentim.protocol import ConvType, ErrorCode
from opentim.sdk import Client, SdkError

from ..conftest import FAST, Login, sig
from ..faults import Proxy
from ..helpers import until

pytestmark = pytest.mark.e2e
C2C = ConvType.C2C


async def test_a_send_cancelled_while_offline_never_arrives_and_the_next_one_does(
    login: Login, proxy: Proxy
) -> None:
    alice = await login("alice")
    bob = Client(proxy.url, reconnect_delay=FAST)
    await bob.login("bob", sig("bob"))
    await bob.wait_synced()
    try:
        proxy.down = True
        proxy.cut()
        await until(bob, lambda: not bob.connected)
        dropped = bob.messages.new_text("never")
        sending = asyncio.ensure_future(bob.messages.send(C2C, "alice", dropped))
        kept = asyncio.ensure_future(bob.messages.send_text(C2C, "alice", "kept"))
        await until(bob, lambda: bob.messages.is_queued(dropped.msg_id))
        with pytest.raises(SdkError) as wrong_conv:
            bob.messages.cancel_send(C2C, "carol", dropped.msg_id)
        assert wrong_conv.value.code == ErrorCode.ERR_INVALID_PARAMETERS
        bob.messages.cancel_send(C2C, "alice", dropped.msg_id)
        with pytest.raises(SdkError) as cancelled:
            await sending
        assert cancelled.value.code == ErrorCode.ERR_SDK_COMM_INTERRUPT
        proxy.down = False
        async with asyncio.timeout(10):
            mine = await kept
        history = await alice.messages.history(C2C, "bob", count=10)
        assert [m.msg_id for m in history] == [mine.msg_id]
        with pytest.raises(SdkError) as late:
            bob.messages.cancel_send(C2C, "alice", mine.msg_id)
        assert late.value.code == ErrorCode.ERR_INVALID_PARAMETERS
    finally:
        await bob.close()


async def test_newer_pages_forward_from_an_anchor(login: Login) -> None:
    alice = await login("alice")
    await login("bob")
    sent = [await alice.messages.send_text(C2C, "bob", f"m{i}") for i in range(250)]
    newer = await alice.messages.newer(C2C, "bob", sent[9].seq, 200)
    assert [m.msg_id for m in newer] == [m.msg_id for m in sent[10:210]]
    assert await alice.messages.newer(C2C, "bob", sent[-1].seq, 5) == []
