"""Message rules: the position a new message takes in its channel, and unread arithmetic.

A channel's head is ``max_seq`` (the newest message), ``count`` (countable messages so far: a
tip or a message excluded from unread does not count) and ``last_seq`` (the newest message that
may show as a conversation's last message). A user's read position is ``(read_seq,
read_count)``, the head as it was at a message; ``unread = count - read_count``.
"""

from __future__ import annotations

from typing import NamedTuple


class Position(NamedTuple):
    """A channel head after a message: the message's own seq, the channel's count of countable
    messages up to it (the message's ``count``), and ``last_seq``."""

    seq: int
    counted: int
    last_seq: int


def append_position(
    max_seq: int, count: int, last_seq: int, *, countable: bool, shows_last: bool
) -> Position:
    """Where a message appended to a channel at head ``(max_seq, count, last_seq)`` lands.

    Seqs are gap-free; ``count`` moves only for a countable message; ``last_seq`` only for one
    that may be a conversation's last message. The sender's own read position becomes the
    message's ``(seq, count)``: one's own messages are never unread.
    """
    seq = max_seq + 1
    return Position(seq, count + 1 if countable else count, seq if shows_last else last_seq)


def unread(count: int, read_count: int) -> int:
    """Unread countable messages at head ``count`` read up to ``read_count``: never negative."""
    return max(0, count - read_count)
