"""A normal shutdown is quiet: logging out or closing right after login warns about nothing."""

from __future__ import annotations

import asyncio
import logging

import pytest

from opentim.sdk import Client
from opentim.server.app import Server

from ..conftest import sig

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
