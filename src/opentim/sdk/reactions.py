"""ReactionManager: message reactions, server state asked from the server. The server's
``reactions`` pushes (a change by anyone, this user's other devices included) become
``events.reactions``."""

from __future__ import annotations

from opentim.protocol import Message
from opentim.protocol.reactions import (
    MsgReactions,
    ReactionReq,
    ReactionsGetReq,
    ReactionsGetRes,
    ReactionUsersReq,
    ReactionUsersRes,
)
from opentim.protocol.rules.reactions import MAX_PARTIAL_USERS

from .transport import Transport


class ReactionManager:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def add(self, conv_type: int, conv_id: str, msg: Message, reaction_id: str) -> None:
        """Add this user's ``reaction_id`` to ``msg`` (23005: the message has 10 reactions;
        23006: this one has 100 users; 23007: this user has it already)."""
        await self._change("reaction_add", conv_type, conv_id, msg, reaction_id)

    async def remove(self, conv_type: int, conv_id: str, msg: Message, reaction_id: str) -> None:
        """Remove this user's ``reaction_id`` (23008: nobody has it; 23009: this user has not)."""
        await self._change("reaction_remove", conv_type, conv_id, msg, reaction_id)

    async def _change(
        self, op: str, conv_type: int, conv_id: str, msg: Message, reaction_id: str
    ) -> MsgReactions:
        req = ReactionReq(
            conv_type=conv_type,
            conv_id=conv_id,
            seq=msg.seq,
            msg_id=msg.msg_id,
            reaction_id=reaction_id,
        )
        return await self._transport.request(op, req, MsgReactions)

    async def get(
        self, conv_type: int, conv_id: str, msgs: list[Message], max_users: int = MAX_PARTIAL_USERS
    ) -> list[MsgReactions]:
        """The reactions of messages of one conversation, each with its first ``max_users``."""
        req = ReactionsGetReq(
            conv_type=conv_type, conv_id=conv_id, seqs=[m.seq for m in msgs], max_users=max_users
        )
        res = await self._transport.request("reactions_get", req, ReactionsGetRes)
        return res.results

    async def users(
        self,
        conv_type: int,
        conv_id: str,
        msg: Message,
        reaction_id: str,
        start: int = 0,
        count: int = 20,
    ) -> tuple[list[str], int]:
        """A page of the users who have ``reaction_id`` on ``msg``; the next page's start (0:
        the last page)."""
        req = ReactionUsersReq(
            conv_type=conv_type,
            conv_id=conv_id,
            seq=msg.seq,
            reaction_id=reaction_id,
            start=start,
            count=count,
        )
        res = await self._transport.request("reaction_users", req, ReactionUsersRes)
        return res.users, res.next_start
