"""Messages: appending, reading a conversation's history, revoking, per-user deletion."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import msgspec

from opentim.protocol import Conversation, ConvType, Message, channel_of

from ..base import Appended, NewMessage, Revoked
from ..engine import Engine
from ..rows import MSG_COLS, MSG_FROM, NOT_DELETED, message_row
from ..sql import Op, execute, many, row, rows, value
from ..writes import WriteTx
from .conversations import snapshots

_NEWEST = 1 << 62
_json = msgspec.json.Encoder()


def _visible(
    user_id: str, conv_type: int, conv_id: str, low: int, high: int, count: int, order: str
) -> Op[list[Message]]:
    """Messages with ``low < seq <= high`` that the user may see: after their deletion or
    cleared history, not past the point they left the group, not deleted by them."""
    bounds = yield row(
        "SELECT cleared_up_to, end_seq FROM conversations "
        "WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
        user_id,
        conv_type,
        conv_id,
    )
    if bounds is None:
        return []
    low = max(low, bounds[0])
    if bounds[1] is not None:
        high = min(high, bounds[1])
    found = yield rows(
        f"SELECT {MSG_COLS} {MSG_FROM} WHERE m.channel_id = ? AND m.seq > ? AND m.seq <= ? "
        f"AND {NOT_DELETED} ORDER BY m.seq {order} LIMIT ?",
        channel_of(user_id, conv_type, conv_id),
        low,
        high,
        user_id,
        count,
    )
    return [message_row(r) for r in found]


def conversation_of(user_id: str, msg: Message) -> tuple[int, str] | None:
    """The user's conversation a message belongs to, None when it is not one of theirs."""
    if msg.conv_type == ConvType.GROUP:
        return ConvType.GROUP, msg.receiver
    if user_id == msg.sender:
        return ConvType.C2C, msg.receiver
    if user_id == msg.receiver:
        return ConvType.C2C, msg.sender
    return None


def message_at(channel_id: str, seq: int) -> Op[Message | None]:
    found = yield row(
        f"SELECT {MSG_COLS} {MSG_FROM} WHERE m.channel_id = ? AND m.seq = ?", channel_id, seq
    )
    return message_row(found) if found else None


