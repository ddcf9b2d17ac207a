"""Transport: the asyncio half of the session core (core/session.py).

It owns the socket of the moment and the futures of the requests out on it, feeds every frame
and every end of a connection to the core, and carries out the actions the core returns by one
table (``on``: action type → handler; the client, the sync driver and the managers register the
ones they carry out). The managers send their requests through it.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import msgspec
from websockets.exceptions import ConnectionClosed

from opentim.protocol import ErrorCode

from .connection import Connection
from .core import Action, Answer, ClientSession, LinkEvent, LoginStatus
from .exceptions import ConnectionLostError, SdkError

log = logging.getLogger(__name__)

T = TypeVar("T", bound=msgspec.Struct)
A = TypeVar("A")

READS = frozenset(
    {"conv_sync", "conv_get", "catch_up", "history", "profile_get", "group_joined", "ping"}
    | {
        "friend_list",
        "friend_info",
        "friend_check",
        "friend_search",
        "friend_apps",
        "black_list",
        "fgroup_list",
        "follow_list",
        "follow_counts",
        "follow_check",
        "oa_info",
    }
    | {"group_info", "group_members", "group_pendencies"}
)
"""Ops that change nothing, so asking again after a lost connection is always safe."""
READ_ATTEMPTS = 3


class Transport:
    """Sockets, futures and the action table of one session."""

    def __init__(self, session: ClientSession, request_timeout: float = 15.0) -> None:
        self.session = session
        self.request_timeout = request_timeout
        self.conn: Connection | None = None
        """The connection requests go out on (None while there is none)."""
        self._links: dict[Connection, int] = {}
        self._futures: dict[int, asyncio.Future[Answer]] = {}
        self._handlers: dict[type, Callable[[Any], None]] = {Answer: self._resolve}
        self._connected = asyncio.Event()
        self._status_changed = asyncio.Event()
        self._status = session.link.login_status
        self._mirrored: tuple[object, Connection | None] = (session.link.state, None)

    # --- actions ----------------------------------------------------------------------------
    def on(self, kind: type[A], handler: Callable[[A], None]) -> None:
        """Carry out actions of type ``kind`` with ``handler``."""
        self._handlers[kind] = handler

    def perform(self, actions: Iterable[Action]) -> None:
        """Carry out what the core said, in order."""
        handlers = self._handlers
        for action in actions:
            handlers[type(action)](action)
        if self.session.link.state is not self._mirrored[0] or self.conn is not self._mirrored[1]:
            self.changed()

    def handle(self, event: LinkEvent, code: int = 0, desc: str = "") -> None:
        """Tell the core's connection life what happened, and carry out what follows."""
        self.perform(self.session.link.handle(event, code, desc))

    def changed(self) -> None:
        """Mirror the core's state in the events waiters wait on (when it changed)."""
        link = self.session.link
        if link.state is self._mirrored[0] and self.conn is self._mirrored[1]:
            return
        self._mirrored = (link.state, self.conn)
        if link.online and self.conn is not None:
            self._connected.set()
        else:
            self._connected.clear()
        status = self.session.link.login_status
        if status != self._status:
            self._status = status
            self._status_changed.set()
            self._status_changed = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # --- connections ------------------------------------------------------------------------
    async def open(self, url: str, tls: ssl.SSLContext | None) -> Connection:
        """A new connection (not yet the one requests go out on: see ``adopt``)."""
        link = self.session.connecting()
        conn = Connection(
            lambda data: self.perform(self.session.receive(data, link)),
            lambda: self.lost(conn),
        )
        self._links[conn] = link
        try:
            await conn.open(url, tls=tls)
        except SdkError:
            del self._links[conn]
            raise
        return conn

    def adopt(self, conn: Connection) -> None:
        """Requests go out on ``conn`` from now on."""
        self.conn = conn

    def lost(self, conn: Connection) -> None:
        """``conn`` ended (or a request found it gone): fail what was out on it; if it was the
        connection of the moment, the core's connection life goes on from there."""
        if not self._fail(conn):
            return
        if conn is self.conn:
            self.conn = None
            self.handle(LinkEvent.LOST)

    def drop(self) -> Connection | None:
        """Forget the connection of the moment, failing what was out on it (the caller
        closes it)."""
        conn, self.conn = self.conn, None
        if conn is not None:
            self._fail(conn)
        self.changed()
        return conn

    def _fail(self, conn: Connection) -> bool:
        link = self._links.pop(conn, None)
        if link is None:
            return False
        for req_id in self.session.requests.lost(link):
            fut = self._futures.pop(req_id, None)
            if fut is not None and not fut.done():
                fut.set_exception(ConnectionLostError())
        return True

    # --- requests ---------------------------------------------------------------------------
    async def request(self, op: str, body: msgspec.Struct, result: type[T]) -> T:
        """Send one request as the logged-in user; while reconnecting, wait for the connection
        up to the request timeout. A read cut off by a lost connection is asked again once the
        connection is back."""
        for attempt in range(READ_ATTEMPTS if op in READS else 1):
            await self.wait_connected(self.request_timeout)
            conn = self.conn
            if conn is None:
                continue
            try:
                return await self.request_on(conn, op, body, result)
            except ConnectionLostError:
                # The socket is gone even if its reader has not seen it yet: forget it now, so
                # that a caller sending again waits for the next connection instead of failing
                # on this one in a loop (which would starve the reader that notices).
                self.lost(conn)
                if attempt == READ_ATTEMPTS - 1 or op not in READS:
                    raise
        raise ConnectionLostError()

    async def request_on(
        self, conn: Connection, op: str, body: msgspec.Struct, result: type[T]
    ) -> T:
        """Send a request on ``conn`` and return its decoded answer, or raise SdkError."""
        link = self._links.get(conn)
        if link is None:
            raise ConnectionLostError()
        req_id, frame = self.session.requests.open(op, body, result, link)
        fut: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._futures[req_id] = fut
        try:
            await conn.send(frame)
            async with asyncio.timeout(self.request_timeout):
                answer = await fut
        except TimeoutError as exc:
            raise SdkError(ErrorCode.ERR_SDK_NET_WAIT_ACK_TIMEOUT, f"no answer to {op}") from exc
        except ConnectionClosed as exc:
            raise ConnectionLostError() from exc
        finally:
            if not fut.done():  # given up on (an answer or the connection's end took it off)
                self.session.requests.forget(req_id)
                self._futures.pop(req_id, None)
            elif not fut.cancelled():
                # The connection may have ended (failing this future) while the send was still
                # failing: this request raises already, so its future's error is seen.
                fut.exception()
        if answer.error is not None:
            raise answer.error
        return cast(T, answer.body)

    def _resolve(self, answer: Answer) -> None:
        fut = self._futures.pop(answer.id, None)
        if fut is not None and not fut.done():
            fut.set_result(answer)

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until connected (raises 6014 when not logged in, 9508 on timeout)."""
        if self._connected.is_set():  # connected: logged in
            return
        if self.session.link.login_status != LoginStatus.LOGGED_IN:
            raise SdkError(ErrorCode.ERR_SDK_NOT_LOGGED_IN, "not logged in")
        connected = asyncio.ensure_future(self._connected.wait())
        lost = asyncio.ensure_future(self._logged_out())
        try:
            async with asyncio.timeout(timeout):
                await asyncio.wait([connected, lost], return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError as exc:
            raise ConnectionLostError("not connected to the server") from exc
        finally:
            connected.cancel()
            lost.cancel()
        if self.session.link.login_status != LoginStatus.LOGGED_IN:
            raise SdkError(ErrorCode.ERR_SDK_NOT_LOGGED_IN, "not logged in")

    async def _logged_out(self) -> None:
        while self.session.link.login_status == LoginStatus.LOGGED_IN:
            await self._status_changed.wait()
