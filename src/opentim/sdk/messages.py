"""MessageManager: send, history. Message ids are made here, synchronously, as the reference
requires (``message_id_buffer``), and are the server's idempotency key."""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from opentim.protocol import Message
from opentim.protocol.ops import HistoryReq, HistoryRes, OutMessage, SendReq, SendRes

from .exceptions import ConnectionLostError, SdkError

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger(__name__)


class MessageManager:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._prefix = secrets.token_hex(6)

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
            platform=self._client.platform,
            cloud_custom_data=cloud_custom_data,
            excluded_from_unread=excluded_from_unread,
            excluded_from_last=excluded_from_last,
            at_users=at_users or [],
        )

    async def send(self, conv_type: int, conv_id: str, msg: OutMessage) -> Message:
        """Send ``msg``; returns the stored message once the server has made it durable.

        While the connection is down the message waits in the outbox (kept in the local cache)
        and goes out on reconnect; if the connection drops with the send in flight, it is sent
        again, and the server, keyed by ``msg_id``, stores it once.
        """
        key = (conv_type, conv_id)
        store = self._client.store
        if store is not None:
            store.add_outbox(key, msg, time.time_ns())
        try:
            stored = await self._send_until_acked(conv_type, conv_id, msg)
        finally:
            if store is not None:
                store.remove_outbox(msg.msg_id)
        self._client.engine.sent_here(stored)
        if self._client.conversations.cached(*key) is None:
            # A new conversation: fetch it, so it is listed (with its event) before we return;
            # if the connection drops first, the sync after reconnecting brings it.
            with contextlib.suppress(ConnectionLostError):
                await self._client.conversations.get([key])
        return stored

    async def _send_until_acked(self, conv_type: int, conv_id: str, msg: OutMessage) -> Message:
        req = SendReq(conv_type=conv_type, conv_id=conv_id, msg=msg)
        while True:
            await self._client.wait_connected()
            try:
                return (await self._client.request("send", req, SendRes)).msg
            except ConnectionLostError:
                continue  # the next connection sends it again; the server keeps one copy

    async def resend(self, conv_type: int, conv_id: str, msg: OutMessage) -> None:
        """Send a message left in the outbox by an earlier run of the app."""
        try:
            await self.send(conv_type, conv_id, msg)
        except SdkError as exc:
            log.warning("queued message %s refused: %s", msg.msg_id, exc)

    async def send_text(self, conv_type: int, conv_id: str, text: str) -> Message:
        """Send a one-element text message."""
        return await self.send(
            conv_type, conv_id, self.new_message([{"elem_type": 0, "text_elem_content": text}])
        )

    async def history(
        self, conv_type: int, conv_id: str, before_seq: int = 0, count: int = 20
    ) -> list[Message]:
        """Stored messages of a conversation, newest first, older than ``before_seq``."""
        res = await self._client.request(
            "history",
            HistoryReq(conv_type=conv_type, conv_id=conv_id, before_seq=before_seq, count=count),
            HistoryRes,
        )
        return res.msgs
