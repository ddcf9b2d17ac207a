"""Conversation groups (folders): a user's named lists of conversations."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from opentim.protocol import Conversation
from opentim.protocol.rules import is_tombstone

from ..base import DuplicateConvGroupError, Key
from ..engine import Engine
from ..rows import strs_decoder
from ..sql import Op, execute, key_lists, many, rows, value
from ..writes import WriteTx
from .conversations import snapshots

_json = msgspec.json.Encoder()


def _set_cgroups(
    tx: WriteTx, user_id: str, keys: list[Key], edit: Callable[[list[str]], None]
) -> Op[None]:
    """Edit the list of group names of each of ``keys`` and move its change position (one
    tick each, in the order of ``keys``)."""
    if not keys:
        return
    found = yield rows(
        "SELECT conv_type, conv_id, cgroups FROM conversations WHERE user_id = ? "
        "AND (conv_type, conv_id) IN KEYS(?, ?)",
        user_id,
        *key_lists(keys),
    )
    names_of = {(r[0], r[1]): strs_decoder.decode(r[2]) for r in found}
    updates = []
    for key in keys:
        names = names_of[key]
        edit(names)
        updates.append((_json.encode(names).decode(), tx.tick(), user_id, *key))
    yield many(
        "UPDATE conversations SET cgroups = ?, changed = ? "
        "WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
        updates,
    )


def _group_exists(user_id: str, name: str) -> Op[bool]:
    found = yield value("SELECT 1 FROM conv_groups WHERE user_id = ? AND name = ?", user_id, name)
    return found is not None


def _group_keys(user_id: str, name: str) -> Op[list[Key]]:
    found = yield rows(
        "SELECT conv_type, conv_id FROM conv_group_items WHERE user_id = ? AND name = ? "
        "ORDER BY added",
        user_id,
        name,
    )
    return [(r[0], r[1]) for r in found]


def _live_keys(tx: WriteTx, user_id: str, keys: list[Key]) -> Op[list[Key]]:
    """Those of ``keys`` the user has a visible conversation for, in the order given."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return []
    found = yield rows(
        "SELECT conv_type, conv_id, channel_id, deleted, deleted_up_to FROM conversations "
        "WHERE user_id = ? AND (conv_type, conv_id) IN KEYS(?, ?)",
        user_id,
        *key_lists(wanted),
    )
    yield from tx.load_heads([r[2] for r in found])
    live = {
        (r[0], r[1]) for r in found if not is_tombstone(bool(r[3]), r[4], tx.heads[r[2]].max_seq)
    }
    return [key for key in wanted if key in live]


def _add_items(
    tx: WriteTx, user_id: str, name: str, keys: list[Key], max_items: int
) -> Op[tuple[list[Key], list[Key]]]:
    present = set((yield from _group_keys(user_id, name)))
    added = [key for key in (yield from _live_keys(tx, user_id, keys)) if key not in present]
    if added:
        yield many(
            "INSERT INTO conv_group_items (user_id, name, conv_type, conv_id, added) "
            "VALUES (?, ?, ?, ?, ?)",
            [(user_id, name, *key, tx.tick()) for key in added],
        )
        yield from _set_cgroups(tx, user_id, added, lambda names: names.append(name))
    evicted: list[Key] = []
    over = len(present) + len(added) - max_items
    if over > 0:
        evicted = (yield from _group_keys(user_id, name))[:over]
        yield from _remove_items(tx, user_id, name, evicted)
    return added, evicted


def _remove_items(tx: WriteTx, user_id: str, name: str, keys: list[Key]) -> Op[list[Key]]:
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return []
    found = yield rows(
        "DELETE FROM conv_group_items WHERE user_id = ? AND name = ? "
        "AND (conv_type, conv_id) IN KEYS(?, ?) RETURNING conv_type, conv_id",
        user_id,
        name,
        *key_lists(wanted),
    )
    gone = {(r[0], r[1]) for r in found}
    removed = [key for key in wanted if key in gone]
    yield from _set_cgroups(
        tx, user_id, removed, lambda names: names.remove(name) if name in names else None
    )
    return removed


