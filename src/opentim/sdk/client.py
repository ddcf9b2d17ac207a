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
import logging
import secrets
import ssl
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from opentim.protocol import DEFAULT_SDKAPPID, ErrorCode, Profile
from opentim.protocol.ids import conv_of_message
from opentim.protocol.ops import (
    Empty,
    LoginReq,
    LoginRes,
    OutMessage,
    ProfileGetReq,
    ProfilePush,
    ProfileSetReq,
    ProfilesRes,
    StatusPush,
)

from .connection import Connection
from .conversations import ConversationManager
from .core import (
    ClientSession,
    Effect,
    ExtensionsChanged,
    FriendChanged,
    GroupReported,
    LinkAction,
    LinkEvent,
    LoginStatus,
    PinChanged,
    ReactionChanged,
    ReadReceipt,
    UsersChanged,
)
from .events import Events, NetworkStatus, Receipt
from .exceptions import SdkError
from .extensions import ExtensionManager
from .friends import FriendshipManager
from .groups import GroupManager
from .messages import MessageManager
from .pins import PinManager
from .reactions import ReactionManager
from .store import Cache, LocalStore, cache_path
from .sync import SyncDriver
from .transport import Transport
from .users import UserManager

log = logging.getLogger(__name__)

T = TypeVar("T", bound=msgspec.Struct)


