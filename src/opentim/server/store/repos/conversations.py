"""Conversations: snapshots, sync pages, and changes (the rules are protocol.rules')."""

from __future__ import annotations

from typing import Any

import msgspec

from opentim.protocol import AtInfo, AtType, Conversation, ConvType, Message, SyncToken, channel_of
from opentim.protocol.cursors import FRESH, FULL, INCREMENTAL
from opentim.protocol.limits import MAX_AT_INFO
from opentim.protocol.rules import (
    ConvChange,
    ConvState,
    apply_change,
    created_state,
    read_position,
)

from ..base import Key
from ..engine import Engine
from ..rows import (
    CONV_EXTRA,
    CONV_SELECT,
    FLAG_EXCLUDED_LAST,
    MENTION_ALL,
    MSG_COLS,
    MSG_FROM,
    NOT_DELETED,
    conversation_row,
    draft_row,
    from_db_u64,
    message_row,
    strs_decoder,
    to_db_u64,
)
from ..sql import Op, execute, key_lists, row, rows, value
from ..writes import WriteTx

_json = msgspec.json.Encoder()
_POS = "GREATEST(c.changed, CASE WHEN c.end_seq IS NULL THEN h.changed ELSE c.end_activity END)"


def snapshots(user_id: str, keys: list[Key]) -> Op[list[Conversation]]:
    """The user's conversations among ``keys``, in the order asked (unknown ones omitted): one
    query, plus one for the pending mentions of the group conversations with something unread,
    and one per conversation whose last message the user deleted (the one before it shows)."""
    if not keys:
        return []
    found_rows = yield rows(
        CONV_SELECT + " WHERE c.user_id = ? AND (c.conv_type, c.conv_id) IN KEYS(?, ?)",
        user_id,
        *key_lists(keys),
    )
    found: dict[Key, Conversation] = {}
    pending: dict[str, tuple[Conversation, int]] = {}
    for r in found_rows:
        conv = found[(r[0], r[1])] = conversation_row(r)
        channel_id, cleared = r[CONV_EXTRA + 7], r[CONV_EXTRA + 5]
        if r[CONV_EXTRA + 6] is not None:
            # The last message was deleted for this user: the one before it follows.
            conv.last_msg = yield from _last_kept(user_id, channel_id, r[21], cleared)
        if conv.conv_type == ConvType.GROUP and not conv.deleted and conv.max_seq > conv.read_seq:
            pending[channel_id] = (conv, max(conv.read_seq, cleared))
    if pending:
        yield from _at_info(user_id, pending)
    return [found[k] for k in keys if k in found]


def _last_kept(user_id: str, channel_id: str, below: int, cleared: int) -> Op[Message | None]:
    found = yield row(
        f"SELECT {MSG_COLS} {MSG_FROM} WHERE m.channel_id = ? AND m.seq < ? AND m.seq > ? "
        f"AND (m.flags & ?) = 0 AND {NOT_DELETED} ORDER BY m.seq DESC LIMIT 1",
        channel_id,
        below,
        cleared,
        FLAG_EXCLUDED_LAST,
        user_id,
    )
    return message_row(found) if found else None


def _at_info(user_id: str, pending: dict[str, tuple[Conversation, int]]) -> Op[None]:
    """Set the pending mentions of ``user_id`` (or @all) of each conversation, those after its
    read position (``pending``: channel id to the conversation and that seq), in one query.
    The mentions index is written at send time for the mentioned users only (cost per mention,
    not per member) and read only for group conversations with something unread."""
    found = yield rows(
        "SELECT channel_id, seq, user_id FROM mentions WHERE channel_id = ANY(?) "
        "AND user_id IN (?, ?) AND seq > ? ORDER BY channel_id, seq",
        list(pending),
        user_id,
        MENTION_ALL,
        min(after for _, after in pending.values()),
    )
    by_channel: dict[str, dict[int, int]] = {}
    for channel_id, seq, who in found:
        conv, after = pending[channel_id]
        if not after < seq <= conv.max_seq:
            continue
        bit = AtType.AT_ALL if who == MENTION_ALL else AtType.AT_ME
        by_seq = by_channel.setdefault(channel_id, {})
        by_seq[seq] = by_seq.get(seq, 0) | bit
    for channel_id, by_seq in by_channel.items():
        at_info = [AtInfo(seq=seq, at_type=at_type) for seq, at_type in by_seq.items()]
        pending[channel_id][0].at_info = at_info[-MAX_AT_INFO:]