class ConvGroups:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def _snapshots(self, user_id: str, keys: list[Key]) -> list[Conversation]:
        return await self.engine.read(lambda: snapshots(user_id, keys)) if keys else []

    async def _group_write(
        self, user_id: str, op: Callable[[WriteTx], Op[list[Key] | None]]
    ) -> list[Conversation] | None:
        keys = await self.engine.write(op)
        return None if keys is None else await self._snapshots(user_id, keys)

    async def conv_groups(self, user_id: str) -> list[str]:
        """The user's conversation group names, in creation order."""

        def read() -> Op[list[str]]:
            found = yield rows(
                "SELECT name FROM conv_groups WHERE user_id = ? ORDER BY created, name", user_id
            )
            return [r[0] for r in found]

        return await self.engine.read(read)

    async def create_conv_group(
        self, user_id: str, name: str, keys: list[Key], now: int
    ) -> list[Conversation]:
        """Create a group holding ``keys`` (those the user has); raise DuplicateConvGroupError
        when the name is taken. Returns the snapshots of the conversations added."""

        def write(tx: WriteTx) -> Op[list[Key] | None]:
            if (yield from _group_exists(user_id, name)):
                raise DuplicateConvGroupError(name)
            yield execute(
                "INSERT INTO conv_groups (user_id, name, created) VALUES (?, ?, ?)",
                user_id,
                name,
                tx.tick(),
            )
            return (yield from _add_items(tx, user_id, name, keys, len(keys)))[0]

        return await self._group_write(user_id, write) or []

    async def delete_conv_group(self, user_id: str, name: str) -> list[Conversation] | None:
        """Delete the group; the snapshots of its conversations, or None when it does not exist."""

        def write(tx: WriteTx) -> Op[list[Key] | None]:
            if not (yield from _group_exists(user_id, name)):
                return None
            members = yield from _group_keys(user_id, name)
            keys = yield from _remove_items(tx, user_id, name, members)
            yield execute("DELETE FROM conv_groups WHERE user_id = ? AND name = ?", user_id, name)
            return keys

        return await self._group_write(user_id, write)

    async def rename_conv_group(
        self, user_id: str, name: str, new_name: str
    ) -> list[Conversation] | None:
        """Rename; raise DuplicateConvGroupError when ``new_name`` is taken; None when ``name``
        does not exist. Returns the snapshots of its conversations."""

        def write(tx: WriteTx) -> Op[list[Key] | None]:
            if not (yield from _group_exists(user_id, name)):
                return None
            if (yield from _group_exists(user_id, new_name)):
                raise DuplicateConvGroupError(new_name)
            keys = yield from _group_keys(user_id, name)
            for table in ("conv_groups", "conv_group_items"):
                yield execute(
                    f"UPDATE {table} SET name = ? WHERE user_id = ? AND name = ?",
                    new_name,
                    user_id,
                    name,
                )

            def rename(names: list[str]) -> None:
                names[names.index(name)] = new_name

            yield from _set_cgroups(tx, user_id, keys, rename)
            return keys

        return await self._group_write(user_id, write)

    async def add_to_conv_group(
        self, user_id: str, name: str, keys: list[Key], max_items: int
    ) -> tuple[list[Conversation], list[Conversation]] | None:
        """Add conversations (already members are left as they are); past ``max_items`` the
        earliest added are evicted. Returns (added, evicted) snapshots, None for no group."""

        def write(tx: WriteTx) -> Op[tuple[list[Key], list[Key]] | None]:
            if not (yield from _group_exists(user_id, name)):
                return None
            return (yield from _add_items(tx, user_id, name, keys, max_items))

        found = await self.engine.write(write)
        if found is None:
            return None
        added, evicted = found
        return (
            await self._snapshots(user_id, [k for k in added if k not in evicted]),
            await self._snapshots(user_id, evicted),
        )

    async def remove_from_conv_group(
        self, user_id: str, name: str, keys: list[Key]
    ) -> list[Conversation] | None:
        """Remove conversations from the group; the snapshots of those that were in it."""

        def write(tx: WriteTx) -> Op[list[Key] | None]:
            if not (yield from _group_exists(user_id, name)):
                return None
            return (yield from _remove_items(tx, user_id, name, keys))

        return await self._group_write(user_id, write)
