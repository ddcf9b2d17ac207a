"""Groups: the group rows, their members, the membership and info tips, and the join
applications and invitations waiting for approval."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from opentim.protocol import (
    GroupInfo,
    GroupPendency,
    MemberInfo,
    MemberRole,
    Message,
    group_channel,
)
from opentim.protocol.rules import joiner

from ..base import DuplicateGroupError, GroupRow, NewMessage
from ..engine import Engine
from ..rows import custom_decoder, joined_group, member_row, pendency_row
from ..sql import Op, execute, many, row, rows, value
from ..writes import WriteTx

_json = msgspec.json.Encoder()

GROUP_COLS = (
    "g.group_id, g.name, g.group_type, g.owner, g.add_option, g.face_url, g.introduction, "
    "g.notification, g.create_time, m.role, m.join_time, h.max_seq, h.count, c.read_seq, "
    "c.read_count, (SELECT count(*) FROM members x WHERE x.group_id = g.group_id), "
    "g.approve_option, g.shutup_all, g.custom, g.info_seq, g.info_time, "
    "(SELECT server_time FROM messages t WHERE t.channel_id = h.channel_id AND t.seq = h.max_seq)"
)
"""A group and the member ``m`` reading it (``rows.joined_group``)."""
GROUP_FROM = (
    "FROM groups g JOIN channels h ON h.channel_id = 'g:' || g.group_id {kind} JOIN members m "
    "ON m.group_id = g.group_id AND m.user_id = ? LEFT JOIN conversations c "
    "ON c.user_id = m.user_id AND c.conv_type = 2 AND c.conv_id = g.group_id"
)
MEMBER_COLS = (
    "m.user_id, m.role, m.join_time, m.seq, m.name_card, m.mute_until, m.custom, c.recv_opt "
    "FROM members m LEFT JOIN conversations c ON c.user_id = m.user_id AND c.conv_type = 2 "
    "AND c.conv_id = m.group_id"
)
"""A member and their receive option (``rows.member_row``)."""
PENDENCY_COLS = (
    "p.group_id, p.from_user, p.to_user, p.pendency_type, p.add_time, p.pos, p.apply_msg, "
    "p.handler, p.result, p.handle_msg"
)
GROUP_CHANGES = frozenset(
    {
        "name",
        "notification",
        "introduction",
        "face_url",
        "add_option",
        "approve_option",
        "shutup_all",
        "custom",
    }
)
MEMBER_CHANGES = frozenset({"role", "name_card", "mute_until", "custom"})


def members_of(group_id: str) -> Op[dict[str, int]]:
    found = yield rows("SELECT user_id, role FROM members WHERE group_id = ?", group_id)
    return {r[0]: r[1] for r in found}


def _join(tx: WriteTx, group_id: str, members: dict[str, int], now: int) -> Op[None]:
    """Make them members; each gets the conversation (again), read up to now."""
    channel_id = group_channel(group_id)
    head = yield from tx.head(channel_id)
    clock = tx.tick()
    last: int = yield value("SELECT member_seq FROM groups WHERE group_id = ? FOR UPDATE", group_id)
    yield execute(
        "UPDATE groups SET member_seq = ? WHERE group_id = ?", last + len(members), group_id
    )
    yield many(
        "INSERT INTO members (group_id, user_id, role, join_time, seq) VALUES (?, ?, ?, ?, ?)",
        [
            (group_id, user_id, role, now, last + n)
            for n, (user_id, role) in enumerate(members.items(), start=1)
        ],
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
                "notification, create_time, approve_option, shutup_all, custom FROM groups "
                "WHERE group_id = ? AND dismissed = 0",
                group_id,
            )
            if not found:
                return None
            return GroupRow(
                group_id=found[0],
                name=found[1],
                group_type=found[2],
                owner=found[3],
                add_option=found[4],
                face_url=found[5],
                introduction=found[6],
                notification=found[7],
                create_time=found[8],
                approve_option=found[9],
                shutup_all=bool(found[10]),
                custom=custom_decoder.decode(found[11]),
            )

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
                "introduction, notification, create_time, approve_option, shutup_all, custom) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                group.group_id,
                group.name,
                group.group_type,
                group.owner,
                group.add_option,
                group.face_url,
                group.introduction,
                group.notification,
                group.create_time,
                group.approve_option,
                int(group.shutup_all),
                _json.encode(group.custom).decode(),
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
                f"SELECT {GROUP_COLS} {GROUP_FROM.format(kind='')} "
                "WHERE g.dismissed = 0 ORDER BY m.join_time, g.group_id",
                user_id,
            )
            return [joined_group(r) for r in found]

        return await self.engine.read(read)

    async def groups_info(self, user_id: str, group_ids: list[str]) -> list[GroupInfo]:
        """The groups of ``group_ids`` that exist, as ``user_id`` sees them (member or not)."""

        def read() -> Op[list[GroupInfo]]:
            found = yield rows(
                f"SELECT {GROUP_COLS} {GROUP_FROM.format(kind='LEFT')} "
                "WHERE g.group_id = ANY(?) AND g.dismissed = 0",
                user_id,
                group_ids,
            )
            return [joined_group(r) for r in found]

        return await self.engine.read(read) if group_ids else []

    async def modify_group(
        self,
        group_id: str,
        changes: dict[str, Any],
        tip: NewMessage,
        server_time: int,
        new_owner: str = "",
    ) -> Message:
        """Change the group's columns in ``changes`` (``custom`` is merged key by key; an empty
        value removes a key) and hand it to ``new_owner`` when given, at the tip."""
        unknown = set(changes) - GROUP_CHANGES
        if unknown:
            raise ValueError(f"not group columns: {sorted(unknown)}")

        def change(tx: WriteTx) -> Op[None]:
            values = dict(changes)
            if "custom" in values:
                stored = yield value(
                    "SELECT custom FROM groups WHERE group_id = ? FOR UPDATE", group_id
                )
                values["custom"] = _merged(stored, values["custom"])
            if "shutup_all" in values:
                values["shutup_all"] = int(values["shutup_all"])
            sets = "".join(f"{col} = ?, " for col in values)
            yield execute(
                f"UPDATE groups SET {sets}info_seq = info_seq + 1, info_time = ? "
                "WHERE group_id = ?",
                *values.values(),
                server_time,
                group_id,
            )
            if new_owner:
                yield execute(
                    "UPDATE members SET role = ? WHERE group_id = ? AND role = ?",
                    int(MemberRole.NORMAL),
                    group_id,
                    int(MemberRole.OWNER),
                )
                yield execute(
                    "UPDATE members SET role = ? WHERE group_id = ? AND user_id = ?",
                    int(MemberRole.OWNER),
                    group_id,
                    new_owner,
                )
                yield execute("UPDATE groups SET owner = ? WHERE group_id = ?", new_owner, group_id)

        def write(tx: WriteTx) -> Op[Message]:
            msg = yield from tx.append(tip, server_time)
            yield from change(tx)
            if new_owner:
                yield from tx.members_changed(group_id)
            return msg

        return await self.engine.write(write)

    async def members_info(self, group_id: str, user_ids: list[str]) -> list[MemberInfo]:
        """The members among ``user_ids``, in the order asked."""

        def read() -> Op[list[MemberInfo]]:
            found = yield rows(
                f"SELECT {MEMBER_COLS} WHERE m.group_id = ? AND m.user_id = ANY(?)",
                group_id,
                user_ids,
            )
            by_id = {m.user_id: m for m in map(member_row, found)}
            return [by_id[u] for u in user_ids if u in by_id]

        return await self.engine.read(read) if user_ids else []

    async def member_page(
        self, group_id: str, roles: list[int], after_seq: int, limit: int
    ) -> list[MemberInfo]:
        """Members with one of ``roles`` that joined after the member numbered ``after_seq``,
        in the order of joining, at most ``limit``."""

        def read() -> Op[list[MemberInfo]]:
            found = yield rows(
                f"SELECT {MEMBER_COLS} WHERE m.group_id = ? AND m.role = ANY(?) AND m.seq > ? "
                "ORDER BY m.seq LIMIT ?",
                group_id,
                roles,
                after_seq,
                limit,
            )
            return [member_row(r) for r in found]

        return await self.engine.read(read)

    async def sender_state(self, group_id: str, user_id: str) -> tuple[bool, int, int] | None:
        """What sending to the group depends on, in one read: whether the group is muted, the
        user's role in it (0 when not a member) and when their mute ends; None when there is
        no such group."""

        def read() -> Op[tuple[bool, int, int] | None]:
            found = yield row(
                "SELECT g.shutup_all, m.role, m.mute_until FROM groups g LEFT JOIN members m "
                "ON m.group_id = g.group_id AND m.user_id = ? "
                "WHERE g.group_id = ? AND g.dismissed = 0",
                user_id,
                group_id,
            )
            return (bool(found[0]), found[1] or 0, found[2] or 0) if found else None

        return await self.engine.read(read)

    async def modify_member(
        self,
        group_id: str,
        user_id: str,
        changes: dict[str, Any],
        tip: NewMessage | None,
        server_time: int,
    ) -> Message | None:
        """Change the member's columns in ``changes`` (``custom`` merged key by key), with a
        tip when one is given; returns the tip as stored."""
        unknown = set(changes) - MEMBER_CHANGES
        if unknown:
            raise ValueError(f"not member columns: {sorted(unknown)}")

        def write(tx: WriteTx) -> Op[Message | None]:
            msg = (yield from tx.append(tip, server_time)) if tip is not None else None
            values = dict(changes)
            if "custom" in values:
                stored = yield value(
                    "SELECT custom FROM members WHERE group_id = ? AND user_id = ? FOR UPDATE",
                    group_id,
                    user_id,
                )
                values["custom"] = _merged(stored, values["custom"])
            sets = ", ".join(f"{col} = ?" for col in values)
            if sets:
                yield execute(
                    f"UPDATE members SET {sets} WHERE group_id = ? AND user_id = ?",
                    *values.values(),
                    group_id,
                    user_id,
                )
            if "role" in values:
                yield from tx.members_changed(group_id)
            return msg

        return await self.engine.write(write)

    # --- join applications and invitations waiting for approval ---------------------------
    async def put_pendency(self, p: GroupPendency) -> GroupPendency:
        """Store an application or invitation (a new one replaces an earlier one of the same
        users to the same group); returns it with its position."""

        def write(tx: WriteTx) -> Op[GroupPendency]:
            stored = msgspec.structs.replace(p, pos=tx.tick(), handler="", result=0, handle_msg="")
            yield execute(
                "INSERT INTO group_pendencies (group_id, from_user, to_user, pendency_type, "
                "add_time, pos, apply_msg, handler, result, handle_msg) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (group_id, from_user, to_user) DO UPDATE SET "
                "pendency_type = excluded.pendency_type, add_time = excluded.add_time, "
                "pos = excluded.pos, apply_msg = excluded.apply_msg, handler = '', result = 0, "
                "handle_msg = ''",
                stored.group_id,
                stored.from_user,
                stored.to_user,
                stored.pendency_type,
                stored.add_time,
                stored.pos,
                stored.apply_msg,
                "",
                0,
                "",
            )
            return stored

        return await self.engine.write(write)

    async def get_pendency(
        self, group_id: str, from_user: str, to_user: str
    ) -> GroupPendency | None:
        def read() -> Op[GroupPendency | None]:
            return (yield from _pendency(group_id, from_user, to_user, lock=False))

        return await self.engine.read(read)

    async def handle_pendency(
        self,
        p: GroupPendency,
        join_tip: NewMessage | None,
        server_time: int,
    ) -> tuple[bool, Message | None]:
        """Record ``p`` as handled (its ``handler``, ``result`` and ``handle_msg``) if it is
        still unhandled, and, with ``join_tip``, make its joiner a member at the tip. Returns
        whether it was still unhandled, and the tip as stored."""

        def write(tx: WriteTx) -> Op[tuple[bool, Message | None]]:
            now = yield from _pendency(p.group_id, p.from_user, p.to_user, lock=True)
            if now is None or now.handler or now.pos != p.pos:
                return False, None
            yield execute(
                "UPDATE group_pendencies SET handler = ?, result = ?, handle_msg = ? "
                "WHERE group_id = ? AND from_user = ? AND to_user = ?",
                p.handler,
                p.result,
                p.handle_msg,
                p.group_id,
                p.from_user,
                p.to_user,
            )
            if join_tip is None:
                return True, None
            members = {joiner(p): int(MemberRole.NORMAL)}
            msg = yield from _tipped(
                tx,
                p.group_id,
                join_tip,
                server_time,
                lambda msg: _join(tx, p.group_id, members, server_time),
            )
            return True, msg

        return await self.engine.write(write)

    async def pendencies(self, user_id: str, before_pos: int, limit: int) -> list[GroupPendency]:
        """The applications and invitations ``user_id`` sent, or may handle (as the owner or an
        admin of the group), newest first, below position ``before_pos`` (0: from the newest)."""

        def read() -> Op[list[GroupPendency]]:
            found = yield rows(
                f"SELECT {PENDENCY_COLS} FROM group_pendencies p JOIN groups g "
                "ON g.group_id = p.group_id AND g.dismissed = 0 "
                f"WHERE ({_SEES}) AND p.pos < ? ORDER BY p.pos DESC LIMIT ?",
                user_id,
                user_id,
                user_id,
                int(MemberRole.ADMIN),
                before_pos or NEWEST,
                limit,
            )
            return [pendency_row(r) for r in found]

        return await self.engine.read(read)

    async def unread_pendencies(self, user_id: str) -> tuple[int, int]:
        """When ``user_id`` last read their pendencies, and how many unhandled ones they may
        handle came after that."""

        def read() -> Op[tuple[int, int]]:
            read_time = yield value(
                "SELECT read_time FROM group_pendency_reads WHERE user_id = ?", user_id
            )
            count = yield value(
                "SELECT count(*) FROM group_pendencies p JOIN groups g "
                "ON g.group_id = p.group_id AND g.dismissed = 0 JOIN members m "
                "ON m.group_id = p.group_id AND m.user_id = ? AND m.role >= ? "
                "WHERE p.handler = '' AND p.add_time > ? AND p.from_user <> ?",
                user_id,
                int(MemberRole.ADMIN),
                read_time or 0,
                user_id,
            )
            return read_time or 0, count

        return await self.engine.read(read)

    async def read_pendencies(self, user_id: str, read_time: int) -> None:
        """Pendencies up to ``read_time`` are read (a read time never goes back)."""

        def write(tx: WriteTx) -> Op[None]:
            yield execute(
                "INSERT INTO group_pendency_reads (user_id, read_time) VALUES (?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET read_time = "
                "GREATEST(group_pendency_reads.read_time, excluded.read_time)",
                user_id,
                read_time,
            )

        await self.engine.write(write)

    async def managers(self, group_id: str) -> list[str]:
        """The owner and admins."""

        def read() -> Op[list[str]]:
            found = yield rows(
                "SELECT user_id FROM members WHERE group_id = ? AND role >= ? ORDER BY user_id",
                group_id,
                int(MemberRole.ADMIN),
            )
            return [r[0] for r in found]

        return await self.engine.read(read)


NEWEST = 1 << 62
"""A position above every pendency's."""
_SEES = (
    "p.from_user = ? OR p.to_user = ? OR EXISTS (SELECT 1 FROM members x "
    "WHERE x.group_id = p.group_id AND x.user_id = ? AND x.role >= ?)"
)
"""The pendencies a user sees: their own, and those of the groups they manage."""


def _merged(stored: str | None, changes: dict[str, str]) -> str:
    """Custom fields ``stored`` (JSON) with ``changes`` applied: an empty value removes a key."""
    custom = custom_decoder.decode(stored or "{}")
    for key, val in changes.items():
        if val:
            custom[key] = val
        else:
            custom.pop(key, None)
    return _json.encode(custom).decode()


def _pendency(
    group_id: str, from_user: str, to_user: str, *, lock: bool
) -> Op[GroupPendency | None]:
    found = yield row(
        f"SELECT {PENDENCY_COLS} FROM group_pendencies p WHERE p.group_id = ? "
        f"AND p.from_user = ? AND p.to_user = ?{' FOR UPDATE' if lock else ''}",
        group_id,
        from_user,
        to_user,
    )
    return pendency_row(found) if found else None
