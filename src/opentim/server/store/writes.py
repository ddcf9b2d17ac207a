"""What both engines' writing transactions share: channel heads, the clock, the rows a message
append writes, and undoing a failed write's in-memory effects.

An engine subclasses ``WriteTx`` with its mechanics: how heads are found (SQLite keeps them in
memory, PostgreSQL reads them locked), how an append inside a write runs (SQLite executes its
rows at once, PostgreSQL buffers them for one round trip per kind), and which caches are
updated after COMMIT.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from opentim.protocol import AT_ALL, ConvType, Message
from opentim.protocol.rules import append_position

from .base import NewMessage
from .rows import (
    FLAG_EXCLUDED_LAST,
    FLAG_EXCLUDED_UNREAD,
    FLAG_EXTENSIONS,
    FLAG_TIPS,
    MENTION_ALL,
    stored_message,
    to_db_u64,
)
from .sql import Op

_json = msgspec.json.Encoder()

ConvKey = tuple[str, int, str]
"""``(user_id, conv_type, conv_id)``: one user's conversation."""
KNOWN_CONVS_MAX = 500_000


SELECT_HEADS = (
    "SELECT channel_id, max_seq, count, last_seq, activity, changed FROM channels "
    "WHERE channel_id = ANY(?) FOR UPDATE"
)
UPSERT_HEAD = (
    "INSERT INTO channels (channel_id, max_seq, count, last_seq, activity, changed) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET "
    "max_seq = excluded.max_seq, count = excluded.count, last_seq = excluded.last_seq, "
    "activity = excluded.activity, changed = excluded.changed"
)
INSERT_MESSAGE = (
    "INSERT INTO messages (channel_id, seq, msg_id, conv_type, sender, receiver, count, "
    "activity, server_time, client_time, random, priority, platform, flags, elems, "
    "cloud_custom_data, at_users) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_OWNER = (
    "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, changed) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
SENDER_READ = (
    "UPDATE conversations SET read_seq = ?, read_count = ? "
    "WHERE user_id = ? AND conv_type = ? AND conv_id = ?"
)
INSERT_MENTION = (
    "INSERT INTO mentions (channel_id, user_id, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)


class Head:
    """A channel head as the writing transaction knows it."""

    __slots__ = ("activity", "changed", "count", "last_seq", "max_seq")

    def __init__(
        self,
        max_seq: int = 0,
        count: int = 0,
        last_seq: int = 0,
        activity: int = 0,
        changed: int = 0,
    ) -> None:
        self.max_seq = max_seq
        self.count = count
        self.last_seq = last_seq
        self.activity = activity
        self.changed = changed
        """The channel's change position: its last message, or a later revoke."""

    def values(self) -> tuple[int, int, int, int, int]:
        return self.max_seq, self.count, self.last_seq, self.activity, self.changed

    def restore(self, values: tuple[int, int, int, int, int]) -> None:
        self.max_seq, self.count, self.last_seq, self.activity, self.changed = values


@dataclass(slots=True)
class AppendRows:
    """What appending one message writes, and the message as stored."""

    msg: Message
    message: tuple[Any, ...]
    owners: list[tuple[Any, ...]]
    read: tuple[Any, ...]
    mentions: list[tuple[Any, ...]]
    last_seq: int


def plan_append(
    m: NewMessage, head: Head, activity: int, server_time: int, new_owners: Iterable[ConvKey]
) -> AppendRows:
    """The rows of ``m`` appended at ``head`` (which the caller moves once they are written)."""
    pos = append_position(
        head.max_seq,
        head.count,
        head.last_seq,
        countable=not (m.excluded_from_unread or m.is_tips),
        shows_last=not m.excluded_from_last,
    )
    flags = (
        (FLAG_EXCLUDED_UNREAD if m.excluded_from_unread else 0)
        | (FLAG_EXCLUDED_LAST if m.excluded_from_last else 0)
        | (FLAG_TIPS if m.is_tips else 0)
        | (FLAG_EXTENSIONS if m.supports_extensions else 0)
    )
    message = (
        m.channel_id,
        pos.seq,
        m.msg_id,
        m.conv_type,
        m.sender,
        m.receiver,
        pos.counted,
        activity,
        server_time,
        to_db_u64(m.client_time),
        to_db_u64(m.random),
        m.priority,
        m.platform,
        flags,
        _json.encode(m.elems).decode(),
        m.cloud_custom_data,
        _json.encode(m.at_users).decode(),
    )
    mentions: list[tuple[Any, ...]] = []
    if m.at_users and m.conv_type == ConvType.GROUP:
        mentioned = {MENTION_ALL if u == AT_ALL else u for u in m.at_users} - {m.sender}
        mentions = [(m.channel_id, u, pos.seq) for u in sorted(mentioned)]
    return AppendRows(
        msg=stored_message(m, pos.seq, pos.counted, activity, server_time),
        message=message,
        owners=[(*owner, m.channel_id, activity) for owner in new_owners],
        # One's own message is read by sending it.
        read=(pos.seq, pos.counted, m.sender, m.conv_type, m.receiver),
        mentions=mentions,
        last_seq=pos.last_seq,
    )


def move_head(head: Head, planned: AppendRows) -> None:
    msg = planned.msg
    head.max_seq, head.count, head.last_seq = msg.seq, msg.count, planned.last_seq
    head.activity = head.changed = msg.activity


class WriteTx(ABC):
    """What a write operation sees: the clock, the channel heads, post-commit actions."""

    def __init__(self, clock: int, known_convs: set[ConvKey]) -> None:
        self.clock = clock
        self.heads: dict[str, Head] = {}
        """The heads this transaction has read."""
        self.dirty: set[str] = set()
        self.known_convs = known_convs
        """Conversation rows known to exist (rows are never deleted), updated after COMMIT."""
        self.new_convs: set[ConvKey] = set()
        self.after: list[Callable[[], None]] = []

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    @abstractmethod
    def load_heads(self, channel_ids: list[str]) -> Op[None]:
        """Make the heads of ``channel_ids`` available in ``heads`` (a channel with no row
        starts at zero)."""

    def loaded_heads(self, found: list[Any], channel_ids: Iterable[str]) -> None:
        """Keep the heads read by ``SELECT_HEADS``; those without a row start at zero."""
        for r in found:
            self.heads[r[0]] = Head(r[1], r[2], r[3], r[4], r[5])
        for channel_id in channel_ids:
            self.heads.setdefault(channel_id, Head())

    def head(self, channel_id: str) -> Op[Head]:
        if channel_id not in self.heads:
            yield from self.load_heads([channel_id])
        return self.heads[channel_id]

    def save_head(self, channel_id: str) -> None:
        """The head changed (or its row must exist): it is written before COMMIT."""
        self.dirty.add(channel_id)

    def head_rows(self) -> list[tuple[Any, ...]]:
        """``UPSERT_HEAD`` rows of the changed heads (and none changed after this)."""
        out = [(cid, *self.heads[cid].values()) for cid in self.dirty]
        self.dirty = set()
        return out

    def conv_exists(self, key: ConvKey) -> None:
        """A conversation row was created in this transaction."""
        self.new_convs.add(key)

    def new_owners(self, m: NewMessage) -> list[ConvKey]:
        """The conversations ``m`` needs that may not exist yet (noted as existing)."""
        found = [o for o in m.owners if o not in self.known_convs and o not in self.new_convs]
        self.new_convs.update(found)
        return found

    def remember_convs(self) -> Callable[[], None]:
        """The post-commit action that adds this transaction's new conversations to the cache."""
        known, new_convs = self.known_convs, self.new_convs

        def remember() -> None:
            if len(known) > KNOWN_CONVS_MAX:
                known.clear()
            known.update(new_convs)

        return remember

    @abstractmethod
    def append(self, m: NewMessage, server_time: int) -> Op[Message]:
        """Append ``m`` inside a write operation (a group tip)."""

    def members_changed(self, group_id: str, dismissed: bool = False) -> Op[None]:
        """The group's members changed in this transaction (an engine caching them reloads)."""
        return
        yield  # pragma: no cover

    def mark(self) -> tuple[Any, ...]:
        """What a failed write must undo in memory (its statements roll back to a savepoint)."""
        return (
            {cid: h.values() for cid, h in self.heads.items()},
            set(self.dirty),
            set(self.new_convs),
            len(self.after),
            self.clock,
        )

    def undo(self, mark: tuple[Any, ...]) -> None:
        heads, dirty, new_convs, n_after, clock = mark
        for cid in [c for c in self.heads if c not in heads]:
            self.forget_head(cid)
        for cid, values in heads.items():
            self.heads[cid].restore(values)
        self.dirty, self.new_convs = dirty, new_convs
        del self.after[n_after:]
        self.clock = clock

    def forget_head(self, channel_id: str) -> None:
        """Drop a head read after a failed write began (the next use reads it again)."""
        del self.heads[channel_id]
