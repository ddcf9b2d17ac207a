"""Sending and reading messages. A message is written once per channel (read diffusion) and
acknowledged only once durable; its push is one envelope per message, whatever the group size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from opentim.protocol import ConvType, ErrorCode, Message, channel_of, push_frame
from opentim.protocol.limits import MAX_ELEMS_BYTES, MAX_HISTORY_PAGE
from opentim.protocol.ops import MsgPush, OutMessage

from ..bus.base import Bus, Envelope
from ..store.base import Appended, NewMessage, Store
from .errors import GroupNotFoundError, NotMemberError, ServiceError
from .users import UserService

# Elements the server writes itself (group tips, group reports) and a client may never send.
SERVER_ONLY_ELEMS = frozenset({5, 8})
KNOWN_ELEMS = frozenset(range(13))

_encoder = msgspec.json.Encoder()


def check_elems(msg: OutMessage) -> None:
    """Refuse empty, unknown, server-only or oversized elements (DESIGN §7)."""
    if not msg.elems:
        raise ServiceError(ErrorCode.ERR_INVALID_MSG_ELEM, "a message needs at least one element")
    for elem in msg.elems:
        kind = elem.get("elem_type")
        if not isinstance(kind, int) or kind not in KNOWN_ELEMS or kind in SERVER_ONLY_ELEMS:
            raise ServiceError(ErrorCode.ERR_INVALID_MSG_ELEM, f"cannot send elem_type {kind!r}")
    if len(_encoder.encode(msg.elems)) > MAX_ELEMS_BYTES:
        raise ServiceError(
            ErrorCode.ERR_SDK_MSG_BODY_SIZE_LIMIT, f"elements over {MAX_ELEMS_BYTES} bytes"
        )
    if not msg.msg_id:
        raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, "msg_id is required")


class MessageService:
    """Send, fetch history, and publish messages to their recipients."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        users: UserService,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.bus = bus
        self.users = users
        self.clock = clock

    async def submit(
        self, user_id: str, conv_type: int, conv_id: str, out: OutMessage, conn_id: str
    ) -> Awaitable[Message]:
        """Check and queue a message; the returned awaitable resolves once it is durable.

        Queuing happens before this returns, so one connection's messages keep their order.
        Refused while the bus cannot carry the message to its recipients (BusUnavailableError).
        """
        self.bus.ensure_up()
        check_elems(out)
        if conv_type == ConvType.C2C:
            if not conv_id or await self.users.profile(conv_id) is None:
                raise ServiceError(ErrorCode.ERR_INVALID_MSG_RECEIVER, f"no user {conv_id!r}")
            owners: tuple[tuple[str, int, str], ...] = (
                (user_id, ConvType.C2C, conv_id),
                (conv_id, ConvType.C2C, user_id),
            )
        elif conv_type == ConvType.GROUP:
            if await self.store.get_group(conv_id) is None:
                raise GroupNotFoundError(conv_id)
            if await self.store.member_role(conv_id, user_id) is None:
                raise NotMemberError(f"{user_id!r} is not a member of {conv_id!r}")
            owners = ()
        else:
            raise ServiceError(ErrorCode.ERR_INVALID_CONVERSATION, f"bad conv_type {conv_type}")
        new = NewMessage(
            channel_id=channel_of(user_id, conv_type, conv_id),
            conv_type=conv_type,
            sender=user_id,
            receiver=conv_id,
            msg_id=out.msg_id,
            elems=out.elems,
            client_time=out.client_time,
            random=out.random,
            priority=out.priority,
            platform=out.platform,
            cloud_custom_data=out.cloud_custom_data,
            excluded_from_unread=out.excluded_from_unread,
            excluded_from_last=out.excluded_from_last,
            at_users=out.at_users,
            owners=owners,
        )
        stored = self.store.append(new, int(self.clock()))
        return self._finish(stored, conn_id)

    async def _finish(self, stored: Awaitable[Appended], conn_id: str) -> Message:
        appended = await stored
        msg = appended.msg
        msg.sender_profile = self.users.cached_profile(msg.sender) or await self.users.profile(
            msg.sender
        )
        if not appended.duplicate:
            self.publish(msg, conn_id)
        return msg

    def publish(
        self, msg: Message, conn_id: str = "", extra_users: list[str] | None = None
    ) -> None:
        """Push ``msg`` to everyone in its channel but connection ``conn_id``."""
        frame = push_frame("msg", MsgPush(msg=msg))
        channel_id = channel_of(msg.sender, msg.conv_type, msg.receiver)
        if msg.conv_type == ConvType.C2C:
            users = [msg.sender] if msg.sender == msg.receiver else [msg.sender, msg.receiver]
            self.bus.publish(
                Envelope(
                    frame=frame, users=users, skip_conn=conn_id, channel_id=channel_id, seq=msg.seq
                )
            )
        else:
            self.bus.publish(
                Envelope(
                    frame=frame,
                    group_id=msg.receiver,
                    extra_users=extra_users or [],
                    skip_conn=conn_id,
                    channel_id=channel_id,
                    seq=msg.seq,
                    members_changed=msg.is_tips,
                )
            )

    async def history(
        self, user_id: str, conv_type: int, conv_id: str, before_seq: int, count: int
    ) -> list[Message]:
        """Messages of the user's conversation, newest first, older than ``before_seq``."""
        count = max(1, min(count, MAX_HISTORY_PAGE))
        msgs = await self.store.history(user_id, conv_type, conv_id, before_seq, count)
        return msgs


__all__ = ["MessageService"]
