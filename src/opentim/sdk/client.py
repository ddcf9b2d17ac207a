"""Client: the asyncio SDK. Connect, log in, and reach conversations, messages and groups.

Many clients may live in one process and one event loop (bots, tests): they share nothing.

Connection life (DESIGN §4): once logged in, a lost connection is re-established by itself, with
exponential backoff and jitter, logging in again as an automatic re-login; then the conversation
list syncs from the device's token and message gaps are filled. Sends made meanwhile wait in the
outbox and go out on reconnect (the server deduplicates by ``msg_id``). With ``data_dir``, the
conversation list, the sync token and the outbox live in a local SQLite cache, so a new process
shows the list at once and syncs behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import random
import secrets
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from opentim.protocol import (
    DEFAULT_SDKAPPID,
    Conversation,
    ErrorCode,
    Message,
    Profile,
    Push,
    RemoteProtocolError,
    decode_push,
)
from opentim.protocol.ops import (
    AllRecvOptPush,
    ConvGroupPush,
    ConvPush,
    Empty,
    KickedPush,
    LoginReq,
    LoginRes,
    MsgPush,
    OutMessage,
    ProfileGetReq,
    ProfilePush,
    ProfileSetReq,
    ProfilesRes,
    ReadPush,
    RevokePush,
    SigExpiredPush,
    StatusPush,
)

from .connection import Connection
from .conversations import ConversationManager
from .events import Events, LoginStatus, NetworkStatus, Receipt
from .exceptions import ConnectionLostError, SdkError
from .groups import GroupManager
from .messages import MessageManager
from .store import LocalStore, cache_path
from .sync import SyncEngine
from .users import UserManager

log = logging.getLogger(__name__)

T = TypeVar("T", bound=msgspec.Struct)


class Client:
    """One user's session with an opentim server.

    Args:
        server_url: the server's WebSocket URL, e.g. ``ws://127.0.0.1:9000/ws``.
        sdkappid: the app id the server serves.
        device_id: this device's id; a second login with the same id replaces the first.
        platform: a TIMPlatform value reported on sent messages.
        data_dir: where the local cache lives (one SQLite file per app and user); None keeps
            everything in memory.
        reconnect_delay: first and longest wait between reconnect attempts, in seconds.
        ca_file: PEM file of the certificate authorities a ``wss://`` server's certificate must
            chain to (default: the system's); certificates are always verified.
    """

    def __init__(
        self,
        server_url: str,
        sdkappid: int = DEFAULT_SDKAPPID,
        *,
        device_id: str | None = None,
        platform: int = 0,
        request_timeout: float = 15.0,
        data_dir: str | Path | None = None,
        reconnect_delay: tuple[float, float] = (0.25, 30.0),
        ca_file: str | Path | None = None,
    ) -> None:
        self.server_url = server_url
        self.sdkappid = sdkappid
        self.device_id = device_id or secrets.token_hex(8)
        self.platform = platform
        self.request_timeout = request_timeout
        self.data_dir = None if data_dir is None else Path(data_dir)
        self.reconnect_delay = reconnect_delay
        self.ca_file = ca_file
        self._tls: ssl.SSLContext | None = None
        self.events = Events()
        self.conversations = ConversationManager(self)
        self.messages = MessageManager(self)
        self.groups = GroupManager(self)
        self.users = UserManager(
            self.request,
            self.events,
            time.time,
            lambda: self.events.emit_total_unread(self.conversations.total_unread()),
        )
        self.engine = SyncEngine(self)
        self.user_id = ""
        self.profile: Profile | None = None
        self.login_status = LoginStatus.LOGGED_OUT
        self.server_time_offset = 0.0
        self.server_db_id = 0
        """The database identity the server gave at the last login (0: it has none)."""
        self.has_cache = False
        """Whether the conversation list came from the local cache at login."""
        self._user_sig = ""
        self._conn: Connection | None = None
        self._connected = asyncio.Event()
        self._store: LocalStore | None = None
        self._synced = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reconnecting = False
        self._status_changed = asyncio.Event()
        self._queued: list[tuple[int, str, OutMessage]] = []
        """Sends an earlier run of the app left in the outbox: sent after the first sync."""

    # --- session ----------------------------------------------------------------------------
    async def login(self, user_id: str, user_sig: str) -> Profile:
        """Log in. With a local cache, the conversation list is there before the network
        answers; the list then syncs in the background (``SYNC_STARTED`` … ``SYNC_FINISHED``;
        ``wait_synced()`` waits for it)."""
        if self.login_status in (LoginStatus.LOGGED_IN, LoginStatus.LOGGING_IN):
            raise SdkError(ErrorCode.ERR_SDK_ACCOUNT_LOGIN_IN_PROCESS, "already logged in")
        self.login_status = LoginStatus.LOGGING_IN
        await self.open_cache(user_id)
        try:
            res = await self._connect(user_id, user_sig, resume=False)
        except SdkError:
            self.login_status = LoginStatus.LOGGED_OUT
            raise
        self._user_sig = user_sig
        self.profile = self.users.profile = res.profile
        self.login_status = LoginStatus.LOGGED_IN
        self._after_connect()
        await self._load_all_recv_opt()
        return res.profile

    async def logout(self) -> None:
        """Log out and close the connection. Safe to call when logged out."""
        conn = self._conn
        self.login_status = LoginStatus.LOGGING_OUT
        try:
            if conn is not None and self._connected.is_set():
                await conn.request("logout", Empty(), Empty)
        except SdkError:
            pass
        finally:
            self._connected.clear()
            self._conn = None
            if conn is not None:
                await conn.close()
            if self._store is not None:
                await self._store.flush()
            self.users.stop()
            self._set_logged_out()

    async def close(self) -> None:
        """Log out (if logged in), stop background work, close the local cache."""
        await self.logout()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._forget_user()

    async def wait_synced(self, timeout: float = 30.0) -> None:
        """Wait until the conversation list is complete and authoritative."""
        async with asyncio.timeout(timeout):
            await self._synced.wait()

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # --- profiles ---------------------------------------------------------------------------
    async def set_profile(self, **changes: Any) -> Profile:
        """Change the user's own profile (``nick``, ``face_url``, ``gender`` …)."""
        self.profile = await self.request("profile_set", ProfileSetReq(**changes), Profile)
        return self.profile

    async def get_profiles(self, user_ids: list[str]) -> list[Profile]:
        """The profiles of the known users among ``user_ids`` (asked again for the ids a full
        answer left out: the server pages answers by bytes)."""
        profiles: list[Profile] = []
        left = list(dict.fromkeys(user_ids))
        while left:
            res = await self.request("profile_get", ProfileGetReq(user_ids=left), ProfilesRes)
            profiles += res.profiles
            if len(res.left) >= len(left):
                break  # no progress: never loop on a server that does not page
            left = res.left
        return profiles

    def sync_soon(self) -> None:
        """Sync conversations behind the caller: an answer said it left some changed ones out
        (they come with the sync, as every change moves the change position)."""
        if self._conn is not None:
            self._spawn(self.engine.run())

    # --- requests ---------------------------------------------------------------------------
    async def request(self, op: str, body: msgspec.Struct, result: type[T]) -> T:
        """Send one request as the logged-in user; while reconnecting, wait for the connection
        up to the request timeout. A read cut off by a lost connection is asked again once the
        connection is back."""
        for attempt in range(READ_ATTEMPTS if op in READS else 1):
            await self.wait_connected(self.request_timeout)
            conn = self._conn
            if conn is None:
                continue
            try:
                return await conn.request(op, body, result)
            except ConnectionLostError:
                # The socket is gone even if its reader has not seen it yet: forget it now, so
                # that a caller sending again waits for the next connection instead of failing
                # on this one in a loop (which would starve the reader that notices).
                self._on_closed(conn)
                if attempt == READ_ATTEMPTS - 1 or op not in READS:
                    raise
        raise ConnectionLostError()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until connected (raises 6014 when not logged in, 9508 on timeout)."""
        if self.login_status != LoginStatus.LOGGED_IN:
            raise SdkError(ErrorCode.ERR_SDK_NOT_LOGGED_IN, "not logged in")
        if self._connected.is_set():
            return
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
        if self.login_status != LoginStatus.LOGGED_IN:
            raise SdkError(ErrorCode.ERR_SDK_NOT_LOGGED_IN, "not logged in")

    async def _logged_out(self) -> None:
        while self.login_status == LoginStatus.LOGGED_IN:
            await self._status_changed.wait()

    # --- connection life ----------------------------------------------------------------------
    async def _connect(self, user_id: str, user_sig: str, *, resume: bool) -> LoginRes:
        self.events.emit_network(NetworkStatus.CONNECTING, 0, "")
        self.engine.connection_started()
        conn = Connection(self._on_push, lambda: self._on_closed(conn), self.request_timeout)
        try:
            await conn.open(self.server_url, tls=self._tls_context())
            res = await conn.request(
                "login",
                LoginReq(
                    user_id=user_id,
                    user_sig=user_sig,
                    sdkappid=self.sdkappid,
                    device_id=self.device_id,
                    platform=self.platform,
                    resume=resume,
                ),
                LoginRes,
            )
        except SdkError as exc:
            await conn.close()
            self.events.emit_network(NetworkStatus.CONNECT_FAILED, exc.code, exc.desc)
            raise
        self._conn = conn
        self.server_time_offset = res.server_time - asyncio.get_running_loop().time()
        self.server_db_id = res.db_id
        self._connected.set()
        self.events.emit_network(NetworkStatus.CONNECTED, 0, "")
        return res

    def _tls_context(self) -> ssl.SSLContext | None:
        """The context verifying a ``wss://`` server (made once: loading CAs takes a while)."""
        if self._tls is None and self.server_url.startswith("wss:"):
            cafile = None if self.ca_file is None else str(self.ca_file)
            self._tls = ssl.create_default_context(cafile=cafile)
        return self._tls

    def _after_connect(self) -> None:
        """Sync behind the login, then send what waited in the outbox."""
        self._synced.clear()
        self._spawn(self._sync_and_flush())

    async def _sync_and_flush(self) -> None:
        try:
            await self.engine.run()
        except SdkError as exc:
            if self.login_status != LoginStatus.LOGGED_IN:
                # The app logged out or closed while the sync was out: nothing went wrong.
                log.debug("conversation sync ended by logout: %s", exc)
            elif exc.code in NETWORK_CODES:
                log.info("conversation sync stopped: %s (it runs again on reconnect)", exc)
            else:
                log.warning("conversation sync stopped: %s", exc)
            return
        # Draft edits made offline go out before the device counts as synced, so that once it
        # does, its drafts and the server's agree.
        await self.conversations.push_pending_drafts()
        self._synced.set()
        queued, self._queued = self._queued, []
        for conv_type, conv_id, msg in queued:
            self._spawn(self.messages.resend(conv_type, conv_id, msg))

    def _on_closed(self, conn: Connection) -> None:
        if conn is not self._conn:
            return
        self._connected.clear()
        self._conn = None
        if self.login_status == LoginStatus.LOGGED_IN:
            self.events.emit_network(
                NetworkStatus.DISCONNECTED, ErrorCode.ERR_SDK_NET_DISCONNECT, "connection lost"
            )
            if not self._reconnecting:
                self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        """Reconnect with exponential backoff and jitter until it works or the user is gone."""
        self._reconnecting = True
        first, longest = self.reconnect_delay
        try:
            for attempt in itertools.count():
                # A real wait between attempts: the backoff itself, not a race workaround.
                delay = min(longest, first * 2 ** min(attempt, 16)) * random.uniform(0.5, 1.5)
                await asyncio.sleep(delay)
                if self.login_status != LoginStatus.LOGGED_IN:
                    return
                try:
                    await self._connect(self.user_id, self._user_sig, resume=True)
                except SdkError as exc:
                    if exc.code in NETWORK_CODES:
                        continue
                    self._set_logged_out()
                    if exc.code == ErrorCode.ERR_LOGIN_KICKED_OFF_BY_OTHER:
                        self.events.emit_kicked(exc.code, exc.desc)
                    elif exc.code == ErrorCode.ERR_SVR_ACCOUNT_USERSIG_EXPIRED:
                        self.events.emit_sig_expired()
                    return
                self._after_connect()
                return
        finally:
            self._reconnecting = False

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._connected.clear()
        if conn is not None:
            self._spawn(conn.close())

    def _set_logged_out(self) -> None:
        self.login_status = LoginStatus.LOGGED_OUT
        self._status_changed.set()
        self._status_changed = asyncio.Event()

    # --- local cache --------------------------------------------------------------------------
    async def open_cache(self, user_id: str) -> None:
        """Load ``user_id``'s local cache, without the network: the conversation list is
        readable at once. ``login`` does it too; calling it first shows the list sooner."""
        if self.user_id == user_id and (self._store is not None or self.data_dir is None):
            return
        await self._forget_user()
        self.user_id = user_id
        if self.data_dir is None:
            return
        self._store = LocalStore(cache_path(self.data_dir, self.sdkappid, self.user_id))
        # Thousands of snapshots are decoded and indexed at once, none of them garbage: the
        # cyclic collector would only walk them again and again (a third of a cold start).
        with paused_gc():
            cached = await self._store.open()
            self.engine.token = cached.token
            self.engine.delivered.update(
                ((c.conv_type, c.conv_id), delivered) for c, delivered in cached.convs
            )
            self.conversations.restore([c for c, _ in cached.convs])
        self.has_cache = bool(cached.token)
        self._queued = list(cached.outbox)

    async def _forget_user(self) -> None:
        """Drop the previous user's state (another user is logging in, or the client closes)."""
        self.conversations.clear()
        self.engine.reset()
        self.has_cache = False
        if self._store is not None:
            store, self._store = self._store, None
            await store.close()

    def save_state(self, convs: list[Conversation], token: str | None) -> None:
        """Queue snapshots (and the sync token) for the local cache."""
        if self._store is not None:
            delivered = self.engine.delivered
            self._store.save_conversations(
                [(c, delivered.get((c.conv_type, c.conv_id), c.max_seq)) for c in convs], token
            )

    def save_messages(self, key: tuple[int, str], msgs: list[Message]) -> None:
        if self._store is not None:
            self._store.save_messages(key, msgs)

    @property
    def store(self) -> LocalStore | None:
        return self._store

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _load_all_recv_opt(self) -> None:
        """Learn the all-messages receive option (unread totals follow it)."""
        try:
            await self.users.get_all_recv_opt()
        except SdkError as exc:
            log.info("all-messages receive option not loaded: %s", exc)
            return
        if self.users.all_recv_opt.opt:  # the app learns of one set before this login
            self.events.emit_all_recv_opt(self.users.all_recv_opt)

    # --- pushes -------------------------------------------------------------------------------
    def _on_push(self, push: Push) -> None:
        try:
            body = decode_push(push)
        except RemoteProtocolError:
            log.warning("unknown push %r dropped", push.kind)
            return
        if isinstance(body, MsgPush):
            self.engine.on_push(body.msg)
        elif isinstance(body, ConvPush):
            self.engine.apply_snapshots(body.convs, full=False, pushed=True)
        elif isinstance(body, RevokePush):
            self.conversations.apply_revoke(body.msg, body.pos)
            self.events.emit_revoked([body.msg])
        elif isinstance(body, ReadPush):
            receipt = Receipt(reader=body.reader, seq=body.seq, time=body.time, msg_id=body.msg_id)
            self.events.emit_receipts([receipt])
        elif isinstance(body, ConvGroupPush):
            self.conversations._on_group_change(body.change)
        elif isinstance(body, KickedPush):
            self._set_logged_out()
            self.events.emit_kicked(body.code, body.desc)
        elif isinstance(body, StatusPush):
            self.events.emit_statuses(body.statuses)
        elif isinstance(body, ProfilePush):
            if body.profile.user_id == self.user_id:
                self.profile = body.profile
            self.users.on_profile(body.profile, body.changed)
        elif isinstance(body, AllRecvOptPush):
            self.users.on_all_recv_opt(body.opt)
        elif isinstance(body, SigExpiredPush):
            self._set_logged_out()
            self._drop_connection()  # the server would take a new login on it; we open anew
            self.events.emit_sig_expired()


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector (if it runs) for a bulk load."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


READS = frozenset(
    {"conv_sync", "conv_get", "catch_up", "history", "profile_get", "group_joined", "ping"}
)
"""Ops that change nothing, so asking again after a lost connection is always safe."""
READ_ATTEMPTS = 3

NETWORK_CODES = frozenset(
    {
        ErrorCode.ERR_SDK_NET_DISCONNECT,
        ErrorCode.ERR_SDK_NET_CONN_TIMEOUT,
        ErrorCode.ERR_SDK_NET_WAIT_ACK_TIMEOUT,
        ErrorCode.ERR_SDK_COMM_DATABASE_FAILURE,
        ErrorCode.ERR_SDK_INTERNAL_ERROR,
        ErrorCode.ERR_SDK_NET_FREQ_LIMIT,
    }
)
"""Failures worth another reconnect attempt (a rate refusal passes with time); anything else
(auth) ends the session."""
