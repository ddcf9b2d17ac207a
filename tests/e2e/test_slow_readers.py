"""Devices that stop reading: their output is bounded and they are dropped (issue 9, finding 2);
the ones that keep reading, or come back, get every message exactly once."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from opentim.protocol import Message
from opentim.sdk import Client, NetworkStatus
from opentim.server.app import Server
from opentim.server.config import Limits

from ..conftest import server_config, sig
from ..helpers import until
from ..own_server import decode_reply, frame, own_server, raw_login, vmrss_kib

pytestmark = pytest.mark.e2e

TEXT = "x" * 10_000


def small_socket(url: str) -> socket.socket:
    """A connected socket with a small receive buffer: a peer that stops reading is felt soon."""
    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    return sock


async def non_reader(url: str, user_id: str, device_id: str) -> ClientConnection:
    """A device that logs in, then never reads (its library queue holds one frame)."""
    return await raw_login(url, user_id, device_id, sock=small_socket(url), max_queue=1)


async def flood(
    url: str,
    sender: str,
    to: str,
    count: int,
    window: int = 16,
    text: str = TEXT,
    paced_by: Received | None = None,
    tag: str = "f",
) -> None:
    """``count`` messages of ``text`` (10 KB) from ``sender`` to ``to``, ``window``
    unacknowledged at most; with ``paced_by``, at most 64 ahead of what that device has."""
    ws = await raw_login(url, sender)
    room = asyncio.Semaphore(window)
    acked = 0
    done = asyncio.Event()

    async def read() -> None:
        nonlocal acked
        async for data in ws:
            reply = decode_reply(data if isinstance(data, bytes) else data.encode())
            if reply.t == "res":
                assert reply.code == 0, reply
                acked += 1
                room.release()
                if acked == count:
                    done.set()

    reader = asyncio.create_task(read())
    for i in range(count):
        await room.acquire()
        if paced_by is not None:
            await paced_by.reach(i - 64)
        msg = {"msg_id": f"{tag}{i}", "elems": [{"elem_type": 0, "text_elem_content": text}]}
        await ws.send(frame(i + 10, "send", {"conv_type": 1, "conv_id": to, "msg": msg}))
    async with asyncio.timeout(120):
        await done.wait()
    reader.cancel()
    await ws.close()


async def closed_within(ws: ClientConnection, seconds: float) -> int | None:
    """Read whatever the server still sends; the close code once the connection ends (None
    when it does not end within ``seconds``)."""
    try:
        async with asyncio.timeout(seconds):
            async for _ in ws:
                pass
    except TimeoutError:
        return None
    except ConnectionClosed:
        pass
    return ws.close_code if ws.close_code is not None else 1006


class Received:
    """The seqs of the messages from ``peer`` that ``client`` was given, as they come."""

    def __init__(self, client: Client, peer: str) -> None:
        self.seqs: list[int] = []
        self.changed = asyncio.Event()

        def on_new(msgs: list[Message]) -> None:
            self.seqs.extend(m.seq for m in msgs if m.sender == peer)
            self.changed.set()

        client.events.new_messages.add(on_new)

    async def reach(self, count: int, timeout: float = 60) -> None:
        async with asyncio.timeout(timeout):
            while len(self.seqs) < count:
                self.changed.clear()
                await self.changed.wait()


async def test_devices_that_stop_reading_are_dropped_and_memory_stays_bounded(
    tmp_path: Path,
) -> None:
    count = 6000  # 60 MB of messages to every device of "v"
    async with own_server(tmp_path / "data") as (proc, url):
        stalled = [await non_reader(url, "v", f"stalled{i}") for i in range(4)]
        normal = Client(url, device_id="normal")
        await normal.login("v", sig("v"))
        await normal.wait_synced(10)
        received = Received(normal, "s")
        # The device learns the conversation from a first message (its catch-up of a new
        # conversation would otherwise fetch up to 100 of the 10 KB messages in one answer).
        await flood(url, "s", "v", 1, text="hi", tag="first")
        await received.reach(1)
        before = vmrss_kib(proc.pid)
        # Paced by the reading device, which stays well within its outbox.
        await flood(url, "s", "v", count, paced_by=received)
        grown_mib = (vmrss_kib(proc.pid) - before) / 1024
        # Every stalled device was dropped (outbox full, or keepalive on a slow machine): what
        # it still reads ends with the close.
        for ws in stalled:
            assert await closed_within(ws, 10) in (1008, 1011, 1006)
        # The device that kept reading has every message once, in order.
        await received.reach(count + 1)
        assert received.seqs == list(range(1, count + 2))
        await normal.close()
    # Unbounded outboxes held the whole 60 MB; bounded ones hold 4 MiB at most.
    assert grown_mib < 30, f"server grew {grown_mib:.0f} MiB"


class Drops(logging.Handler):
    """The server's "dropped" log lines, as they come (an in-process server)."""

    def __init__(self) -> None:
        super().__init__()
        self.reasons: list[str] = []
        self.changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "dropped" in record.getMessage():
            self.reasons.append(record.getMessage())
            self.changed.set()

    async def wait(self, count: int = 1, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while len(self.reasons) < count:
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
def drops() -> Iterator[Drops]:
    handler = Drops()
    logger = logging.getLogger("opentim.server.gateway.sessions")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_keepalive_times_out_behind_a_full_buffer(tmp_path: Path, drops: Drops) -> None:
    """The pong timeout runs from the ping even when output waits: a device that stops
    reading is dropped although its outbox stays under the byte limit."""
    limits = Limits(outbox_bytes=64 * 1024 * 1024, ping_interval=0.3, ping_timeout=0.3)
    server = Server(server_config(tmp_path / "data", limits=limits))
    await server.start()
    try:
        stalled = await non_reader(server.url, "v", "stalled")
        await flood(server.url, "s", "v", 200)  # 2 MB: far past the socket's buffers
        await drops.wait()
        assert "keepalive ping timeout" in drops.reasons[0]
        assert await closed_within(stalled, 10) in (1011, 1006)
    finally:
        await server.stop()


async def test_sdk_dropped_for_falling_behind_resyncs_everything(tmp_path: Path) -> None:
    """An SDK device that falls behind is dropped, reconnects, and gets every message once."""
    limits = Limits(outbox_bytes=512 * 1024)
    server = Server(server_config(tmp_path / "data", limits=limits))
    await server.start()
    client = Client(server.url, device_id="phone", reconnect_delay=(0.05, 0.2))
    try:
        await client.login("v", sig("v"))
        await client.wait_synced(10)
        received = Received(client, "s")
        statuses: list[NetworkStatus] = []
        client.events.network.add(lambda status, *_: statuses.append(status))
        # The device stops reading (its socket is not read: as a frozen app would).
        conn = client._conn
        assert conn is not None
        transport = conn._ws.transport  # type: ignore[union-attr]
        transport.pause_reading()
        # 12 MB, past what the kernel's socket buffers hold, in 2 KB messages (a catch-up
        # page of 100 stays under the SDK's frame limit).
        await flood(server.url, "s", "v", 6000, text="y" * 2000)
        transport.resume_reading()
        await until(client, lambda: NetworkStatus.DISCONNECTED in statuses, timeout=10)
        await received.reach(6000)
        assert sorted(received.seqs) == list(range(1, 6001))
    finally:
        await client.close()
        await server.stop()
