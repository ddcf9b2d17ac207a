"""Fault injection: a TCP proxy on 127.0.0.1 in front of a server or a service (PostgreSQL,
Redis, NATS, an opentim node).

It forwards bytes both ways and, on command, cuts every connection (optionally in the middle of
a frame), refuses new ones while "down", delays what the server sends, or sends new connections
elsewhere (a balancer). The sleeps in here *are* the injected delay, not waits for a race.
"""

from __future__ import annotations

import asyncio
import contextlib


class Proxy:
    """Forward 127.0.0.1:<port> to ``(host, target_port)``."""

    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self.port = 0
        self.down = False
        self.delay = 0.0
        """Seconds added before forwarding each chunk from the server."""
        self.cut_mid_frame = False
        """Cut the next chunk from the server in half, then every connection."""
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.cuts = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def go_down(self) -> None:
        """The target goes away: every connection is cut and new ones are refused."""
        self.down = True
        self.cut()

    def restore(self) -> None:
        """The target is back: new connections go through again."""
        self.down = False

    def retarget(self, host: str, port: int) -> None:
        """Send new connections to ``(host, port)`` (a balancer moving to another node);
        connections already made stay where they are."""
        self.target = (host, port)

    def cut(self) -> None:
        """Abort every connection now, both sides."""
        for client, upstream in list(self._links):
            client.transport.abort()
            upstream.transport.abort()
        self._links.clear()
        self.cuts += 1

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        except BaseException:  # the proxy stopping meanwhile: close our side too
            writer.transport.abort()
            raise
        link = (writer, up_writer)
        self._links.add(link)
        for task in (
            asyncio.ensure_future(self._pump(reader, up_writer, from_server=False)),
            asyncio.ensure_future(self._pump(up_reader, writer, from_server=True)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, from_server: bool
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
            while chunk := await reader.read(65536):
                if from_server and self.delay:
                    await asyncio.sleep(self.delay)
                if from_server and self.cut_mid_frame and len(chunk) > 1:
                    self.cut_mid_frame = False
                    writer.write(chunk[: len(chunk) // 2])
                    await writer.drain()
                    self.cut()
                    return
                writer.write(chunk)
                await writer.drain()
        writer.transport.abort()