class Messages:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, msg: NewMessage, server_time: int) -> Awaitable[Appended]:
        """Queue a message (idempotent on ``(sender, msg_id)``); resolves once durable.

        Queued synchronously, so one node's messages get their seqs in the order ``append``
        was called.
        """
        return self.engine.append(msg, server_time)

    async def history(
        self, user_id: str, conv_type: int, conv_id: str, before_seq: int, count: int
    ) -> list[Message]:
        high = before_seq - 1 if before_seq > 0 else _NEWEST
        return await self.engine.read(
            lambda: _visible(user_id, conv_type, conv_id, 0, high, count, "DESC")
        )

    async def messages_after(
        self, user_id: str, conv_type: int, conv_id: str, after_seq: int, count: int
    ) -> list[Message]:
        """Messages of the user's conversation after ``after_seq``, oldest first."""
        return await self.engine.read(
            lambda: _visible(user_id, conv_type, conv_id, after_seq, _NEWEST, count, "ASC")
        )

    async def messages_between(self, channel_id: str, after_seq: int, to_seq: int) -> list[Message]:
        """The channel's messages with ``after_seq < seq <= to_seq``, oldest first (a node
        filling a gap in what the bus brought it; STYLE §2.3)."""

        def read() -> Op[list[Message]]:
            found = yield rows(
                f"SELECT {MSG_COLS} {MSG_FROM} WHERE m.channel_id = ? AND m.seq > ? "
                "AND m.seq <= ? ORDER BY m.seq",
                channel_id,
                after_seq,
                to_seq,
            )
            return [message_row(r) for r in found]

        return await self.engine.read(read)

    async def find(self, user_id: str, msg_ids: list[str]) -> list[Message]:
        """The messages with these ids that ``user_id`` may see (in one of their conversations,
        not deleted or cleared for them), in the order of ``msg_ids``."""

        def read() -> Op[list[Message]]:
            found = yield rows(f"SELECT {MSG_COLS} {MSG_FROM} WHERE m.msg_id = ANY(?)", msg_ids)
            seen: dict[str, Message] = {}
            for msg in map(message_row, found):
                key = conversation_of(user_id, msg)
                if key is None or msg.msg_id in seen:
                    continue
                visible = yield from _visible(user_id, *key, msg.seq - 1, msg.seq, 1, "ASC")
                if visible:
                    seen[msg.msg_id] = visible[0]
            return [seen[i] for i in dict.fromkeys(msg_ids) if i in seen]

        return await self.engine.read(read, snapshot=True) if msg_ids else []

    async def at_seqs(
        self, user_id: str, conv_type: int, conv_id: str, seqs: list[int]
    ) -> list[Message]:
        """The messages at ``seqs`` of the user's conversation that they may see, in seq order."""

        def read() -> Op[list[Message]]:
            out: list[Message] = []
            for seq in sorted(set(seqs)):
                out += yield from _visible(user_id, conv_type, conv_id, seq - 1, seq, 1, "ASC")
            return out

        return await self.engine.read(read, snapshot=True) if seqs else []

    async def get_message(self, channel_id: str, seq: int) -> Message | None:
        return await self.engine.read(lambda: message_at(channel_id, seq))

    async def revoke_message(
        self, channel_id: str, seq: int, revoker: str, reason: str
    ) -> Revoked | None:
        """Empty the message's elements and record who revoked it. The channel's change
        position moves (so every member's snapshot is new), its order key does not."""

        def write(tx: WriteTx) -> Op[Revoked | None]:
            done = yield value(
                "UPDATE messages SET elems = '[]', revoker = ?, revoke_reason = ? "
                "WHERE channel_id = ? AND seq = ? AND revoker = '' RETURNING seq",
                revoker,
                reason,
                channel_id,
                seq,
            )
            if done is None:
                return None
            head = yield from tx.head(channel_id)
            head.changed = tx.tick()
            tx.save_head(channel_id)
            msg = yield from message_at(channel_id, seq)
            assert msg is not None, "updated in this transaction"
            return Revoked(msg, head.changed)

        return await self.engine.write(write)

    async def modify_message(
        self,
        channel_id: str,
        seq: int,
        version: int,
        elems: list[dict[str, Any]],
        cloud_custom_data: str,
    ) -> tuple[Message | None, int]:
        """Replace a message's elements and cloud custom data if it is still at ``version``
        and not revoked; its version goes up by one and the channel's change position moves
        (every member's snapshot is new; the order key does not move).

        The message as it is now, and the change position (0: nothing changed, the message
        was modified or revoked meanwhile, or is not there)."""

        def write(tx: WriteTx) -> Op[tuple[Message | None, int]]:
            done = yield value(
                "UPDATE messages SET elems = ?, cloud_custom_data = ?, version = version + 1 "
                "WHERE channel_id = ? AND seq = ? AND version = ? AND revoker = '' RETURNING seq",
                _json.encode(elems).decode(),
                cloud_custom_data,
                channel_id,
                seq,
                version,
            )
            pos = 0
            if done is not None:
                head = yield from tx.head(channel_id)
                head.changed = pos = tx.tick()
                tx.save_head(channel_id)
            msg = yield from message_at(channel_id, seq)
            return msg, pos

        return await self.engine.write(write)

    async def delete_messages(
        self, user_id: str, conv_type: int, conv_id: str, seqs: list[int]
    ) -> Conversation | None:
        """Hide messages of a conversation from ``user_id`` only; the conversation after it."""
        channel_id = channel_of(user_id, conv_type, conv_id)

        def write(tx: WriteTx) -> Op[bool]:
            found = yield value(
                "SELECT 1 FROM conversations WHERE user_id = ? AND conv_type = ? "
                "AND conv_id = ? FOR UPDATE",
                user_id,
                conv_type,
                conv_id,
            )
            if found is None:
                return False
            yield many(
                "INSERT INTO msg_deletions (user_id, channel_id, seq) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(user_id, channel_id, seq) for seq in seqs],
            )
            yield execute(
                "UPDATE conversations SET changed = ? "
                "WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
                tx.tick(),
                user_id,
                conv_type,
                conv_id,
            )
            return True

        if not await self.engine.write(write):
            return None
        found = await self.engine.read(lambda: snapshots(user_id, [(conv_type, conv_id)]))
        return found[0] if found else None
