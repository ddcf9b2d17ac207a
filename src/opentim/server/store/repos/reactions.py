"""Message reactions: which users have which reaction on a message. Written once for both
engines; a write checks the limits (protocol/rules/reactions.py) under the store's one writer
lock, so two users adding at once cannot pass a limit together."""

from __future__ import annotations

from opentim.protocol.codes import ErrorCode
from opentim.protocol.reactions import Reaction
from opentim.protocol.rules.reactions import add_refusal, remove_refusal

from ..engine import Engine
from ..sql import Op, execute, rows, value
from ..writes import WriteTx

Users = dict[str, list[str]]
"""A message's reactions, each with its users."""


def _reactions(channel_id: str, seq: int) -> Op[dict[str, list[str]]]:
    """The message's reactions in the order they first appeared, each with its users in the
    order they reacted."""
    found = yield rows(
        "SELECT reaction_id, user_id FROM message_reactions WHERE channel_id = ? AND seq = ? "
        "ORDER BY n",
        channel_id,
        seq,
    )
    out: dict[str, list[str]] = {}
    for reaction_id, user_id in found:
        out.setdefault(reaction_id, []).append(user_id)
    return out


def reaction_of(reaction_id: str, users: list[str], max_users: int, me: str = "") -> Reaction:
    return Reaction(
        reaction_id=reaction_id,
        total=len(users),
        users=users[:max_users],
        by_me=bool(me) and me in users,
    )


class Reactions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def add(
        self, channel_id: str, seq: int, reaction_id: str, user_id: str
    ) -> tuple[ErrorCode | None, list[str]]:
        """Add ``user_id``'s ``reaction_id``: the refusal (nothing changed) or None, and the
        reaction's users after."""

        def write(tx: WriteTx) -> Op[tuple[ErrorCode | None, list[str]]]:
            present = yield from _reactions(channel_id, seq)
            users = present.get(reaction_id, [])
            refusal = add_refusal(reaction_id, list(present), users, user_id)
            if refusal is not None:
                return refusal, users
            n = yield value(
                "SELECT COALESCE(MAX(n), 0) FROM message_reactions WHERE channel_id = ? "
                "AND seq = ?",
                channel_id,
                seq,
            )
            yield execute(
                "INSERT INTO message_reactions (channel_id, seq, reaction_id, user_id, n) "
                "VALUES (?, ?, ?, ?, ?)",
                channel_id,
                seq,
                reaction_id,
                user_id,
                int(n) + 1,
            )
            return None, [*users, user_id]

        return await self.engine.write(write)

    async def remove(
        self, channel_id: str, seq: int, reaction_id: str, user_id: str
    ) -> tuple[ErrorCode | None, list[str]]:
        """Remove ``user_id``'s ``reaction_id``: the refusal or None, and the users after."""

        def write(tx: WriteTx) -> Op[tuple[ErrorCode | None, list[str]]]:
            present = yield from _reactions(channel_id, seq)
            users = present.get(reaction_id, [])
            refusal = remove_refusal(reaction_id, users, user_id)
            if refusal is not None:
                return refusal, users
            yield execute(
                "DELETE FROM message_reactions WHERE channel_id = ? AND seq = ? "
                "AND reaction_id = ? AND user_id = ?",
                channel_id,
                seq,
                reaction_id,
                user_id,
            )
            return None, [u for u in users if u != user_id]

        return await self.engine.write(write)

    async def of_messages(
        self, channel_id: str, seqs: list[int]
    ) -> dict[int, dict[str, list[str]]]:
        """The reactions of each of the channel's messages ``seqs`` (those with none left out)."""

        def read() -> Op[dict[int, Users]]:
            found = yield rows(
                "SELECT seq, reaction_id, user_id FROM message_reactions "
                "WHERE channel_id = ? AND seq = ANY(?) ORDER BY seq, n",
                channel_id,
                seqs,
            )
            out: dict[int, Users] = {}
            for seq, reaction_id, user_id in found:
                out.setdefault(int(seq), {}).setdefault(reaction_id, []).append(user_id)
            return out

        return await self.engine.read(read) if seqs else {}

    async def users(self, channel_id: str, seq: int, reaction_id: str) -> list[str]:
        """Who has ``reaction_id`` on the message, in the order they reacted."""
        found = await self.engine.read(lambda: _reactions(channel_id, seq))
        return found.get(reaction_id, [])
