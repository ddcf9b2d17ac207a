"""MessageManager: send, history. Message ids are made here, synchronously, as the reference
requires (``message_id_buffer``), and are the server's idempotency key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import Any

from opentim.protocol import ConvType, ErrorCode, Message, encode, text_elem
from opentim.protocol.limits import MAX_HISTORY_PAGE, MAX_MSG_BYTES
from opentim.protocol.ops import (
    CatchUpReq,
    ConvRes,
    ConvsRes,
    Empty,
    HistoryReq,
    HistoryRes,
    ModifyReq,
    ModifyRes,
    MsgDeleteReq,
    MsgFindReq,
    OutMessage,
    RecvOptGetReq,
    RecvOptReq,
    RecvOptsRes,
    RevokeReq,
    RevokeRes,
    SendReq,
    SendRes,
)

from .conversations import ConversationManager
from .exceptions import ConnectionLostError, SdkError
from .store import Cache, LocalData
from .sync import SyncDriver
from .transport import Transport

log = logging.getLogger(__name__)


class MessageManager:
    def __init__(
        self,
        transport: Transport,
        cache: Cache,
        conversations: ConversationManager,
        sync: SyncDriver,
        platform: int = 0,
    ) -> None:
        self._transport = transport
        self._cache = cache
        self._conversations = conversations
        self._sync = sync
        self.platform = platform
        self._prefix = secrets.token_hex(6)
        self._hidden: set[tuple[int, str, int]] = set()
        """Messages deleted on this device only: ``(conv_type, conv_id, seq)``."""
        self._waiting: dict[str, tuple[tuple[int, str], asyncio.Task[Any]]] = {}
        """Sends waiting in the outbox for a connection, by message id: their conversation and
        the task ``cancel_send`` cancels to withdraw them."""
        self._withdrawn: set[str] = set()

    def new_message(
        self,
        elems: list[dict[str, Any]],
        *,
        msg_id: str | None = None,
        priority: int = 1,
        cloud_custom_data: str = "",
        excluded_from_unread: bool = False,
        excluded_from_last: bool = False,
        at_users: list[str] | None = None,
        supports_extensions: bool = False,
    ) -> OutMessage:
        """Build an outgoing message with a fresh id (``<device>-<time>-<random>``)."""
        now = int(time.time())
        rand = secrets.randbits(31)
        return OutMessage(
            msg_id=msg_id or f"{self._prefix}-{now}-{rand}",
            elems=elems,
            client_time=now,
            random=rand,
            priority=priority,
            platform=self.platform,
            cloud_custom_data=cloud_custom_data,
            excluded_from_unread=excluded_from_unread,
            excluded_from_last=excluded_from_last,
            at_users=at_users or [],
            supports_extensions=supports_extensions,
        )

    async def send(self, conv_type: int, conv_id: str, msg: OutMessage) -> Message:
        """Send ``msg``; returns the stored message once the server has made it durable.

        While the connection is down the message waits in the outbox (kept in the local cache)
        and goes out on reconnect; if the connection drops with the send in flight, it is sent
        again, and the server, keyed by ``msg_id``, stores it once.
        """
        if len(encode(msg)) > MAX_MSG_BYTES:
            # Checked here too, before the outbox: the server refuses it anyway (8001), and
            # one over the frame limit would only cost the connection, again and again.
            raise SdkError(
                ErrorCode.ERR_SDK_MSG_BODY_SIZE_LIMIT, f"message over {MAX_MSG_BYTES} bytes"
            )
        key = (conv_type, conv_id)
        self._sync.sending(msg.msg_id)
        store = self._cache.store
        if store is not None:
            store.add_outbox(key, msg, time.time_ns())
        try:
            stored = await self._send_until_acked(conv_type, conv_id, msg)
        except SdkError as exc:
            # Refused by the server: it will never be stored. The session ending first (a
            # logout, a closed client) is not an answer: the next run sends it.
            if store is not None and exc.code != ErrorCode.ERR_SDK_NOT_LOGGED_IN:
                store.remove_outbox(msg.msg_id)
            raise
        if store is not None:
            store.remove_outbox(msg.msg_id)
        self._sync.sent_here(stored)
        if self._conversations.cached(*key) is None:
            # A new conversation: fetch it, so it is listed (with its event) before we return;
            # if the connection drops first, the sync after reconnecting brings it.
            with contextlib.suppress(ConnectionLostError):
                await self._conversations.get([key])
        return stored

    async def _send_until_acked(self, conv_type: int, conv_id: str, msg: OutMessage) -> Message:
        req = SendReq(conv_type=conv_type, conv_id=conv_id, msg=msg)
        while True:
            if not self._transport.connected:
                await self._until_connected((conv_type, conv_id), msg.msg_id)
            try:
                return (await self._transport.request("send", req, SendRes)).msg
            except ConnectionLostError:
                continue  # the next connection sends it again; the server keeps one copy

    async def _until_connected(self, key: tuple[int, str], msg_id: str) -> None:
        """Wait for a connection, unless ``cancel_send`` withdraws the message first (7009):
        it cancels this wait, which becomes the send's error."""
        task = asyncio.current_task()
        assert task is not None
        self._waiting[msg_id] = (key, task)
        try:
            await self._transport.wait_connected()
        except asyncio.CancelledError:
            if msg_id not in self._withdrawn:
                raise
            task.uncancel()
            raise SdkError(
                ErrorCode.ERR_SDK_COMM_INTERRUPT, f"sending {msg_id} was cancelled"
            ) from None
        finally:
            del self._waiting[msg_id]
            self._withdrawn.discard(msg_id)

    def is_queued(self, msg_id: str) -> bool:
        """Whether a send waits in the outbox for a connection (``cancel_send`` can withdraw it)."""
        return msg_id in self._waiting

    def cancel_send(self, conv_type: int, conv_id: str, msg_id: str) -> None:
        """Withdraw a message still waiting in the outbox for a connection: it never reaches
        the server, leaves the outbox, and its send fails with 7009. One already on its way
        cannot be withdrawn (6017)."""
        waiting = self._waiting.get(msg_id)
        if waiting is None or waiting[0] != (conv_type, conv_id) or msg_id in self._withdrawn:
            raise SdkError(ErrorCode.ERR_INVALID_PARAMETERS, f"no pending send {msg_id!r}")
        self._withdrawn.add(msg_id)
        waiting[1].cancel()

    def set_local_data(self, msg_id: str, custom_str: str, custom_int: int) -> None:
        """Attach local custom data to a message, on this device only (it survives restarts in
        the local cache and never reaches the server)."""
        self._cache.set_local_data(msg_id, LocalData(custom_str, custom_int))

    def local_data(self, msg_id: str) -> LocalData | None:
        return self._cache.local.get(msg_id)

    async def resend(self, conv_type: int, conv_id: str, msg: OutMessage) -> None:
        """Send a message left in the outbox by an earlier run of the app."""
        try:
            await self.send(conv_type, conv_id, msg)
        except SdkError as exc:
            if exc.code == ErrorCode.ERR_SDK_NOT_LOGGED_IN:
                log.debug("queued message %s waits for the next login", msg.msg_id)
            else:
                log.warning("queued message %s refused: %s", msg.msg_id, exc)

    def new_text(self, text: str, **options: Any) -> OutMessage:
        """Build a one-element text message; ``options`` as ``new_message`` (``at_users`` …)."""
        return self.new_message([text_elem(text)], **options)

    async def send_text(self, conv_type: int, conv_id: str, text: str) -> Message:
        """Send a one-element text message."""
        return await self.send(conv_type, conv_id, self.new_text(text))

    async def history(
        self, conv_type: int, conv_id: str, before_seq: int = 0, count: int = 20
    ) -> list[Message]:
        """Stored messages of a conversation, newest first, older than ``before_seq``: up to
        ``count`` of them, asked for page by page (the server pages by bytes as well as by
        count, and says when more may follow)."""
        return await self._pages(conv_type, conv_id, before_seq, count, forward=False)

    async def newer(
        self, conv_type: int, conv_id: str, after_seq: int = 0, count: int = 20
    ) -> list[Message]:
        """Stored messages of a conversation, oldest first, newer than ``after_seq``: up to
        ``count`` of them, page by page as ``history``."""
        return await self._pages(conv_type, conv_id, after_seq, count, forward=True)

    async def _pages(
        self, conv_type: int, conv_id: str, cursor: int, count: int, *, forward: bool
    ) -> list[Message]:
        msgs: list[Message] = []
        page = MAX_HISTORY_PAGE
        while len(msgs) < count:
            want = min(count - len(msgs), page)
            req: HistoryReq | CatchUpReq
            if forward:
                op = "catch_up"
                req = CatchUpReq(conv_type=conv_type, conv_id=conv_id, after_seq=cursor, count=want)
            else:
                op = "history"
                req = HistoryReq(
                    conv_type=conv_type, conv_id=conv_id, before_seq=cursor, count=want
                )
            res = await self._transport.request(op, req, HistoryRes)
            msgs += res.msgs
            if not res.more or not res.msgs or (not forward and res.msgs[-1].seq <= 1):
                break
            if len(res.msgs) < want:
                # Cut by bytes: large messages. Ask for about what fits, so the server does
                # not read rows it cannot send.
                page = max(1, min(MAX_HISTORY_PAGE, 2 * len(res.msgs)))
            cursor = res.msgs[-1].seq
        if not self._hidden:
            return msgs
        return [m for m in msgs if (conv_type, conv_id, m.seq) not in self._hidden]

    async def revoke(self, conv_type: int, conv_id: str, msg: Message, reason: str = "") -> Message:
        """Revoke a message of the conversation (the sender, within the server's time limit;
        or a group owner or admin). It keeps its seq and its place in unread counts; its
        elements are gone. Every member's conversation shows the revoked message."""
        res = await self._transport.request(
            "msg_revoke",
            RevokeReq(
                conv_type=conv_type, conv_id=conv_id, seq=msg.seq, msg_id=msg.msg_id, reason=reason
            ),
            RevokeRes,
        )
        self._conversations.apply_changed(res.msg, res.pos)
        return res.msg

    async def modify(self, conv_type: int, conv_id: str, msg: Message) -> Message:
        """Modify a message of the conversation: ``msg`` as the app changed it (its elements,
        its cloud custom data), from the version it has. Any participant may; every device of
        every participant is told. 8006 when it was modified meanwhile (get it again)."""
        res = await self._transport.request(
            "msg_modify",
            ModifyReq(
                conv_type=conv_type,
                conv_id=conv_id,
                seq=msg.seq,
                msg_id=msg.msg_id,
                version=msg.version,
                elems=msg.elems,
                cloud_custom_data=msg.cloud_custom_data,
            ),
            ModifyRes,
        )
        self._conversations.apply_changed(res.msg, res.pos)
        return res.msg

    async def delete(
        self, conv_type: int, conv_id: str, msgs: list[Message], *, cloud: bool
    ) -> None:
        """Delete messages for this user only. ``cloud``: on the server, so on every device of
        the user; otherwise on this device only (the server keeps them for the others)."""
        seqs = [m.seq for m in msgs]
        if cloud:
            res = await self._transport.request(
                "msg_delete", MsgDeleteReq(conv_type=conv_type, conv_id=conv_id, seqs=seqs), ConvRes
            )
            self._conversations.apply([res.conv])
        else:
            conv = self._conversations.cached(conv_type, conv_id)
            if conv is None:
                raise SdkError(ErrorCode.ERR_INVALID_CONVERSATION, f"no conversation {conv_id!r}")
            if not all(0 < seq <= conv.max_seq for seq in seqs):
                raise SdkError(ErrorCode.ERR_INVALID_PARAMETERS, "no such message")
            self._hidden.update((conv_type, conv_id, seq) for seq in seqs)

    async def set_recv_opt(self, conv_type: int, conv_ids: list[str], opt: int) -> None:
        """Set the receive option (TIMReceiveMessageOpt) for C2C peers or groups; kept on the
        server, synced to every device, and applied to unread totals."""
        res = await self._transport.request(
            "recv_opt_set", RecvOptReq(conv_type=conv_type, conv_ids=conv_ids, opt=opt), RecvOptsRes
        )
        self._conversations.apply(res.convs)
        if res.more:
            self._sync.sync_soon()

    async def c2c_recv_opts(self, user_ids: list[str]) -> dict[str, int]:
        """The C2C receive option set for each of ``user_ids`` (0, Receive, when none)."""
        res = await self._transport.request(
            "recv_opt_get", RecvOptGetReq(user_ids=user_ids), RecvOptsRes
        )
        return {item.conv_id: item.opt for item in res.opts}

    # --- found by id or seq, read all (issue 11) --------------------------------------------
    async def find(self, msg_ids: list[str]) -> list[Message]:
        """Messages by id, among those this user may see, in the order of ``msg_ids``."""
        res = await self._transport.request("msg_find", MsgFindReq(msg_ids=msg_ids), HistoryRes)
        return res.msgs

    async def find_at(self, conv_type: int, conv_id: str, seqs: list[int]) -> list[Message]:
        """Messages of one conversation by seq, among those this user may see."""
        body = MsgFindReq(conv_type=conv_type, conv_id=conv_id, seqs=seqs)
        return (await self._transport.request("msg_find", body, HistoryRes)).msgs

    async def read_all(self) -> None:
        """Mark every conversation read, on every device."""
        res = await self._transport.request("conv_read_all", Empty(), ConvsRes)
        self._conversations.apply(res.convs)
        if res.more:
            self._sync.sync_soon()


__all__ = ["ConvType", "MessageManager"]
