"""Client: the asyncio SDK. Connect, log in, and reach conversations, messages and groups.

Many clients may live in one process and one event loop (bots, tests): they share nothing.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any, TypeVar

import msgspec

from opentim.protocol import (
    ErrorCode,
    Message,
    Profile,
    Push,
    RemoteProtocolError,
    decode_push,
)
from opentim.protocol.ops import (
    ConvGroupPush,
    ConvPush,
    Empty,
    KickedPush,
    LoginReq,
    LoginRes,
    MsgPush,
    ProfileGetReq,
    ProfileSetReq,
    ProfilesRes,
    ReadPush,
    RevokePush,
    SyncReq,
    SyncRes,
)

from .connection import Connection
from .conversations import ConversationManager
from .events import ConvEvent, Events, LoginStatus, NetworkStatus, Receipt
from .exceptions import SdkError
from .groups import GroupManager
from .messages import MessageManager

log = logging.getLogger(__name__)

T = TypeVar("T", bound=msgspec.Struct)

DEFAULT_SDKAPPID = 1400000000


class Client:
    """One user's session with an opentim server.

    Args:
        server_url: the server's WebSocket URL, e.g. ``ws://127.0.0.1:9000/ws``.
        sdkappid: the app id the server serves.
        device_id: this device's id; a second login with the same id replaces the first.
        platform: a TIMPlatform value reported on sent messages.
    """

    def __init__(
        self,
        server_url: str,
        sdkappid: int = DEFAULT_SDKAPPID,
        *,
        device_id: str | None = None,
        platform: int = 0,
        request_timeout: float = 15.0,
    ) -> None:
        self.server_url = server_url
        self.sdkappid = sdkappid
        self.device_id = device_id or secrets.token_hex(8)
        self.platform = platform
        self.request_timeout = request_timeout
        self.events = Events()
        self.conversations = ConversationManager(self)
        self.messages = MessageManager(self)
        self.groups = GroupManager(self)
        self.user_id = ""
        self.profile: Profile | None = None
        self.login_status = LoginStatus.LOGGED_OUT
        self.server_time_offset = 0.0
        self._conn: Connection | None = None
        self._cursor = 0
        self._synced = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- session ----------------------------------------------------------------------------
    async def login(self, user_id: str, user_sig: str) -> Profile:
        """Connect and log in; the conversation list then syncs in the background
        (``SYNC_STARTED`` … ``SYNC_FINISHED``; ``wait_synced()`` waits for it)."""
        if self.login_status in (LoginStatus.LOGGED_IN, LoginStatus.LOGGING_IN):
            raise SdkError(ErrorCode.ERR_SDK_ACCOUNT_LOGIN_IN_PROCESS, "already logged in")
        self.login_status = LoginStatus.LOGGING_IN
        self.events.emit_network(NetworkStatus.CONNECTING, 0, "")
        conn = Connection(self._on_push, self._on_closed, self.request_timeout)
        try:
            await conn.open(self.server_url)
            self._conn = conn
            res = await conn.request(
                "login",
                LoginReq(
                    user_id=user_id,
                    user_sig=user_sig,
                    sdkappid=self.sdkappid,
                    device_id=self.device_id,
                    platform=self.platform,
                ),
                LoginRes,
            )
        except SdkError as exc:
            self.login_status = LoginStatus.LOGGED_OUT
            self._conn = None
            await conn.close()
            self.events.emit_network(NetworkStatus.CONNECT_FAILED, exc.code, exc.desc)
            raise
        if self.user_id and self.user_id != user_id:
            self.conversations.clear()
            self._cursor = 0
        self.user_id = user_id
        self.profile = res.profile
        self.server_time_offset = res.server_time - asyncio.get_running_loop().time()
        self.login_status = LoginStatus.LOGGED_IN
        self.events.emit_network(NetworkStatus.CONNECTED, 0, "")
        self._synced.clear()
        self._spawn(self._sync())
        return res.profile

    async def logout(self) -> None:
        """Log out and close the connection. Safe to call when logged out."""
        conn = self._conn
        if conn is None:
            self.login_status = LoginStatus.LOGGED_OUT
            return
        self.login_status = LoginStatus.LOGGING_OUT
        try:
            await conn.request("logout", Empty(), Empty)
        except SdkError:
            pass
        finally:
            self._conn = None
            await conn.close()
            self.login_status = LoginStatus.LOGGED_OUT

    async def close(self) -> None:
        """Log out (if logged in) and stop background work."""
        await self.logout()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait_synced(self, timeout: float = 30.0) -> None:
        """Wait until the conversation list is complete and authoritative."""
        async with asyncio.timeout(timeout):
            await self._synced.wait()

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    # --- profiles ---------------------------------------------------------------------------
    async def set_profile(self, **changes: Any) -> Profile:
        """Change the user's own profile (``nick``, ``face_url``, ``gender`` …)."""
        self.profile = await self.request("profile_set", ProfileSetReq(**changes), Profile)
        return self.profile

    async def get_profiles(self, user_ids: list[str]) -> list[Profile]:
        return (
            await self.request("profile_get", ProfileGetReq(user_ids=user_ids), ProfilesRes)
        ).profiles

    # --- plumbing ---------------------------------------------------------------------------
    async def request(self, op: str, body: msgspec.Struct, result: type[T]) -> T:
        """Send one request as the logged-in user."""
        conn = self._conn
        if conn is None or self.login_status != LoginStatus.LOGGED_IN:
            raise SdkError(ErrorCode.ERR_SDK_NOT_LOGGED_IN, "not logged in")
        return await conn.request(op, body, result)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sync(self) -> None:
        events = self.events
        events.emit_conversations(ConvEvent.SYNC_STARTED, [])
        try:
            while True:
                page = await self.request("conv_sync", SyncReq(cursor=self._cursor), SyncRes)
                self.conversations.apply(page.convs)
                self._cursor = page.cursor
                if not page.more:
                    self.conversations.set_group_names(page.conv_groups)
                    break
        except SdkError as exc:
            log.warning("conversation sync stopped: %s", exc)
            return
        self._synced.set()
        events.emit_conversations(ConvEvent.SYNC_FINISHED, [])

    def _on_message(self, msg: Message) -> None:
        """Fold a pushed message into its conversation (fetching it if unknown), announce it."""
        if not self.conversations.apply_message(msg):
            key = (msg.conv_type, msg.conv_id_for(self.user_id))
            self._spawn(self._fetch_conversation(key))
        self.events.emit_new_messages([msg])

    async def _fetch_conversation(self, key: tuple[int, str]) -> None:
        try:
            await self.conversations.get([key])
        except SdkError as exc:
            log.warning("could not fetch conversation %s: %s", key, exc)

    def _on_push(self, push: Push) -> None:
        try:
            body = decode_push(push)
        except RemoteProtocolError:
            log.warning("unknown push %r dropped", push.kind)
            return
        if isinstance(body, MsgPush):
            self._on_message(body.msg)
        elif isinstance(body, ConvPush):
            self.conversations.apply(body.convs)
        elif isinstance(body, RevokePush):
            self.conversations.apply_revoke(body.msg, body.pos)
            self.events.emit_revoked([body.msg])
        elif isinstance(body, ReadPush):
            receipt = Receipt(reader=body.reader, seq=body.seq, time=body.time, msg_id=body.msg_id)
            self.events.emit_receipts([receipt])
        elif isinstance(body, ConvGroupPush):
            self.conversations._on_group_change(body.change)
        elif isinstance(body, KickedPush):
            self.login_status = LoginStatus.LOGGED_OUT
            self.events.emit_kicked(body.code, body.desc)

    def _on_closed(self) -> None:
        if self.login_status == LoginStatus.LOGGED_IN:
            self.events.emit_network(
                NetworkStatus.DISCONNECTED, ErrorCode.ERR_SDK_NET_DISCONNECT, "connection lost"
            )
