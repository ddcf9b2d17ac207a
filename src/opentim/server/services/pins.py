"""Pinned group messages (TIMPinGroupMessage, TIMGetPinnedGroupMessageList): the owner and
admins pin and unpin (protocol/rules/pins.py), every member reads the list, and every device of
every member hears of a change (the ``pinned`` push) but the one that made it."""

from __future__ import annotations

from opentim.protocol import ConvType, Message, push_frame
from opentim.protocol.pins import PinnedPush

from ..bus.base import Bus, Envelope
from ..store.base import Store
from .errors import ServiceError
from .messages import MessageService


class PinService:
    def __init__(self, store: Store, bus: Bus, messages: MessageService) -> None:
        self.store = store
        self.bus = bus
        self.messages = messages

    async def pin(
        self, user_id: str, group_id: str, seq: int, msg_id: str, pin: bool, conn_id: str = ""
    ) -> None:
        msg = await self.messages.visible_message(user_id, ConvType.GROUP, group_id, seq, msg_id)
        members = await self.store.groups.get_members(group_id)
        now = int(self.messages.clock())
        refusal = await self.store.pins.pin(group_id, msg.seq, user_id, members[user_id], pin, now)
        if refusal is not None:
            raise ServiceError(refusal, f"message {seq} cannot be {'un' * (not pin)}pinned")
        push = PinnedPush(group_id=group_id, msg=msg, pinned=pin, op_user=user_id)
        frame = push_frame("pinned", push)
        self.bus.publish(Envelope(frame=frame, users=list(members), skip_conn=conn_id))

    async def pinned(self, user_id: str, group_id: str) -> list[Message]:
        """The group's pinned messages (for a member), in the order they were pinned."""
        await self.messages.require_member(user_id, group_id)
        return [
            await self.messages.visible_message(user_id, ConvType.GROUP, group_id, seq)
            for seq in await self.store.pins.pinned(group_id)
        ]
