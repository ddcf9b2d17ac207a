"""The helpers the getting-started page teaches, against a real server: ``opentim.usersig`` and
``client.messages.new_text``."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

import opentim
from opentim.protocol import ErrorCode
from opentim.sdk import Client, ConvType, Message, SdkError
from opentim.server.app import Server

from ..conftest import SECRET_KEY, Login

pytestmark = pytest.mark.e2e


async def test_a_sig_minted_by_opentim_usersig_logs_in(server: Server) -> None:
    client = Client(server.url)
    try:
        profile = await client.login("alice", opentim.usersig("alice", secret_key=SECRET_KEY))
        assert profile.user_id == "alice"
    finally:
        await client.close()


async def test_opentim_usersig_honours_its_arguments(server: Server) -> None:
    expired = opentim.usersig("alice", secret_key=SECRET_KEY, expire=10, now=1_000_000)
    other_app = opentim.usersig("alice", secret_key=SECRET_KEY, sdkappid=1400000001)
    for sig, code in [
        (expired, ErrorCode.ERR_SVR_ACCOUNT_USERSIG_EXPIRED),
        (other_app, ErrorCode.ERR_SVR_ACCOUNT_USERSIG_MISMATCH_SDKAPPID),
    ]:
        client = Client(server.url)
        try:
            with pytest.raises(SdkError) as info:
                await client.login("alice", sig)
            assert info.value.code == code
        finally:
            await client.close()


async def test_new_text_builds_a_message_whose_text_arrives(login: Login) -> None:
    alice, bob = await login("alice"), await login("bob")
    got: asyncio.Queue[Message] = asyncio.Queue()
    bob.events.new_messages.add(lambda msgs: [got.put_nowait(m) for m in msgs])
    out = alice.messages.new_text("hi bob", cloud_custom_data="x")
    assert out.elems == [{"elem_type": 0, "text_elem_content": "hi bob"}]
    sent = await alice.messages.send(ConvType.C2C, "bob", out)
    async with asyncio.timeout(10):
        received = await got.get()
    assert (sent.text, received.text, received.msg_id) == ("hi bob", "hi bob", out.msg_id)
    assert received.cloud_custom_data == "x"


def test_import_opentim_loads_nothing_until_a_sig_is_minted() -> None:
    code = (
        "import sys, opentim\n"
        "assert not [m for m in sys.modules if m.startswith('opentim.')], sys.modules\n"
        "opentim.usersig('alice', secret_key='k')\n"
        "assert 'opentim.server' not in sys.modules and 'opentim.sdk' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