def _full_page(
    user_id: str, token: SyncToken, limit: int
) -> Op[tuple[list[Conversation], SyncToken, bool]]:
    horizon = token.horizon
    if token.phase == FRESH:
        horizon = yield value("SELECT value FROM meta WHERE key = 'clock'")
    keys = yield rows(
        "SELECT conv_type, conv_id FROM conversations WHERE user_id = ? "
        "AND (conv_type, conv_id) > (?, ?) ORDER BY conv_type, conv_id LIMIT ?",
        user_id,
        token.after_type,
        token.after_id,
        limit + 1,
    )
    page = [(r[0], r[1]) for r in keys[:limit]]
    convs = yield from snapshots(user_id, page)
    if len(keys) > limit:
        last_type, last_id = page[-1]
        after = SyncToken(phase=FULL, horizon=horizon, after_type=last_type, after_id=last_id)
    else:
        # The pass is complete as of the horizon: what changed since comes incrementally.
        after = SyncToken(phase=INCREMENTAL, pos=horizon)
    return convs, after, True


def _changes_page(
    user_id: str, token: SyncToken, limit: int
) -> Op[tuple[list[Conversation], SyncToken, bool]]:
    # Find the page by position first, then build only those snapshots.
    keys = yield rows(
        f"SELECT c.conv_type, c.conv_id, {_POS} FROM conversations c "
        "JOIN channels h ON h.channel_id = c.channel_id "
        f"WHERE c.user_id = ? AND {_POS} > ? ORDER BY {_POS} LIMIT ?",
        user_id,
        token.pos,
        limit + 1,
    )
    more = len(keys) > limit
    keys = keys[:limit]
    convs = yield from snapshots(user_id, [(r[0], r[1]) for r in keys])
    return convs, SyncToken(phase=INCREMENTAL, pos=keys[-1][2]) if keys else token, more


_STATE_COLS = (
    "read_seq, read_count, pinned, draft, draft_time, bump, deleted, deleted_up_to, "
    "cleared_up_to, end_seq, marks, hide_seq, custom_data, recv_opt, cgroups, changed"
)
_WHERE = "WHERE user_id = ? AND conv_type = ? AND conv_id = ?"


def _state_of(r: Any) -> ConvState:
    return ConvState(
        read_seq=r[0],
        read_count=r[1],
        pinned=bool(r[2]),
        draft=draft_row(r[3], r[4]),
        draft_time=r[4],
        bump=r[5],
        deleted=bool(r[6]),
        deleted_up_to=r[7],
        cleared_up_to=r[8],
        end_seq=r[9],
        marks=from_db_u64(r[10]),
        hide_seq=r[11],
        custom_data=r[12],
        recv_opt=r[13],
        groups=strs_decoder.decode(r[14]),
        changed=r[15],
    )


def _columns(state: ConvState) -> dict[str, Any]:
    """The row's columns as stored."""
    return {
        "read_seq": state.read_seq,
        "read_count": state.read_count,
        "pinned": int(state.pinned),
        "draft": None if state.draft is None else _json.encode(state.draft).decode(),
        "draft_time": state.draft_time,
        "bump": state.bump,
        "deleted": int(state.deleted),
        "deleted_up_to": state.deleted_up_to,
        "cleared_up_to": state.cleared_up_to,
        "marks": to_db_u64(state.marks),
        "hide_seq": state.hide_seq,
        "custom_data": state.custom_data,
        "recv_opt": state.recv_opt,
        "cgroups": _json.encode(state.groups).decode(),
        "changed": state.changed,
    }


def _changed_columns(before: ConvState, after: ConvState) -> dict[str, Any]:
    old, new = _columns(before), _columns(after)
    return {k: v for k, v in new.items() if old[k] != v}


def _create(tx: WriteTx, where: tuple[str, int, str], change: ConvChange) -> Op[None]:
    """Insert the row a ``create`` or ``ensure`` makes."""
    channel_id = channel_of(*where)
    head = yield from tx.head(channel_id)
    tx.save_head(channel_id)  # a channel with no message yet gets its head row
    state = created_state(change, head.max_seq, head.count, tx.tick())
    cols = _columns(state)
    yield execute(
        f"INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, "
        f"{', '.join(cols)}) VALUES (?, ?, ?, ?{', ?' * len(cols)})",
        *where,
        channel_id,
        *cols.values(),
    )
    tx.conv_exists(where)


