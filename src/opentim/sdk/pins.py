"""PinManager: pinned group messages, server state asked from the server. The server's
``pinned`` pushes (a change by an admin on any other device) become ``events.pins``."""

from __future__ import annotations

from opentim.protocol import Message
from opentim.protocol.pins import PinnedListReq, PinnedListRes, PinReq, PinRes

from .transport import Transport


class PinManager:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def pin(self, group_id: str, msg: Message, pinned: bool) -> None:
        """Pin (or unpin) a group message: the owner and admins may (10007); at most 10 per
        group (10070); 10071: pinned already; 10004: unpinning one that is not pinned."""
        req = PinReq(group_id=group_id, seq=msg.seq, msg_id=msg.msg_id, pinned=pinned)
        await self._transport.request("msg_pin", req, PinRes)

    async def pinned(self, group_id: str) -> list[Message]:
        """The group's pinned messages, in the order they were pinned."""
        res = await self._transport.request(
            "msg_pinned_list", PinnedListReq(group_id=group_id), PinnedListRes
        )
        return res.msgs
