"""The WebSocket endpoint at /ws: one task per connection reads frames and answers them.

Requests of one connection are handled in order. A ``send`` is checked and queued for the store
in order too, but its acknowledgement is awaited apart, so a client may pipeline many messages
into one group commit (DESIGN §5a).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import ssl
from collections.abc import Awaitable
from http import HTTPStatus

import msgspec
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest, Response as HttpResponse

from opentim.protocol import ErrorCode, Message, error_response, push_frame, response
from opentim.protocol.frames import Response
from opentim.protocol.limits import MAX_WIRE_FRAME_BYTES
from opentim.protocol.ops import (
    Empty,
    KickedPush,
    LoginReq,
    LoginRes,
    SendReq,
    SendRes,
    SigExpiredPush,
)

from .dispatch import Handler, Services, error_frame, ok_frame
from .refusals import REFUSALS
from .sessions import Connection, SessionRegistry

log = logging.getLogger(__name__)

WS_PATH = "/ws"


class Gateway:
    """Accepts SDK connections and drives their sessions."""

    def __init__(
        self,
        services: Services,
        handlers: dict[str, Handler],
        registry: SessionRegistry,
        node_id: str = "n",
    ) -> None:
        self.services = services
        self.node_id = node_id
        self.handlers = handlers
        self.registry = registry
        self._ids = itertools.count(1)
        self._server: Server | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def start(
        self,
        host: str,
        port: int,
        sock: socket.socket | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> int:
        """Listen (on ``sock`` if given, already bound; over TLS when ``tls`` is given); return
        the bound port (for port 0)."""
        self._server = await serve(
            self._handle,
            None if sock else host,
            None if sock else port,
            sock=sock,
            process_request=self._check_path,
            max_size=MAX_WIRE_FRAME_BYTES,
            compression=None,
            ping_interval=20,
            ping_timeout=20,
            ssl=tls,
        )
        sock = next(iter(self._server.sockets))
        return int(sock.getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _check_path(self, ws: ServerConnection, request: HttpRequest) -> HttpResponse | None:
        if request.path.split("?", 1)[0] != WS_PATH:
            return ws.respond(HTTPStatus.NOT_FOUND, "opentim speaks WebSocket at /ws\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        conn = Connection(f"{self.node_id}-{next(self._ids)}", ws)
        try:
            async for data in ws:
                await self._on_frame(conn, data)
        except ConnectionClosed:
            pass
        finally:
            conn.session.close()
            self.registry.remove(conn)
            await conn.stop()

    async def _on_frame(self, conn: Connection, data: str | bytes) -> None:
        decoded = conn.session.receive_data(data)
        if isinstance(decoded, bytes):
            refused = msgspec.json.decode(decoded, type=Response)
            REFUSALS.refused(refused.code, refused.desc, "a frame", conn.user_id or conn.conn_id)
            conn.send(decoded)
            return
        req, body = decoded
        op = req.op
        if op == "send":
            assert isinstance(body, SendReq)
            try:
                done = await self.services.messages.submit(
                    conn.user_id, body.conv_type, body.conv_id, body.msg, conn.conn_id
                )
            except Exception as exc:
                conn.send(error_frame(req.id, exc, op, conn.user_id))
                return
            task = asyncio.ensure_future(self._ack(conn, req.id, done))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        elif op == "login":
            assert isinstance(body, LoginReq)
            await self._login(conn, req.id, body)
        elif op == "ping":
            conn.send(response(req.id, Empty()))
        elif op == "logout":
            log.info("logout %s on %s", conn.user_id, conn.conn_id)
            conn.send(response(req.id, Empty()))
            self._end(conn, "logged out")
        else:
            conn.send(await ok_frame(req.id, self.handlers[op](conn, body), op, conn.user_id))

    async def _ack(self, conn: Connection, req_id: int, done: Awaitable[Message]) -> None:
        try:
            msg = await done
        except Exception as exc:
            conn.send(error_frame(req_id, exc, "send", conn.user_id))
            return
        conn.send(response(req_id, SendRes(msg=msg)))

    async def _login(self, conn: Connection, req_id: int, body: LoginReq) -> None:
        users = self.services.users
        try:
            profile, expires = await users.login(body.user_id, body.user_sig, body.sdkappid)
        except Exception as exc:
            conn.send(error_frame(req_id, exc, "login", f"{body.user_id!r} on {conn.conn_id}"))
            return
        if body.resume and not self.registry.may_resume(body.user_id, body.device_id):
            code = ErrorCode.ERR_LOGIN_KICKED_OFF_BY_OTHER
            desc = "another device of this platform logged in; log in again to take over"
            REFUSALS.refused(code, desc, "resume", body.user_id)
            conn.send(error_response(req_id, code, desc))
            return
        conn.session.logged_in(body.user_id)
        conn.device_id = body.device_id
        conn.platform = body.platform
        log.info(
            "login %s (device %s, platform %d) on %s",
            body.user_id,
            body.device_id,
            body.platform,
            conn.conn_id,
        )
        for old in self.registry.add(conn):
            desc = (
                "the same device logged in again"
                if old.device_id == conn.device_id
                else "another device of the same platform logged in"
            )
            old.send(
                push_frame(
                    "kicked", KickedPush(code=ErrorCode.ERR_LOGIN_KICKED_OFF_BY_OTHER, desc=desc)
                )
            )
            log.info("kicked %s on %s: %s", old.user_id, old.conn_id, desc)
            self._end(old, "kicked")
        now = users.clock()
        conn.expiry = asyncio.get_running_loop().call_later(
            max(0.0, expires - now), self._expire, conn
        )
        conn.send(
            response(
                req_id,
                LoginRes(
                    user_id=body.user_id,
                    server_time=int(now),
                    profile=profile,
                    db_id=users.store.db_id,
                ),
            )
        )

    def _end(self, conn: Connection, reason: str) -> None:
        conn.session.close()
        self.registry.remove(conn)
        conn.close_after_flush(1000, reason)

    def _expire(self, conn: Connection) -> None:
        """The session's UserSig expired while connected: say so; from then on every request
        but a new login is refused with 6014 (DESIGN §2)."""
        log.info("UserSig of %s expired on %s", conn.user_id, conn.conn_id)
        conn.send(
            push_frame(
                "sig_expired",
                SigExpiredPush(
                    code=ErrorCode.ERR_SVR_ACCOUNT_USERSIG_EXPIRED, desc="UserSig expired"
                ),
            )
        )
        conn.session.logged_out()
        self.registry.remove(conn)
