"""The op table's rows for pinned group messages (issue 12)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from opentim.protocol.pins import PinnedListReq, PinnedListRes, PinReq, PinRes

from .sessions import Connection

if TYPE_CHECKING:
    from .dispatch import Handler, Services


async def msg_pin(s: Services, c: Connection, b: PinReq) -> msgspec.Struct:
    await s.pins.pin(c.user_id, b.group_id, b.seq, b.msg_id, b.pinned, c.conn_id)
    return PinRes()


async def msg_pinned_list(s: Services, c: Connection, b: PinnedListReq) -> msgspec.Struct:
    return PinnedListRes(msgs=await s.pins.pinned(c.user_id, b.group_id))


PIN_HANDLERS: dict[str, Handler] = {"msg_pin": msg_pin, "msg_pinned_list": msg_pinned_list}
