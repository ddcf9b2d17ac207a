"""Who may connect and how fast: per-address limits before login, per-user limits after.

The client's address is the socket's peer, or, from a trusted load balancer, the address its
PROXY header names (gateway/proxy.py). Every count is this node's (docs/security.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.server import ServerConnection

from ..config import Limits
from .limits import BucketMap, TokenBucket
from .proxy import Network, ProxyHeaderError, is_trusted, parse_header

log = logging.getLogger(__name__)


class Admission:
    """The limits' state on one node."""

    def __init__(self, limits: Limits, trusted: list[Network]) -> None:
        self.limits = limits
        self.trusted = trusted
        self.anonymous: dict[str, int] = {}
        """Client address → its connections not logged in yet."""
        self.logins = BucketMap(limits.logins_per_ip_rate, limits.logins_per_ip_burst)
        self.users = BucketMap(limits.user_rate, limits.user_burst)
        self._turns: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    def arrive(self, ip: str) -> bool:
        """A connection from ``ip``; False (and not counted) when it has too many already."""
        count = self.anonymous.get(ip, 0)
        if count >= self.limits.anon_conns_per_ip:
            return False
        self.anonymous[ip] = count + 1
        return True

    def leave(self, ip: str) -> None:
        """A connection counted by ``arrive`` logged in or closed."""
        count = self.anonymous.get(ip, 0) - 1
        if count > 0:
            self.anonymous[ip] = count
        else:
            self.anonymous.pop(ip, None)

    def connection_bucket(self) -> TokenBucket:
        return TokenBucket(self.limits.conn_rate, self.limits.conn_burst)

    @contextlib.asynccontextmanager
    async def turn(self, user_id: str) -> AsyncIterator[None]:
        """Hold one of the user's ``user_requests_in_flight`` turns while a request is served;
        the user's other requests wait here, not in the store reader's queue."""
        entry = self._turns.get(user_id)
        if entry is None:
            entry = self._turns[user_id] = (
                asyncio.Semaphore(self.limits.user_requests_in_flight),
                [0],
            )
        sem, holders = entry
        holders[0] += 1
        try:
            async with sem:
                yield
        finally:
            holders[0] -= 1
            if not holders[0]:
                del self._turns[user_id]


class GatewaySocket(ServerConnection):
    """websockets' server connection, reading a PROXY header first from a trusted peer and
    counting the connection against its client address until it logs in."""

    admission: Admission
    """Set on the per-gateway subclass that ``socket_class`` makes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client_ip = ""
        self.counted = False
        """Whether this connection counts against ``client_ip``'s anonymous connections."""
        self.refused = ""
        """Why the handshake is to be answered 429, if it is."""
        self._proxy_buf: bytes | None = None
        self.accepted_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.accepted_at = self.loop.time()
        peer = transport.get_extra_info("peername")
        self.client_ip = str(peer[0]) if isinstance(peer, tuple) else ""
        if is_trusted(self.client_ip, self.admission.trusted):
            self._proxy_buf = b""
        else:
            self._admit()

    def _admit(self) -> None:
        if self.admission.arrive(self.client_ip):
            self.counted = True
        else:
            self.refused = "too many connections from this address"

    def data_received(self, data: bytes) -> None:
        if self._proxy_buf is not None:
            buf = self._proxy_buf + data
            try:
                found = parse_header(buf)
            except ProxyHeaderError as exc:
                log.info("refused a connection from %s: %s", self.client_ip, exc)
                self._proxy_buf = None
                self.transport.abort()
                return
            if found is None:
                self._proxy_buf = buf
                return
            self._proxy_buf = None
            address, used = found
            if address is not None:
                self.client_ip = address
            self._admit()
            data = buf[used:]
            if not data:
                return
        super().data_received(data)

    def release(self) -> None:
        """Stop counting against the address (at login: the user's own limits apply then)."""
        if self.counted:
            self.counted = False
            self.admission.leave(self.client_ip)

    def connection_lost(self, exc: Exception | None) -> None:
        self.release()
        super().connection_lost(exc)


def socket_class(admission: Admission) -> type[GatewaySocket]:
    """A ``GatewaySocket`` subclass bound to one gateway's ``admission``."""

    class Socket(GatewaySocket):
        pass

    Socket.admission = admission
    return Socket
