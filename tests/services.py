"""Real services for tests: a private PostgreSQL schema, a private bus prefix, a TCP proxy that can
cut a connection on demand (asyncpg's ``trigger_connectivity_loss`` habit, STYLE §2.5).

Every test that uses PostgreSQL gets its own schema in the ``test`` database (dropped after it);
every test that uses a bus gets its own key/subject prefix, so tests never see each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator

import asyncpg

POSTGRES_URL = os.environ.get("OPENTIM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("OPENTIM_TEST_REDIS", "redis://127.0.0.1:6379/0")
NATS_URL = os.environ.get("OPENTIM_TEST_NATS", "nats://127.0.0.1:4222")
BUS_URLS = {"redis": REDIS_URL, "nats": NATS_URL}


def with_search_path(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"


@contextlib.asynccontextmanager
async def temp_schema(base_url: str = POSTGRES_URL) -> AsyncIterator[str]:
    """A fresh schema; yields a store URL whose connections use it. Dropped afterwards."""
    schema = f"opentim_t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(base_url)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
    finally:
        await admin.close()
    try:
        yield with_search_path(base_url, schema)
    finally:
        admin = await asyncpg.connect(base_url)
        try:
            await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await admin.close()


def bus_prefix() -> str:
    """A key/subject prefix no other test uses."""
    return f"opentim-t-{secrets.token_hex(6)}"


class TcpProxy:
    """A loopback TCP proxy to ``target``. ``cut()`` drops every connection and refuses new ones
    (the service "goes away"); ``restore()`` accepts again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open = True
        self._pipes: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._open:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._pipes.update((writer, up_writer))
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.ensure_future(self._pump(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        dst.transport.abort()
        self._pipes.discard(dst)

    def cut(self) -> None:
        self._open = False
        for writer in list(self._pipes):
            writer.transport.abort()
        self._pipes.clear()

    def restore(self) -> None:
        self._open = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
