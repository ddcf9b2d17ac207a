"""Live connections on this node and the routing of bus envelopes to them."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from opentim.protocol import ServerSession

from ..bus.base import Envelope

log = logging.getLogger(__name__)


class Connection:
    """One WebSocket: its protocol session, identity, and an ordered outbox.

    Responses and pushes share the outbox, so a client sees them in the order they were made.
    """

    def __init__(self, conn_id: str, ws: ServerConnection) -> None:
        self.conn_id = conn_id
        self.ws = ws
        self.session = ServerSession()
        self.device_id = ""
        self.platform = 0
        self._outbox: list[bytes] = []
        self._wake = asyncio.Event()
        self._close_with: tuple[int, str] | None = None
        self._writer = asyncio.create_task(self._write_loop(), name=f"opentim-out-{conn_id}")

    @property
    def user_id(self) -> str:
        return self.session.user_id

    def send(self, frame: bytes) -> None:
        """Queue a frame; never blocks."""
        self._outbox.append(frame)
        self._wake.set()

    async def _write_loop(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self._wake.wait()
                self._wake.clear()
                frames, self._outbox = self._outbox, []
                await self._send_all(frames)
                if self._close_with is not None and not self._outbox:
                    await self.ws.close(*self._close_with)
                    return

    async def _send_all(self, frames: list[bytes]) -> None:
        """Send queued frames with one socket write (DESIGN §5a: batched writes per connection).

        ``send_context`` is websockets' documented way to drive its protocol object directly.
        """
        ws = self.ws
        async with ws.send_context():
            for frame in frames:
                ws.protocol.send_text(frame)
            chunks = ws.protocol.data_to_send()
            ws.transport.write(b"".join(chunks))

    def close_after_flush(self, code: int = 1000, reason: str = "") -> None:
        """Send what is queued, then close the socket."""
        self._close_with = (code, reason)
        self._wake.set()

    async def stop(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


class SessionRegistry:
    """user → live connections on this node. Group envelopes arrive here already resolved to
    this node's members (gateway/relay.py)."""

    def __init__(self) -> None:
        self.by_user: dict[str, dict[str, Connection]] = {}

    def add(self, conn: Connection) -> list[Connection]:
        """Register a logged-in connection; return older ones it replaces (same device id)."""
        conns = self.by_user.setdefault(conn.user_id, {})
        replaced = [c for c in conns.values() if conn.device_id and c.device_id == conn.device_id]
        for old in replaced:
            del conns[old.conn_id]
        conns[conn.conn_id] = conn
        return replaced

    def remove(self, conn: Connection) -> None:
        conns = self.by_user.get(conn.user_id)
        if conns is not None and conns.get(conn.conn_id) is conn:
            del conns[conn.conn_id]
            if not conns:
                del self.by_user[conn.user_id]

    def _send_to(self, user_id: str, frame: bytes, skip: str) -> None:
        conns = self.by_user.get(user_id)
        if conns:
            for conn in conns.values():
                if conn.conn_id != skip:
                    conn.send(frame)

    def deliver(self, env: Envelope) -> None:
        """Push ``env.frame`` to every local connection of ``env.users`` and ``env.extra_users``
        but ``env.skip_conn``."""
        for user_id in env.users:
            self._send_to(user_id, env.frame, env.skip_conn)
        for user_id in env.extra_users:
            self._send_to(user_id, env.frame, env.skip_conn)
