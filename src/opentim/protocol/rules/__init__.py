"""The server's conversation and message rules as pure functions (no I/O, no SQL).

Each rule takes the row(s) before and the change, and returns the row(s) after; the store
(server/store) reads the rows, calls the rule and writes what it returns, the same code on every
engine. The rules are unit- and property-tested without a database (tests/protocol/rules).
"""

from __future__ import annotations

from .conversations import (
    ConvChange,
    ConvState,
    apply_change,
    created_state,
    draft_edit_wins,
    is_tombstone,
    read_position,
    visible_marks,
)
from .messages import Position, append_position, unread

__all__ = [
    "ConvChange",
    "ConvState",
    "Position",
    "append_position",
    "apply_change",
    "created_state",
    "draft_edit_wins",
    "is_tombstone",
    "read_position",
    "unread",
    "visible_marks",
]
