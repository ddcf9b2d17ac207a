"""Connections that do not log in (issue 9, findings 3 and 4): login timeout, pre-login frame
cap, per-address limits, the PROXY protocol from trusted balancers, the open-file limit."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import resource
import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from opentim.protocol import ErrorCode
from opentim.sdk import Client, LoginStatus, NetworkStatus
from opentim.server.app import Server
from opentim.server.config import Limits

from ..conftest import server_config, sig
from ..helpers import until
from ..own_server import decode_reply, login_frame, own_server, raw_login

pytestmark = pytest.mark.e2e

FREQ_LIMIT = int(ErrorCode.ERR_SDK_NET_FREQ_LIMIT)


@contextlib.asynccontextmanager
async def running(tmp_path: Path, **config: Any) -> AsyncIterator[Server]:
    server = Server(server_config(tmp_path / "data", **config))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def closed(ws: ClientConnection, timeout: float = 10) -> tuple[int | None, str]:
    """Wait for the server to close ``ws``; its close code and reason."""
    async with asyncio.timeout(timeout):
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:
                pass
    return ws.close_code, ws.close_reason or ""


async def test_a_connection_that_does_not_log_in_is_closed(tmp_path: Path) -> None:
    async with running(tmp_path, limits=Limits(login_timeout=0.5)) as server:
        idle = await connect(server.url)
        code, reason = await closed(idle)
        assert code == 1008
        assert "no login within 0.5 s" in reason
        # One that logs in in time stays.
        ws = await raw_login(server.url, "alice")
        await ws.send(b'{"t":"req","id":2,"op":"ping","body":{}}', text=True)
        assert decode_reply(await ws.recv(decode=False)).code == 0
        await ws.close()


def _ws_handshake(host: str, port: int) -> bytes:
    key = base64.b64encode(os.urandom(16))
    return (
        b"GET /ws HTTP/1.1\r\nHost: %b:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: %b\r\nSec-WebSocket-Version: 13\r\n\r\n" % (host.encode(), port, key)
    )


async def test_a_big_frame_before_login_is_refused_unread(tmp_path: Path) -> None:
    """A 64 KiB frame before login is refused from its header: the server closes with 1009
    before the payload is even sent. After login the same frame is read."""
    async with running(tmp_path) as server:
        parts = urlsplit(server.url)
        assert parts.hostname is not None
        assert parts.port is not None
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(_ws_handshake(parts.hostname, parts.port))
        async with asyncio.timeout(10):
            head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101")
        # A masked text frame header announcing 65,536 bytes, and no payload.
        writer.write(b"\x81\xff" + struct.pack("!Q", 65536) + b"\0\0\0\0")
        async with asyncio.timeout(10):
            close = await reader.readexactly(4)
        assert close[0] == 0x88
        assert struct.unpack("!H", close[2:4])[0] == 1009
        writer.close()

        ws = await raw_login(server.url, "alice")
        big = b'{"t":"req","id":2,"op":"ping","body":{},"pad":"' + b"x" * 65536 + b'"}'
        await ws.send(big, text=True)
        assert decode_reply(await ws.recv(decode=False)).t == "res"  # answered, not closed
        await ws.close()


async def test_connections_per_address_before_login(tmp_path: Path) -> None:
    async with running(tmp_path, limits=Limits(anon_conns_per_ip=3)) as server:
        waiting = [await connect(server.url) for _ in range(3)]
        with pytest.raises(InvalidStatus) as refused:
            await connect(server.url)
        assert refused.value.response.status_code == 429
        assert str(FREQ_LIMIT).encode() in refused.value.response.body
        # A login frees its slot; a closed connection frees its slot.
        await waiting[0].send(login_frame("alice"), text=True)
        assert decode_reply(await waiting[0].recv(decode=False)).code == 0
        await waiting[1].close()
        more = [await connect(server.url) for _ in range(2)]
        with pytest.raises(InvalidStatus):
            await connect(server.url)
        for ws in waiting + more:
            await ws.close()


async def test_login_attempts_per_address(tmp_path: Path) -> None:
    limits = Limits(logins_per_ip_rate=0.01, logins_per_ip_burst=3)
    async with running(tmp_path, limits=limits) as server:
        for user in ("a", "b", "c"):
            await (await raw_login(server.url, user)).close()
        ws = await connect(server.url)
        await ws.send(login_frame("d"), text=True)
        reply = decode_reply(await ws.recv(decode=False))
        assert reply.code == FREQ_LIMIT
        assert "login attempts" in reply.desc
        await ws.close()


def _sock_from(url: str, source: str, header: bytes = b"") -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), source_address=(source, 0))
    sock.sendall(header)
    return sock


def proxy_v1(client: str) -> bytes:
    return f"PROXY TCP4 {client} 127.0.0.1 40000 9000\r\n".encode()


def proxy_v2(client: str) -> bytes:
    addrs = socket.inet_aton(client) + socket.inet_aton("127.0.0.1") + struct.pack("!HH", 1, 2)
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", 12) + addrs


async def test_proxy_protocol_from_trusted_balancers_only(tmp_path: Path) -> None:
    """Behind a trusted balancer (127.0.0.1 here) the PROXY header's address is the one the
    per-address limit counts; from anyone else (127.0.0.2) a PROXY header is refused."""
    async with running(
        tmp_path, limits=Limits(anon_conns_per_ip=1), trusted_proxies=["127.0.0.1/32"]
    ) as server:
        url = server.url
        a = await connect(url, sock=_sock_from(url, "127.0.0.1", proxy_v1("203.0.113.7")))
        # The same client again through the balancer: over its limit of 1.
        with pytest.raises(InvalidStatus) as refused:
            await connect(url, sock=_sock_from(url, "127.0.0.1", proxy_v2("203.0.113.7")))
        assert refused.value.response.status_code == 429
        # Other clients through the same balancer (v1 and v2 headers) are not.
        b = await connect(url, sock=_sock_from(url, "127.0.0.1", proxy_v2("203.0.113.8")))
        c = await connect(url, sock=_sock_from(url, "127.0.0.1", proxy_v1("198.51.100.1")))
        # An untrusted peer cannot name an address: its PROXY header is not accepted.
        with pytest.raises((InvalidStatus, InvalidMessage, ConnectionError)):
            await connect(url, sock=_sock_from(url, "127.0.0.2", proxy_v1("203.0.113.9")))
        # It counts as itself.
        d = await connect(url, sock=_sock_from(url, "127.0.0.2"))
        with pytest.raises(InvalidStatus):
            await connect(url, sock=_sock_from(url, "127.0.0.2"))
        for ws in (a, b, c, d):
            await ws.close()


async def test_server_raises_its_open_file_limit(tmp_path: Path) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard <= 1024:
        pytest.skip(f"the hard open-file limit is {hard}: nothing to raise to")
    async with own_server(tmp_path / "data", nofile_soft=1024) as (proc, _url):
        with open(f"/proc/{proc.pid}/limits") as f:  # noqa: ASYNC230 (procfs: never blocks)
            limits = f.read()
    line = next(x for x in limits.splitlines() if x.startswith("Max open files"))
    soft = line.split()[3]
    assert soft == ("unlimited" if hard == resource.RLIM_INFINITY else str(hard)), line


async def test_a_device_refused_by_a_rate_limit_keeps_reconnecting(tmp_path: Path) -> None:
    """A reconnect answered 9506 (here: the address's login attempts) is retried, not taken
    as the end of the session."""
    limits = Limits(logins_per_ip_rate=1, logins_per_ip_burst=1)
    async with running(tmp_path, limits=limits) as server:
        client = Client(server.url, device_id="phone", reconnect_delay=(0.05, 0.1))
        try:
            await client.login("alice", sig("alice"))
            statuses: list[NetworkStatus] = []
            client.events.network.add(lambda status, *_: statuses.append(status))
            assert server._gateway is not None
            (conn,) = server._gateway.registry.by_user["alice"].values()
            conn.drop(1008, "test: dropped")
            # The attempts in the first second find the bucket empty (9506); a later one gets in.
            await until(client, lambda: statuses[-1:] == [NetworkStatus.CONNECTED], timeout=10)
            assert client.login_status == LoginStatus.LOGGED_IN
        finally:
            await client.close()
