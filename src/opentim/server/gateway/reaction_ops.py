"""The op table's rows for message reactions (issue 12)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from opentim.protocol.reactions import (
    ReactionReq,
    ReactionsGetReq,
    ReactionsGetRes,
    ReactionUsersReq,
    ReactionUsersRes,
)

from .sessions import Connection

if TYPE_CHECKING:
    from .dispatch import Handler, Services


def _change(add: bool) -> Handler:
    async def handle(s: Services, c: Connection, b: ReactionReq) -> msgspec.Struct:
        return await s.reactions.change(
            c.user_id,
            b.conv_type,
            b.conv_id,
            b.seq,
            b.msg_id,
            b.reaction_id,
            add=add,
            conn_id=c.conn_id,
        )

    return handle


async def reactions_get(s: Services, c: Connection, b: ReactionsGetReq) -> msgspec.Struct:
    results = await s.reactions.read(c.user_id, b.conv_type, b.conv_id, b.seqs, b.max_users)
    return ReactionsGetRes(results=results)


async def reaction_users(s: Services, c: Connection, b: ReactionUsersReq) -> msgspec.Struct:
    users, next_start = await s.reactions.users(
        c.user_id, b.conv_type, b.conv_id, b.seq, b.reaction_id, b.start, b.count
    )
    return ReactionUsersRes(users=users, next_start=next_start)


REACTION_HANDLERS: dict[str, Handler] = {
    "reaction_add": _change(True),
    "reaction_remove": _change(False),
    "reactions_get": reactions_get,
    "reaction_users": reaction_users,
}
