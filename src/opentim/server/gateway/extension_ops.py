"""The op table's rows for message extensions (issue 12)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from opentim.protocol.extensions import (
    ExtDeleteReq,
    ExtMsgReq,
    ExtResultsRes,
    ExtSetReq,
    ExtsRes,
)

from .sessions import Connection

if TYPE_CHECKING:
    from .dispatch import Handler, Services


async def ext_set(s: Services, c: Connection, b: ExtSetReq) -> msgspec.Struct:
    results = await s.extensions.set(
        c.user_id, b.conv_type, b.conv_id, b.seq, b.msg_id, b.items, c.conn_id
    )
    return ExtResultsRes(results=results)


async def ext_get(s: Services, c: Connection, b: ExtMsgReq) -> msgspec.Struct:
    return ExtsRes(exts=await s.extensions.get(c.user_id, b.conv_type, b.conv_id, b.seq, b.msg_id))


async def ext_delete(s: Services, c: Connection, b: ExtDeleteReq) -> msgspec.Struct:
    results = await s.extensions.delete(
        c.user_id, b.conv_type, b.conv_id, b.seq, b.msg_id, b.keys, c.conn_id
    )
    return ExtResultsRes(results=results)


EXTENSION_HANDLERS: dict[str, Handler] = {
    "ext_set": ext_set,
    "ext_get": ext_get,
    "ext_delete": ext_delete,
}
