"""The WebSocket endpoint at /ws: one task per connection reads frames and answers them.

Requests of one connection are handled in order. A ``send`` is checked and queued for the store
in order too, but its acknowledgement is awaited apart, so a client may pipeline many messages
into one group commit (DESIGN §5a).

Every op is a row of the op table (gateway/dispatch.py): the session checks the row's ``when``,
then the request passes the rate limits of its row's class (gateway/admission.py,
docs/security.md "Connections and rates"), waits for one of its user's turns if its row says so
(so one user's load cannot fill the store reader's queue), and the row's ``run`` answers it.
Login, logout, ping and send are rows whose ``run`` is this class's own method.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import ssl
from collections.abc import Awaitable, Coroutine
from http import HTTPStatus
from typing import Any

import msgspec
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest, Response as HttpResponse

from opentim.protocol import ErrorCode, Message, error_response, push_frame, response
from opentim.protocol.frames import Request, Response
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

from ..config import Limits
from ..services.errors import ServiceError
from .admission import Admission, GatewaySocket, socket_class
from .dispatch import ALLOWED, OP_TABLE, Rate, Services, error_frame
from .limits import TokenBucket, raise_open_file_limit
from .proxy import parse_networks
from .refusals import REFUSALS
from .sessions import Connection, SessionRegistry

log = logging.getLogger(__name__)

WS_PATH = "/ws"
MAX_PAUSE = 1.0
"""Longest pause of a connection's reading after a refusal (a slow bucket must not keep a
closing connection, or a stopping server, waiting)."""


class Gateway:
    """Accepts SDK connections and drives their sessions."""

    def __init__(
        self,
        services: Services,
        registry: SessionRegistry,
        node_id: str = "n",
        limits: Limits | None = None,
        trusted_proxies: list[str] | None = None,
    ) -> None:
        self.limits = limits = limits or Limits()
        self.admission = Admission(limits, parse_networks(trusted_proxies or []))
        self.services = services
        self.node_id = node_id
        self.registry = registry
        self._ids = itertools.count(1)
        self._server: Server | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._present: set[str] = set()
        """Connections counted in the user's status (services/presence.py)."""
        self._leaving: set[str] = set()
        self._nobody = asyncio.Event()
        self._nobody.set()

    async def start(
        self,
        host: str,
        port: int,
        sock: socket.socket | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> int:
        """Listen (on ``sock`` if given, already bound; over TLS when ``tls`` is given); return
        the bound port (for port 0)."""
        raise_open_file_limit()
        self._server = await serve(
            self._handle,
            None if sock else host,
            None if sock else port,
            sock=sock,
            process_request=self._check_path,
            create_connection=socket_class(self.admission),
            # Raised to MAX_WIRE_FRAME_BYTES at login (per connection).
            max_size=self.limits.prelogin_frame_bytes,
            compression=None,
            open_timeout=self.limits.login_timeout,
            # Keepalive is the Connection's own (gateway/sessions.py).
            ping_interval=None,
            ssl=tls,
        )
        sock = next(iter(self._server.sockets))
        return int(sock.getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        # What the closed connections left to the store (their status) is done before it closes.
        await asyncio.gather(*self._pending, return_exceptions=True)

    def _check_path(self, ws: ServerConnection, request: HttpRequest) -> HttpResponse | None:
        if request.path.split("?", 1)[0] != WS_PATH:
            return ws.respond(HTTPStatus.NOT_FOUND, "opentim speaks WebSocket at /ws\n")
        if isinstance(ws, GatewaySocket) and ws.refused:
            log.info("refused a connection from %s: %s", ws.client_ip, ws.refused)
            return ws.respond(
                HTTPStatus.TOO_MANY_REQUESTS,
                f"{int(ErrorCode.ERR_SDK_NET_FREQ_LIMIT)} {ws.refused}\n",
            )
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        assert isinstance(ws, GatewaySocket)
        limits = self.limits
        conn = Connection(
            f"{self.node_id}-{next(self._ids)}",
            ws,
            allowed=ALLOWED,
            bucket=self.admission.connection_bucket(),
            outbox_limit=limits.outbox_bytes,
            ping_interval=limits.ping_interval,
            ping_timeout=limits.ping_timeout,
            ip=ws.client_ip,
        )
        left = ws.accepted_at + limits.login_timeout - ws.loop.time()
        conn.login_timer = ws.loop.call_later(max(0.0, left), self._login_timeout, conn)
        try:
            async for data in ws:
                await self._on_frame(conn, data)
        except ConnectionClosed:
            pass
        finally:
            conn.session.close()
            self.registry.remove(conn)
            await self._left(conn, dropped=True)
            await conn.stop()

    async def _on_frame(self, conn: Connection, data: str | bytes) -> None:
        decoded = conn.session.receive_data(data)
        if isinstance(decoded, bytes):
            refused = msgspec.json.decode(decoded, type=Response)
            REFUSALS.refused(refused.code, refused.desc, "a frame", conn.user_id or conn.conn_id)
            conn.send(decoded)
            return
        req, body = decoded
        row = OP_TABLE[req.op]
        pause = self._over_rate(conn, row.rate)
        if pause:
            code = ErrorCode.ERR_SDK_NET_FREQ_LIMIT
            REFUSALS.refused(code, pause[0], req.op, conn.user_id or conn.ip)
            conn.send(error_response(req.id, code, pause[0]))
            # Read this connection's next frame only when a request could pass again: a
            # flood costs one refusal per token, not one per frame it manages to send.
            await asyncio.sleep(pause[1])
            return
        if row.turn:
            async with self.admission.turn(conn.user_id):
                await row.run(self, conn, req, body)
        else:
            await row.run(self, conn, req, body)

    # --- the ops the gateway handles itself (rows of the op table, gateway/dispatch.py) ---------
    async def send(self, conn: Connection, req: Request, body: SendReq) -> None:
        """Check and queue the message now (in the connection's order); acknowledge it once
        durable, apart, so that a client may pipeline sends into one group commit."""
        try:
            done = await self.services.messages.submit(
                conn.user_id, body.conv_type, body.conv_id, body.msg, conn.conn_id
            )
        except Exception as exc:
            conn.send(error_frame(req.id, exc, req.op, conn.user_id))
            return
        task = asyncio.ensure_future(self._ack(conn, req.id, done))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def ping(self, conn: Connection, req: Request, body: Empty) -> None:
        conn.send(response(req.id, Empty()))

    async def logout(self, conn: Connection, req: Request, body: Empty) -> None:
        log.info("logout %s on %s", conn.user_id, conn.conn_id)
        conn.send(response(req.id, Empty()))
        self._end(conn, "logged out")
        await self._left(conn, dropped=False)

    def _over_rate(self, conn: Connection, rate: Rate) -> tuple[str, float] | None:
        """None when the request may go on, else why not and how long to pause the connection.

        Buckets: the connection's, then the user's (after login) or, for an op of the login
        rate class, the client address's."""
        bucket: TokenBucket = conn.bucket
        sharing = 1
        if not bucket.take():
            why = "too many requests on this connection"
        elif conn.user_id:
            users = self.admission.users
            if users.take(conn.user_id):
                return None
            why = "too many requests from this user"
            bucket = users.bucket(conn.user_id)
            sharing = len(self.registry.by_user.get(conn.user_id, ())) or 1
        elif rate is Rate.LOGIN:
            logins = self.admission.logins
            if logins.take(conn.ip):
                return None
            why = "too many login attempts from this address"
            bucket = logins.bucket(conn.ip)
        else:
            return None
        return why, min(MAX_PAUSE, bucket.wait_time() * sharing)

    def _login_timeout(self, conn: Connection) -> None:
        if not conn.user_id:
            log.info("connection %s from %s: no login in time", conn.conn_id, conn.ip)
            conn.session.close()
            conn.close_after_flush(1008, f"no login within {self.limits.login_timeout:g} s")

    async def _ack(self, conn: Connection, req_id: int, done: Awaitable[Message]) -> None:
        try:
            msg = await done
        except Exception as exc:
            conn.send(error_frame(req_id, exc, "send", conn.user_id))
            return
        conn.send(response(req_id, SendRes(msg=msg)))

    async def login(self, conn: Connection, req: Request, body: LoginReq) -> None:
        req_id = req.id
        users = self.services.users
        try:
            profile, expires = await users.login(body.user_id, body.user_sig, body.sdkappid)
            self._check_room(body)
        except Exception as exc:
            conn.send(error_frame(req_id, exc, "login", f"{body.user_id!r} on {conn.conn_id}"))
            return
        conn.session.logged_in(body.user_id)
        if conn.login_timer is not None:
            conn.login_timer.cancel()
        ws = conn.ws
        assert isinstance(ws, GatewaySocket)
        ws.release()
        ws.protocol.max_message_size = MAX_WIRE_FRAME_BYTES
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
            await self._left(old, dropped=True)
        await self._arrived(conn)
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

    def _check_room(self, body: LoginReq) -> None:
        """Refuse a login past the user's connection cap, or a resume after another device of
        the platform took over (ServiceError)."""
        cap = self.limits.conns_per_user
        if self.registry.kept(body.user_id, body.device_id, body.platform) >= cap:
            raise ServiceError(
                ErrorCode.ERR_SDK_NET_FREQ_LIMIT,
                f"this user has {cap} connections on this server already",
            )
        if body.resume and not self.registry.may_resume(body.user_id, body.device_id):
            raise ServiceError(
                ErrorCode.ERR_LOGIN_KICKED_OFF_BY_OTHER,
                "another device of this platform logged in; log in again to take over",
            )

    # --- status: devices come and go (services/presence.py) ----------------------------------
    async def wait_nobody(self) -> None:
        """Until no connection counts in any user's status (every one that ended has been
        recorded in the store)."""
        await self._nobody.wait()

    async def _arrived(self, conn: Connection) -> None:
        self._present.add(conn.conn_id)
        self._nobody.clear()
        try:
            await self.services.presence.connected(
                conn.user_id, conn.conn_id, conn.device_id, conn.platform
            )
        except Exception:  # the login stands; the status catches up at the next change
            log.exception("status of %s not recorded", conn.user_id)

    async def _left(self, conn: Connection, *, dropped: bool) -> None:
        """The connection no longer counts in its user's status (``dropped``: not a logout)."""
        if conn.conn_id not in self._present or conn.conn_id in self._leaving:
            return
        self._leaving.add(conn.conn_id)
        try:
            await self.services.presence.disconnected(conn.user_id, conn.conn_id, dropped=dropped)
        except Exception:
            log.exception("status of %s not recorded", conn.user_id)
        finally:
            # Counted until recorded: ``wait_nobody`` returns once the store shows it.
            self._leaving.discard(conn.conn_id)
            self._present.discard(conn.conn_id)
            if not self._present:
                self._nobody.set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _end(self, conn: Connection, reason: str) -> None:
        conn.session.close()
        self.registry.remove(conn)
        conn.close_after_flush(1000, reason)

    def _expire(self, conn: Connection) -> None:
        """The session's UserSig expired while connected: say so; from then on every request
        but a new login is refused with 6014 (DESIGN §2)."""
        log.info("UserSig of %s expired on %s", conn.user_id, conn.conn_id)
        conn.session.logged_out()
        self.registry.remove(conn)

        async def expired() -> None:
            # The status is recorded first: what the device sees next is a settled state.
            await self._left(conn, dropped=True)
            conn.send(
                push_frame(
                    "sig_expired",
                    SigExpiredPush(
                        code=ErrorCode.ERR_SVR_ACCOUNT_USERSIG_EXPIRED, desc="UserSig expired"
                    ),
                )
            )

        self._spawn(expired())
        # Logged out but connected: the login timeout applies again, as to a new connection.
        conn.login_timer = asyncio.get_running_loop().call_later(
            self.limits.login_timeout, self._login_timeout, conn
        )