def change_one(tx: WriteTx, where: tuple[str, int, str], change: ConvChange) -> Op[bool]:
    """Apply ``change`` to one conversation; whether the user has it (afterwards)."""
    select = f"SELECT {_STATE_COLS} FROM conversations {_WHERE} FOR UPDATE"
    found = yield row(select, *where)
    if found is None:
        if not (change.create or change.ensure):
            return False
        yield from _create(tx, where, change)
        if change.only_creates:
            return True
        found = yield row(select, *where)
    before = _state_of(found)
    channel_id = channel_of(*where)
    head = yield from tx.head(channel_id)
    seq = read_position(before, change, head.max_seq)
    count = 0
    if seq is not None:
        count = (
            yield value(
                "SELECT count FROM messages WHERE channel_id = ? AND seq = ?", channel_id, seq
            )
        ) or 0
    after = apply_change(before, change, head.max_seq, tx.clock + 1, count)
    if after is None:
        return False
    if after is before:
        return True
    tx.tick()
    cols = _changed_columns(before, after)
    yield execute(
        f"UPDATE conversations SET {', '.join(f'{k} = ?' for k in cols)} {_WHERE}",
        *cols.values(),
        *where,
    )
    if where[1] == ConvType.C2C and after.read_seq != before.read_seq:
        # The peer's snapshot carries how far this user read (``peer_read_seq``, shown as
        # ``message_is_peer_read``): it changes too, so the peer's devices sync it.
        yield execute(
            f"UPDATE conversations SET changed = ? {_WHERE}", after.changed, where[2], 1, where[0]
        )
    if after.groups != before.groups and not after.groups:
        yield execute(
            "DELETE FROM conv_group_items WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
            *where,
        )
    return True


class Conversations:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def get_conversations(self, user_id: str, keys: list[Key]) -> list[Conversation]:
        """The user's conversations among ``keys``, in the order asked; unknown ones omitted."""
        return await self.engine.read(lambda: snapshots(user_id, keys)) if keys else []

    async def sync_conversations(
        self, user_id: str, token: SyncToken, limit: int
    ) -> tuple[list[Conversation], SyncToken, bool]:
        """A page of the user's conversations after ``token`` (see protocol/cursors.py), the
        token to continue from, and whether more may follow.

        A full pass pages by key (each page costs the same, however many conversations the
        user has), then hands over to incremental sync from the clock at the pass's start; an
        incremental page holds the conversations changed after ``token.pos``, oldest change
        first. Each page is read in one snapshot, so the clock and the rows agree.
        """
        if token.phase != INCREMENTAL:
            return await self.engine.read(lambda: _full_page(user_id, token, limit), snapshot=True)
        return await self.engine.read(lambda: _changes_page(user_id, token, limit), snapshot=True)

    async def change_conversation(
        self, user_id: str, conv_type: int, conv_id: str, change: ConvChange
    ) -> Conversation | None:
        """Apply ``change``; the conversation after it, or None when the user has none."""
        return (await self.change_conversations(user_id, [(conv_type, conv_id)], change))[0]

    async def change_conversations(
        self, user_id: str, keys: list[Key], change: ConvChange
    ) -> list[Conversation | None]:
        """Apply one change to several conversations in one transaction; each one's snapshot
        after it (None where the user has no such conversation), in the order of ``keys``."""

        def write(tx: WriteTx) -> Op[list[bool]]:
            yield from tx.load_heads([channel_of(user_id, t, i) for t, i in keys])
            found: list[bool] = []
            for t, i in keys:
                found.append((yield from change_one(tx, (user_id, t, i), change)))
            return found

        found = await self.engine.write(write)
        hit = [key for key, ok in zip(keys, found, strict=True) if ok]
        convs = {(c.conv_type, c.conv_id): c for c in await self.get_conversations(user_id, hit)}
        return [convs.get(key) for key in keys]

    async def unread_keys(self, user_id: str) -> list[Key]:
        """The user's conversations with unread messages (before their receive options)."""

        def read() -> Op[list[Key]]:
            found = yield rows(
                "SELECT c.conv_type, c.conv_id FROM conversations c "
                "JOIN channels h ON h.channel_id = c.channel_id "
                "WHERE c.user_id = ? AND c.deleted = 0 "
                "AND COALESCE(c.end_count, h.count) > c.read_count",
                user_id,
            )
            return [(r[0], r[1]) for r in found]

        return await self.engine.read(read)

    async def count_conversations(
        self, user_id: str, *, marked: bool = False, custom_data: bool = False
    ) -> int:
        """How many of the user's conversations carry a mark (or custom data)."""
        cond = "marks != 0" if marked else "custom_data != ''" if custom_data else "1 = 1"

        def read() -> Op[int]:
            n = yield value(
                f"SELECT count(*) FROM conversations WHERE user_id = ? AND {cond}", user_id
            )
            return int(n)

        return await self.engine.read(read)

    async def recv_opts(self, user_id: str, conv_type: int, conv_ids: list[str]) -> dict[str, int]:
        """Receive options of the user's conversations among ``conv_ids`` (absent: none set)."""

        def read() -> Op[dict[str, int]]:
            found = yield rows(
                "SELECT conv_id, recv_opt FROM conversations WHERE user_id = ? "
                "AND conv_type = ? AND conv_id = ANY(?)",
                user_id,
                conv_type,
                conv_ids,
            )
            return {r[0]: r[1] for r in found}

        return await self.engine.read(read) if conv_ids else {}
