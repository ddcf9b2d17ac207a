"""Message reactions (TIMMsgAddMessageReaction and friends): who may react, the limits, and the
``reactions`` push to every device of the conversation's members (C2C: both users; a group:
its members), wherever they are connected.

Who may react or read reactions: whoever may see the message (``MessageService
.visible_message``: a party of the C2C conversation, a member of the group).
"""

from __future__ import annotations

from opentim.protocol import ErrorCode
from opentim.protocol.ids import channel_of
from opentim.protocol.reactions import MsgReactions, Reaction, ReactionPush
from opentim.protocol.rules.reactions import MAX_PARTIAL_USERS, user_page, valid_reaction_id

from ..bus.base import Bus
from ..store.base import Store
from ..store.repos.reactions import reaction_of
from .errors import ServiceError
from .messages import MessageService, no_message_code


class ReactionService:
    def __init__(self, store: Store, bus: Bus, messages: MessageService) -> None:
        self.store = store
        self.bus = bus
        self.messages = messages

    async def change(
        self,
        user_id: str,
        conv_type: int,
        conv_id: str,
        seq: int,
        msg_id: str,
        reaction_id: str,
        *,
        add: bool,
        conn_id: str = "",
    ) -> MsgReactions:
        """Add (or remove) the user's ``reaction_id`` on a message; every device of the
        conversation's members hears of it. The message's reactions after the change."""
        msg = await self.messages.visible_message(user_id, conv_type, conv_id, seq, msg_id)
        if not valid_reaction_id(reaction_id):
            raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, "invalid reaction id")
        channel = channel_of(user_id, conv_type, conv_id)
        repo = self.store.reactions
        change = repo.add if add else repo.remove
        refusal, users = await change(channel, msg.seq, reaction_id, user_id)
        if refusal is not None:
            raise ServiceError(refusal, f"reaction {reaction_id!r} refused")
        reaction = reaction_of(reaction_id, users, MAX_PARTIAL_USERS)
        push = ReactionPush(
            conv_type=msg.conv_type,
            sender=msg.sender,
            receiver=msg.receiver,
            seq=msg.seq,
            msg_id=msg.msg_id,
            reaction=reaction,
            user_id=user_id,
        )
        await self.messages.announce(msg, "reactions", push, conn_id)
        return (await self.read(user_id, conv_type, conv_id, [msg.seq], MAX_PARTIAL_USERS))[0]

    async def read(
        self, user_id: str, conv_type: int, conv_id: str, seqs: list[int], max_users: int
    ) -> list[MsgReactions]:
        """The reactions of each message (with its first ``max_users`` users); a message the
        user may not see answers with its code."""
        wanted = list(dict.fromkeys(seqs))
        seen: dict[int, str] = {}
        out: dict[int, MsgReactions] = {}
        for seq in wanted:
            try:
                msg = await self.messages.visible_message(user_id, conv_type, conv_id, seq)
            except ServiceError as exc:
                if exc.code != no_message_code(conv_type):
                    raise  # not the user's conversation: the whole call is refused
                out[seq] = MsgReactions(seq=seq, code=exc.code, desc=exc.desc)
            else:
                seen[seq] = msg.msg_id
        channel = channel_of(user_id, conv_type, conv_id)
        found = await self.store.reactions.of_messages(channel, list(seen))
        for seq, msg_id in seen.items():
            reactions: list[Reaction] = [
                reaction_of(r, users, max_users, user_id) for r, users in found.get(seq, {}).items()
            ]
            out[seq] = MsgReactions(seq=seq, msg_id=msg_id, reactions=reactions)
        return [out[seq] for seq in wanted]

    async def users(
        self,
        user_id: str,
        conv_type: int,
        conv_id: str,
        seq: int,
        reaction_id: str,
        start: int,
        count: int,
    ) -> tuple[list[str], int]:
        """One page of the users of ``reaction_id`` on a message; the next page's start."""
        msg = await self.messages.visible_message(user_id, conv_type, conv_id, seq)
        channel = channel_of(user_id, conv_type, conv_id)
        users = await self.store.reactions.users(channel, msg.seq, reaction_id)
        if not users:
            raise ServiceError(
                ErrorCode.ERR_SVR_MSG_REACTION_NOT_EXISTS, f"no reaction {reaction_id!r}"
            )
        return user_page(users, start, count)
