"""Groups: the group rows, their members, and the membership tips."""

from __future__ import annotations

from collections.abc import Callable

from opentim.protocol import GroupInfo, Message, group_channel

from ..base import DuplicateGroupError, GroupRow, NewMessage
from ..engine import Engine
from ..rows import joined_group
from ..sql import Op, execute, many, row, rows, value
from ..writes import WriteTx


def members_of(group_id: str) -> Op[dict[str, int]]:
    found = yield rows("SELECT user_id, role FROM members WHERE group_id = ?", group_id)
    return {r[0]: r[1] for r in found}


def _join(tx: WriteTx, group_id: str, members: dict[str, int], now: int) -> Op[None]:
    """Make them members; each gets the conversation (again), read up to now."""
    channel_id = group_channel(group_id)
    head = yield from tx.head(channel_id)
    clock = tx.tick()
    yield many(
        "INSERT INTO members (group_id, user_id, role, join_time) VALUES (?, ?, ?, ?)",
        [(group_id, user_id, role, now) for user_id, role in members.items()],
    )
    yield many(
        "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, read_seq, "
        "read_count, changed) VALUES (?, 2, ?, ?, ?, ?, ?) "
        "ON CONFLICT (user_id, conv_type, conv_id) DO UPDATE SET end_seq = NULL, "
        "end_count = NULL, end_activity = NULL, read_seq = excluded.read_seq, "
        "read_count = excluded.read_count, changed = excluded.changed, deleted = 0, "
        "deleted_up_to = excluded.read_seq, cleared_up_to = excluded.read_seq",
        [(u, group_id, channel_id, head.max_seq, head.count, clock) for u in members],
    )
    for user_id in members:
        tx.conv_exists((user_id, 2, group_id))


def _end(tx: WriteTx, group_id: str, user_ids: list[str], tip: Message) -> Op[None]:
    """End their membership at ``tip``: their conversations stop there."""
    clock = tx.tick()
    yield execute("DELETE FROM members WHERE group_id = ? AND user_id = ANY(?)", group_id, user_ids)
    yield execute(
        "UPDATE conversations SET end_seq = ?, end_count = ?, end_activity = ?, changed = ? "
        "WHERE conv_type = 2 AND conv_id = ? AND user_id = ANY(?)",
        tip.seq,
        tip.count,
        tip.activity,
        clock,
        group_id,
        user_ids,
    )


def _tipped(
    tx: WriteTx,
    group_id: str,
    tip: NewMessage,
    server_time: int,
    change: Callable[[Message], Op[None]],
    dismissed: bool = False,
) -> Op[Message]:
    """Append the membership tip, then ``change`` the membership at it."""
    msg = yield from tx.append(tip, server_time)
    yield from change(msg)
    yield from tx.members_changed(group_id, dismissed)
    return msg


class Groups:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def get_group(self, group_id: str) -> GroupRow | None:
        def read() -> Op[GroupRow | None]:
            found = yield row(
                "SELECT group_id, name, group_type, owner, add_option, face_url, introduction, "
                "notification, create_time FROM groups WHERE group_id = ? AND dismissed = 0",
                group_id,
            )
            return GroupRow(*found) if found else None

        return await self.engine.read(read)

    async def get_members(self, group_id: str) -> dict[str, int]:
        """Members and roles, as committed (an engine that owns its database caches them,
        updated only after each membership commit)."""
        cache = self.engine.member_cache
        if cache is None:
            return await self.engine.read(lambda: members_of(group_id))
        cached = cache.get(group_id)
        if cached is not None:
            return cached
        members = await self.engine.read(lambda: members_of(group_id))
        return cache.setdefault(group_id, members)

    async def member_role(self, group_id: str, user_id: str) -> int | None:
        """The user's role in the group, None when not a member (one row, not the whole list)."""
        if self.engine.member_cache is not None:
            return (await self.get_members(group_id)).get(user_id)

        def read() -> Op[int | None]:
            role: int | None = yield value(
                "SELECT role FROM members WHERE group_id = ? AND user_id = ?", group_id, user_id
            )
            return role

        return await self.engine.read(read)

    async def create_group(
        self, group: GroupRow, members: dict[str, int], tip: NewMessage, server_time: int
    ) -> Message:
        """Create the group with its members; each gets the conversation, the tip already read."""

        def write(tx: WriteTx) -> Op[Message]:
            taken = yield value("SELECT 1 FROM groups WHERE group_id = ?", group.group_id)
            if taken:
                raise DuplicateGroupError(group.group_id)
            yield execute(
                "INSERT INTO groups (group_id, name, group_type, owner, add_option, face_url, "
                "introduction, notification, create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                group.group_id,
                group.name,
                group.group_type,
                group.owner,
                group.add_option,
                group.face_url,
                group.introduction,
                group.notification,
                group.create_time,
            )
            return (
                yield from _tipped(
                    tx,
                    group.group_id,
                    tip,
                    server_time,
                    lambda msg: _join(tx, group.group_id, members, server_time),
                )
            )

        return await self.engine.write(write)

    async def add_members(
        self, group_id: str, members: dict[str, int], tip: NewMessage, server_time: int
    ) -> Message:
        return await self.engine.write(
            lambda tx: _tipped(
                tx,
                group_id,
                tip,
                server_time,
                lambda msg: _join(tx, group_id, members, server_time),
            )
        )

    async def remove_members(
        self, group_id: str, user_ids: list[str], tip: NewMessage, server_time: int
    ) -> Message:
        return await self.engine.write(
            lambda tx: _tipped(
                tx, group_id, tip, server_time, lambda msg: _end(tx, group_id, user_ids, msg)
            )
        )

    async def dismiss_group(self, group_id: str, tip: NewMessage, server_time: int) -> Message:
        def dismiss(tx: WriteTx, msg: Message) -> Op[None]:
            members = yield from members_of(group_id)
            yield from _end(tx, group_id, list(members), msg)
            yield execute("UPDATE groups SET dismissed = 1 WHERE group_id = ?", group_id)

        return await self.engine.write(
            lambda tx: _tipped(
                tx, group_id, tip, server_time, lambda msg: dismiss(tx, msg), dismissed=True
            )
        )

    async def joined_groups(self, user_id: str) -> list[GroupInfo]:
        def read() -> Op[list[GroupInfo]]:
            found = yield rows(
                "SELECT g.group_id, g.name, g.group_type, g.owner, g.add_option, g.face_url, "
                "g.introduction, g.notification, g.create_time, m.role, m.join_time, "
                "h.max_seq, h.count, c.read_seq, c.read_count, "
                "(SELECT count(*) FROM members x WHERE x.group_id = g.group_id) "
                "FROM members m JOIN groups g ON g.group_id = m.group_id "
                "JOIN channels h ON h.channel_id = 'g:' || g.group_id "
                "LEFT JOIN conversations c ON c.user_id = m.user_id AND c.conv_type = 2 "
                "AND c.conv_id = g.group_id "
                "WHERE m.user_id = ? AND g.dismissed = 0 ORDER BY m.join_time, g.group_id",
                user_id,
            )
            return [joined_group(r) for r in found]

        return await self.engine.read(read)
