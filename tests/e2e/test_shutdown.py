"""A normal shutdown is quiet: logging out or closing right after login warns about nothing."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from opentim.protocol import ConvType
from opentim.sdk import Client, SdkError
from opentim.server.app import Server

from ..conftest import sig
from ..faults import Proxy
from ..helpers import until

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("how", ["logout", "close"])
async def test_logout_right_after_login_logs_no_warning(
    server: Server, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="opentim")
    for _ in range(5):
        client = Client(server.url)
        await client.login("alice", sig("alice"))
        # The conversation sync runs behind the login: end the session while it is out.
        await (client.logout() if how == "logout" else client.close())
        await client.close()
        await asyncio.sleep(0)
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == [], [r.getMessage() for r in loud]


async def test_closing_with_sends_waiting_keeps_them_for_the_next_run_quietly(
    server: Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="opentim")
    link = Proxy(server.port)
    await link.start()
    alice = Client(server.url)
    await alice.login("alice", sig("alice"))
    bob = Client(link.url, data_dir=tmp_path, reconnect_delay=(0.02, 0.2))
    try:
        await bob.login("bob", sig("bob"))
        await bob.wait_synced()
        link.go_down()
        await until(bob, lambda: not bob.connected)
        waiting = asyncio.ensure_future(bob.messages.send_text(ConvType.C2C, "alice", "later"))
        await asyncio.sleep(0)  # let the send queue itself in the outbox
        await bob.logout()  # the app logs out with the send still waiting
        with pytest.raises(SdkError):
            await waiting
        await bob.close()
        link.restore()
        got: list[str] = []
        alice.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
        bob = Client(link.url, data_dir=tmp_path)  # the next run of the app
        await bob.login("bob", sig("bob"))
        await until(alice, lambda: len(got) == 1)
        history = await alice.messages.history(ConvType.C2C, "bob", count=10)
        assert [m.msg_id for m in history] == got
    finally:
        await bob.close()
        await alice.close()
        await link.stop()
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == [], [r.getMessage() for r in loud]
