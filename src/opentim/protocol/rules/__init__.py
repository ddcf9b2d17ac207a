"""The server's conversation, message and group rules as pure functions (no I/O, no SQL).

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
from .groups import (
    Handled,
    InfoField,
    JoinOutcome,
    MemberField,
    PendencyType,
    Refusal,
    handle_refusal,
    handled,
    handled_for,
    info_refusal,
    invite_outcome,
    join_outcome,
    joiner,
    may_send,
    member_refusal,
    mute_until,
    unread_pendencies,
    valid_add_option,
)
from .messages import Position, append_position, unread

__all__ = [
    "ConvChange",
    "ConvState",
    "Handled",
    "InfoField",
    "JoinOutcome",
    "MemberField",
    "PendencyType",
    "Position",
    "Refusal",
    "append_position",
    "apply_change",
    "created_state",
    "draft_edit_wins",
    "handle_refusal",
    "handled",
    "handled_for",
    "info_refusal",
    "invite_outcome",
    "is_tombstone",
    "join_outcome",
    "joiner",
    "may_send",
    "member_refusal",
    "mute_until",
    "read_position",
    "unread",
    "unread_pendencies",
    "valid_add_option",
    "visible_marks",
]