class Client:
    """One user's session with an opentim server.

    The protocol state (request ids, the push table, sync and gap filling, the connection
    life) is the sans-I/O ``ClientSession`` (core/); this class drives it: the transport
    carries its frames and holds the futures, the sync driver asks its requests, and the
    managers get the transport, the session, the local cache and the events they use.

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
        self.data_dir = None if data_dir is None else Path(data_dir)
        self.reconnect_delay = reconnect_delay
        self.ca_file = ca_file
        self._tls: ssl.SSLContext | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.Future[None] | None = None
        self.events = Events()
        self.session = ClientSession(backoff=reconnect_delay)
        self.transport = Transport(self.session, request_timeout)
        self.cache = Cache(self.session.sync.delivered)
        self.engine = SyncDriver(
            self.transport, self.cache, self.events, self._spawn, self._synced_or_stopped
        )
        self.conversations = ConversationManager(
            self.session, self.transport, self.cache, self.events, self.engine
        )
        self.session.sync.convs = self.conversations
        self.messages = MessageManager(
            self.transport, self.cache, self.conversations, self.engine, platform
        )
        self.groups = GroupManager(self.transport)
        self.friendship = FriendshipManager(self.transport)
        self.transport.on(LinkAction, self._on_link)
        self.transport.on(ReadReceipt, self._on_receipt)
        self.transport.on(FriendChanged, lambda a: self.events.emit_friendship(a.event))
        self.users = UserManager(
            self.transport.request,
            self.events,
            time.time,
            lambda: self.events.emit_total_unread(self.conversations.total_unread()),
        )
        self.transport.on(UsersChanged, self._on_users)
        self.transport.on(GroupReported, lambda a: self.events.emit_group_report(a.report))
        self.reactions = ReactionManager(self.transport)
        self.transport.on(ReactionChanged, self._on_reaction)
        self.pins = PinManager(self.transport)
        self.transport.on(PinChanged, lambda a: self.events.emit_pin(a.push))
        self.extensions = ExtensionManager(self.transport)
        self.transport.on(ExtensionsChanged, self._on_extensions)
        self.profile: Profile | None = None
        self.server_time_offset = 0.0
        self.has_cache = False
        """Whether the conversation list came from the local cache at login."""
        self._user_sig = ""
        self._synced = asyncio.Event()
        self._queued: list[tuple[int, str, OutMessage]] = []
        """Sends an earlier run of the app left in the outbox: sent after the first sync."""

    @property
    def user_id(self) -> str:
        return self.session.user_id

    @user_id.setter
    def user_id(self, user_id: str) -> None:
        self.session.user_id = user_id

    @property
    def login_status(self) -> LoginStatus:
        return self.session.link.login_status

    @property
    def server_db_id(self) -> int:
        """The database identity the server gave at the last login (0: it has none)."""
        return self.session.server_db_id

    @property
    def request_timeout(self) -> float:
        return self.transport.request_timeout

    @request_timeout.setter
    def request_timeout(self, seconds: float) -> None:
        self.transport.request_timeout = seconds

    @property
    def _conn(self) -> Connection | None:
        """The connection of the moment (tests cut it)."""
        return self.transport.conn

    # --- session ----------------------------------------------------------------------------
    async def login(self, user_id: str, user_sig: str) -> Profile:
        """Log in. With a local cache, the conversation list is there before the network
        answers; the list then syncs in the background (``SYNC_STARTED`` … ``SYNC_FINISHED``;
        ``wait_synced()`` waits for it)."""
        if self.login_status in (LoginStatus.LOGGED_IN, LoginStatus.LOGGING_IN):
            raise SdkError(ErrorCode.ERR_SDK_ACCOUNT_LOGIN_IN_PROCESS, "already logged in")
        self.transport.handle(LinkEvent.LOGIN)
        await self.open_cache(user_id)
        try:
            conn, res = await self._connect(user_id, user_sig, resume=False)
        except SdkError:
            self.transport.handle(LinkEvent.LOGIN_FAILED)
            raise
        self._user_sig = user_sig
        self.profile = self.users.profile = res.profile
        self._logged_in(conn, res)
        await self._load_all_recv_opt()
        return res.profile

    async def logout(self) -> None:
        """Log out and close the connection. Safe to call when logged out."""
        conn = self.transport.conn
        connected = self.transport.connected
        self.transport.handle(LinkEvent.LOGOUT)
        try:
            if conn is not None and connected:
                await self.transport.request_on(conn, "logout", Empty(), Empty)
        except SdkError:
            pass
        finally:
            self.transport.drop()
            if conn is not None:
                await conn.close()
            if self.cache.store is not None:
                await self.cache.store.flush()
            self.users.stop()
            self.transport.handle(LinkEvent.CLOSED)

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
        return self.transport.connected

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
        self.engine.sync_soon()

    # --- requests ---------------------------------------------------------------------------
    async def request(self, op: str, body: msgspec.Struct, result: type[T]) -> T:
        """Send one request as the logged-in user (``Transport.request``)."""
        return await self.transport.request(op, body, result)

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until connected (raises 6014 when not logged in, 9508 on timeout)."""
        await self.transport.wait_connected(timeout)

    # --- connection life ----------------------------------------------------------------------
    async def _connect(
        self, user_id: str, user_sig: str, *, resume: bool
    ) -> tuple[Connection, LoginRes]:
        self.events.emit_network(NetworkStatus.CONNECTING, 0, "")
        try:
            conn = await self.transport.open(self.server_url, self._tls_context())
        except SdkError as exc:
            self.events.emit_network(NetworkStatus.CONNECT_FAILED, exc.code, exc.desc)
            raise
        req = LoginReq(
            user_id=user_id,
            user_sig=user_sig,
            sdkappid=self.sdkappid,
            device_id=self.device_id,
            platform=self.platform,
            resume=resume,
        )
        try:
            res = await self.transport.request_on(conn, "login", req, LoginRes)
        except SdkError as exc:
            await conn.close()
            self.events.emit_network(NetworkStatus.CONNECT_FAILED, exc.code, exc.desc)
            raise
        return conn, res

    def _logged_in(self, conn: Connection, res: LoginRes) -> None:
        self.transport.adopt(conn)
        self.server_time_offset = res.server_time - asyncio.get_running_loop().time()
        self.transport.perform(self.session.logged_in(res.db_id))
        self.events.emit_network(NetworkStatus.CONNECTED, 0, "")

    def _tls_context(self) -> ssl.SSLContext | None:
        """The context verifying a ``wss://`` server (made once: loading CAs takes a while)."""
        if self._tls is None and self.server_url.startswith("wss:"):
            cafile = None if self.ca_file is None else str(self.ca_file)
            self._tls = ssl.create_default_context(cafile=cafile)
        return self._tls

    def _on_link(self, action: LinkAction) -> None:
        """Carry out what the connection life says (core/link.py has the table)."""
        effect = action.effect
        if effect is Effect.CONNECT:
            if self.session.link.resuming:  # a first login connects in ``login`` itself
                self._spawn(self._reconnect())
        elif effect is Effect.SYNC:
            self._synced.clear()
            self._spawn(self._start_sync())
        elif effect is Effect.WAIT:
            if self._timer is not None:
                self._timer.cancel()  # one wait at a time: an older one would retry early
            self._timer = asyncio.ensure_future(self._retry_after(action.delay))
            self._tasks.add(self._timer)
            self._timer.add_done_callback(self._tasks.discard)
        elif effect is Effect.DISCONNECTED:
            self.events.emit_network(
                NetworkStatus.DISCONNECTED, ErrorCode.ERR_SDK_NET_DISCONNECT, "connection lost"
            )
        elif effect is Effect.KICKED:
            self.events.emit_kicked(action.code, action.desc)
        elif effect is Effect.SIG_EXPIRED:
            self.events.emit_sig_expired()
        else:
            conn = self.transport.drop()
            if conn is not None:
                self._spawn(conn.close())

    async def _start_sync(self) -> None:
        self.engine.start()

    async def _retry_after(self, delay: float) -> None:
        # A real wait between attempts: the backoff itself, not a race workaround.
        await asyncio.sleep(delay)
        self.transport.handle(LinkEvent.RETRY)

    async def _reconnect(self) -> None:
        """One attempt to connect and log in again."""
        try:
            conn, res = await self._connect(self.user_id, self._user_sig, resume=True)
        except SdkError as exc:
            self.transport.handle(REFUSALS.get(exc.code, LinkEvent.REFUSED), exc.code, exc.desc)
            return
        if not self.session.link.resuming:  # logged out meanwhile
            await conn.close()
            return
        self._logged_in(conn, res)

    def _synced_or_stopped(self, error: SdkError | None) -> None:
        """A sync pass ended: send what waited for it, or say why it stopped."""
        if error is None:
            self._spawn(self._after_sync())
        elif self.login_status != LoginStatus.LOGGED_IN:
            # The app logged out or closed while the sync was out: nothing went wrong.
            log.debug("conversation sync ended by logout: %s", error)
        elif error.code in NETWORK_CODES:
            log.info("conversation sync stopped: %s (it runs again on reconnect)", error)
        else:
            log.warning("conversation sync stopped: %s", error)

    async def _after_sync(self) -> None:
        # Draft edits made offline go out before the device counts as synced, so that once it
        # does, its drafts and the server's agree.
        await self.conversations.push_pending_drafts()
        self._synced.set()
        queued, self._queued = self._queued, []
        for conv_type, conv_id, msg in queued:
            self._spawn(self.messages.resend(conv_type, conv_id, msg))

    def _on_receipt(self, r: ReadReceipt) -> None:
        p = r.push
        self.conversations.apply_peer_read(p.reader, p.seq)
        self.events.emit_receipts(
            [Receipt(reader=p.reader, seq=p.seq, time=p.time, msg_id=p.msg_id)]
        )

    # --- local cache --------------------------------------------------------------------------
    async def open_cache(self, user_id: str) -> None:
        """Load ``user_id``'s local cache, without the network: the conversation list is
        readable at once. ``login`` does it too; calling it first shows the list sooner."""
        if self.user_id == user_id and (self.cache.store is not None or self.data_dir is None):
            return
        await self._forget_user()
        self.user_id = user_id
        if self.data_dir is None:
            return
        store = self.cache.store = LocalStore(cache_path(self.data_dir, self.sdkappid, user_id))
        # Thousands of snapshots are decoded and indexed at once, none of them garbage: the
        # cyclic collector would only walk them again and again (a third of a cold start).
        with paused_gc():
            cached = await store.open()
            sync = self.session.sync
            sync.token = cached.token
            sync.delivered.update(((c.conv_type, c.conv_id), n) for c, n in cached.convs)
            self.conversations.restore([c for c, _ in cached.convs])
            self.cache.local.update(cached.local_data)
        self.has_cache = bool(cached.token)
        self._queued = list(cached.outbox)

    async def _forget_user(self) -> None:
        """Drop the previous user's state (another user is logging in, or the client closes)."""
        self.conversations.clear()
        self.session.sync.forget()
        self.cache.local.clear()
        self.has_cache = False
        if self.cache.store is not None:
            store, self.cache.store = self.cache.store, None
            await store.close()

    @property
    def store(self) -> LocalStore | None:
        return self.cache.store

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
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

    def _on_reaction(self, action: ReactionChanged) -> None:
        p = action.push
        conv_id = conv_of_message(p.conv_type, p.sender, p.receiver, self.user_id)
        self.events.emit_reaction(conv_id, p)

    def _on_extensions(self, action: ExtensionsChanged) -> None:
        p = action.push
        conv_id = conv_of_message(p.conv_type, p.sender, p.receiver, self.user_id)
        self.extensions.on_push(conv_id, p)
        self.events.emit_extensions(conv_id, p)

    def _on_users(self, action: UsersChanged) -> None:
        """A status, profile or all-messages-option push."""
        push = action.push
        if isinstance(push, StatusPush):
            self.events.emit_statuses(push.statuses)
        elif isinstance(push, ProfilePush):
            if push.profile.user_id == self.user_id:
                self.profile = push.profile
            self.users.on_profile(push.profile, push.changed)
        else:
            self.users.on_all_recv_opt(push.opt)


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

REFUSALS: dict[int, LinkEvent] = {
    **dict.fromkeys(NETWORK_CODES, LinkEvent.RETRY_FAILED),
    ErrorCode.ERR_LOGIN_KICKED_OFF_BY_OTHER: LinkEvent.KICKED,
    ErrorCode.ERR_SVR_ACCOUNT_USERSIG_EXPIRED: LinkEvent.SIG_EXPIRED,
}
"""What a failed reconnect attempt means for the connection life; any other code: REFUSED."""
