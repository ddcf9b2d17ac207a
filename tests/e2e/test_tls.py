"""TLS: a node with a certificate serves ``wss://``; the SDK verifies the certificate."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from opentim.protocol import ConvType, ErrorCode
from opentim.sdk import Client, SdkError
from opentim.server.app import Server
from opentim.server.config import ConfigError
from opentim.tim import TIMSDK

from ..conftest import server_config, sig
from ..helpers import until

pytestmark = pytest.mark.e2e


@pytest.fixture
def ca(tmp_path: Path) -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_server(tmp_path: Path, ca: trustme.CA) -> AsyncIterator[Server]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "node.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "node.key"))
    server = Server(
        server_config(
            tmp_path / "data", tls_cert=tmp_path / "node.pem", tls_key=tmp_path / "node.key"
        )
    )
    await server.start()
    yield server
    await server.stop()


async def test_a_tls_node_serves_wss_to_a_client_trusting_its_ca(
    tls_server: Server, ca: trustme.CA, tmp_path: Path
) -> None:
    assert tls_server.url.startswith("wss://127.0.0.1:")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    alice = Client(tls_server.url, ca_file=tmp_path / "ca.pem")
    bob = Client(tls_server.url, ca_file=tmp_path / "ca.pem")
    try:
        await alice.login("alice", sig("alice"))
        await bob.login("bob", sig("bob"))
        got: list[str] = []
        bob.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
        sent = await alice.messages.send_text(ConvType.C2C, "bob", "over TLS")
        await until(bob, lambda: sent.msg_id in got)
    finally:
        await alice.close()
        await bob.close()


async def test_the_sdk_refuses_a_certificate_it_cannot_verify(tls_server: Server) -> None:
    client = Client(tls_server.url)  # the system's CAs do not know the test CA
    try:
        with pytest.raises(SdkError) as info:
            await client.login("alice", sig("alice"))
        assert info.value.code == ErrorCode.ERR_SDK_NET_AUTH_INVALID
        assert "certificate" in info.value.desc
    finally:
        await client.close()


async def test_a_plain_client_cannot_talk_to_a_tls_node(tls_server: Server) -> None:
    client = Client(tls_server.url.replace("wss://", "ws://"), request_timeout=2)
    try:
        with pytest.raises(SdkError):
            await client.login("alice", sig("alice"))
    finally:
        await client.close()


def test_a_certificate_without_its_key_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="both --tls-cert and --tls-key"):
        Server(server_config(tmp_path, tls_cert=tmp_path / "node.pem"))
    (tmp_path / "bad.pem").write_text("not a certificate")
    with pytest.raises(ConfigError, match="cannot load the TLS certificate"):
        Server(server_config(tmp_path, tls_cert=tmp_path / "bad.pem", tls_key=tmp_path / "bad.pem"))


async def test_tim_connects_over_tls_with_the_ca_file_it_is_given(
    tls_server: Server, ca: trustme.CA, tmp_path: Path
) -> None:
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    sdk = TIMSDK()
    config = {
        "sdk_config_server_url": tls_server.url,
        "sdk_config_server_ca_file": str(tmp_path / "ca.pem"),
        "sdk_config_config_file_path": str(tmp_path / "tim"),
    }
    assert sdk.TIMInit(1400000000, json.dumps(config)) == 0
    done = threading.Event()
    codes: list[int] = []

    def cb(code: int, desc: str, json_param: str, user_data: object) -> None:
        codes.append(code)
        done.set()

    try:
        assert sdk.TIMLogin("alice", sig("alice"), cb, None) == 0
        assert await asyncio.to_thread(done.wait, 10)
        assert codes == [0]
    finally:
        await asyncio.to_thread(sdk.TIMUninit)
