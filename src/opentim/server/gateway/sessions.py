"""Live connections on this node and the routing of bus envelopes to them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from opentim.protocol import ServerSession, SessionState

from ..bus.base import Envelope
from .limits import TokenBucket

log = logging.getLogger(__name__)


WRITE_BATCH_BYTES = 64 * 1024
"""Frames handed to the socket at once: the rest stays in the outbox, where it is counted."""
DROP_GRACE = 2.0
"""Seconds a dropped connection gets to read its close frame before the socket is aborted."""


class Connection:
    """One WebSocket: its protocol session, identity, and an ordered outbox.

    Responses and pushes share the outbox, so a client sees them in the order they were made.
    The outbox is bounded in bytes (``outbox_limit``): a device that falls that far behind is
    dropped and resyncs when it reconnects. The socket is written only as fast as the peer
    reads (websockets' flow control), so what waits is counted here. Keepalive pings are
    this class's too, so that the pong timeout runs from the ping whatever is queued.
    """

    def __init__(
        self,
        conn_id: str,
        ws: ServerConnection,
        *,
        allowed: Mapping[SessionState, frozenset[str]],
        bucket: TokenBucket,
        outbox_limit: int = 4 * 1024 * 1024,
        ping_interval: float | None = None,
        ping_timeout: float = 20.0,
        ip: str = "",
    ) -> None:
        self.conn_id = conn_id
        self.ws = ws
        self.ip = ip
        self.bucket = bucket
        """The connection's request rate limit."""
        self.session = ServerSession(allowed)
        self.device_id = ""
        self.platform = 0
        self.outbox_limit = outbox_limit
        self._outbox: list[bytes] = []
        self._queued = 0
        """Bytes in ``_outbox``."""
        self._wake = asyncio.Event()
        self._close_with: tuple[int, str] | None = None
        self.dropped = ""
        """Why the connection was dropped, once it was."""
        self.expiry: asyncio.TimerHandle | None = None
        self.login_timer: asyncio.TimerHandle | None = None
        self._abort: asyncio.TimerHandle | None = None
        self._writer = asyncio.create_task(self._write_loop(), name=f"opentim-out-{conn_id}")
        self._keepalive = (
            asyncio.create_task(
                self._keepalive_loop(ping_interval, ping_timeout), name=f"opentim-ping-{conn_id}"
            )
            if ping_interval
            else None
        )

    @property
    def user_id(self) -> str:
        return self.session.user_id

    def send(self, frame: bytes) -> None:
        """Queue a frame; never blocks. Past ``outbox_limit`` bytes the connection is dropped."""
        if self.dropped:
            return
        self._outbox.append(frame)
        self._queued += len(frame)
        if self._queued > self.outbox_limit:
            self.drop(
                1008,
                f"fell behind: over {self.outbox_limit} bytes waiting; reconnect to resync",
            )
            return
        self._wake.set()

    def _take_batch(self) -> list[bytes]:
        frames = self._outbox
        if self._queued <= WRITE_BATCH_BYTES:
            self._outbox, self._queued = [], 0
            return frames
        n = size = 0
        while size < WRITE_BATCH_BYTES:
            size += len(frames[n])
            n += 1
        self._outbox = frames[n:]
        self._queued -= size
        return frames[:n]

    async def _write_loop(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                if not self._outbox:
                    if self._close_with is not None:
                        await self.ws.close(*self._close_with)
                        return
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                await self._send_all(self._take_batch())

    async def _send_all(self, frames: list[bytes]) -> None:
        """Send queued frames with one socket write (DESIGN §5a: batched writes per connection).

        ``send_context`` is websockets' documented way to drive its protocol object directly;
        on leaving it waits while the socket's buffer is over its high-water mark.
        """
        ws = self.ws
        async with ws.send_context():
            for frame in frames:
                ws.protocol.send_text(frame)
            chunks = ws.protocol.data_to_send()
            ws.transport.write(b"".join(chunks))

    async def _keepalive_loop(self, interval: float, timeout: float) -> None:
        """websockets' keepalive waits for the socket to drain before its timeout starts, so a
        peer that stops reading is never timed out; here the timeout covers the wait too."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(interval)  # the keepalive period itself
                try:
                    async with asyncio.timeout(timeout):
                        pong = await self.ws.ping()
                        await pong
                except TimeoutError:
                    self.drop(1011, "keepalive ping timeout")
                    return

    def drop(self, code: int, reason: str) -> None:
        """Discard the outbox, send a close frame behind what the socket already holds, and
        abort the socket if the peer has not completed the close within ``DROP_GRACE``."""
        if self.dropped:
            return
        self.dropped = reason
        log.info("connection %s (%s) dropped: %s", self.conn_id, self.user_id or self.ip, reason)
        self._outbox, self._queued = [], 0
        self.session.close()
        self._writer.cancel()
        ws = self.ws
        if ws.protocol.state is State.OPEN:
            ws.protocol.send_close(code, reason)
            for data in ws.protocol.data_to_send():
                if data:
                    ws.transport.write(data)
        self._abort = asyncio.get_running_loop().call_later(DROP_GRACE, ws.transport.abort)

    def close_after_flush(self, code: int = 1000, reason: str = "") -> None:
        """Send what is queued, then close the socket."""
        self._close_with = (code, reason)
        self._wake.set()

    async def stop(self) -> None:
        for timer in (self.expiry, self.login_timer, self._abort):
            if timer is not None:
                timer.cancel()
        tasks = [t for t in (self._writer, self._keepalive) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class SessionRegistry:
    """user → live connections on this node. Group envelopes arrive here already resolved to
    this node's members (gateway/relay.py)."""

    def __init__(self, *, per_platform: bool = False) -> None:
        self.per_platform = per_platform
        self.by_user: dict[str, dict[str, Connection]] = {}
        self._displaced: set[tuple[str, str]] = set()
        """(user, device) replaced by another device of its platform: an automatic re-login
        from it is refused with 6208, so two devices do not take turns forever."""

    def may_resume(self, user_id: str, device_id: str) -> bool:
        """Whether an automatic re-login of this device is allowed."""
        return (user_id, device_id) not in self._displaced

    def _replaced(self, user_id: str, device_id: str, platform: int) -> list[Connection]:
        """The user's connections a login of (device, platform) replaces: the same device id
        always, and under the per-platform policy any other device of the same platform."""
        conns = self.by_user.get(user_id, {})
        return [
            c
            for c in conns.values()
            if (device_id and c.device_id == device_id)
            or (self.per_platform and c.platform == platform and c.device_id != device_id)
        ]

    def kept(self, user_id: str, device_id: str, platform: int) -> int:
        """How many of the user's connections would stay beside a new login of this device."""
        return len(self.by_user.get(user_id, ())) - len(
            self._replaced(user_id, device_id, platform)
        )

    def add(self, conn: Connection) -> list[Connection]:
        """Register a logged-in connection; return the older ones it replaces."""
        replaced = self._replaced(conn.user_id, conn.device_id, conn.platform)
        conns = self.by_user.setdefault(conn.user_id, {})
        self._displaced.discard((conn.user_id, conn.device_id))
        self._displaced.update(
            (c.user_id, c.device_id) for c in replaced if c.device_id != conn.device_id
        )
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
