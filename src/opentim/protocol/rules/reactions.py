"""Message reaction rules (``TIMMsgAddMessageReaction`` and friends), as pure functions.

A reaction is a short id (an emoji's name, say) that users attach to a message; each user at
most once per reaction. Tencent's limits: a message holds at most 10 different reactions and a
reaction at most 100 users; a read returns at most the first 10 users of each reaction (the
rest page through ``TIMMsgGetAllUserListOfMessageReaction``). Reactions keep the order in
which they first appeared, users the order in which they reacted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ..codes import ErrorCode

MAX_REACTIONS_PER_MSG: Final = 10
"""Different reactions on one message (Tencent: 10; one more is 23005)."""
MAX_USERS_PER_REACTION: Final = 100
"""Users of one reaction (Tencent: 100; one more is 23006)."""
MAX_REACTION_ID_BYTES: Final = 100
"""A reaction id's size (ours: Tencent documents none; an emoji name is a few bytes)."""
MAX_PARTIAL_USERS: Final = 10
"""Users a read returns per reaction (``max_user_count_per_reaction``, Tencent: 0 to 10)."""
MAX_USER_PAGE: Final = 100
"""Users per page of one reaction's user list."""
MAX_MSGS_PER_READ: Final = 20
"""Messages whose reactions one read asks for (Tencent: 20, of one conversation)."""


def add_refusal(
    reaction_id: str, present: Sequence[str], users: Sequence[str], user_id: str
) -> ErrorCode | None:
    """Why ``user_id`` may not add ``reaction_id`` to a message that holds the reactions
    ``present`` (``users``: who has ``reaction_id`` now); None when they may."""
    if not valid_reaction_id(reaction_id):
        return ErrorCode.ERR_INVALID_PARAMETERS
    if user_id in users:
        return ErrorCode.ERR_SVR_MSG_REACTION_ALREADY_CONTAIN_USER
    if reaction_id not in present and len(present) >= MAX_REACTIONS_PER_MSG:
        return ErrorCode.ERR_SVR_MSG_REACTION_COUNT_LIMIT
    if len(users) >= MAX_USERS_PER_REACTION:
        return ErrorCode.ERR_SVR_MSG_REACTION_USER_COUNT_LIMIT
    return None


def remove_refusal(reaction_id: str, users: Sequence[str], user_id: str) -> ErrorCode | None:
    """Why ``user_id`` may not remove ``reaction_id`` (``users``: who has it now)."""
    if not valid_reaction_id(reaction_id):
        return ErrorCode.ERR_INVALID_PARAMETERS
    if not users:
        return ErrorCode.ERR_SVR_MSG_REACTION_NOT_EXISTS
    if user_id not in users:
        return ErrorCode.ERR_SVR_MSG_REACTION_NOT_CONTAIN_USER
    return None


def valid_reaction_id(reaction_id: str) -> bool:
    return 0 < len(reaction_id.encode()) <= MAX_REACTION_ID_BYTES


def user_page(users: Sequence[str], start: int, count: int) -> tuple[list[str], int]:
    """One page of a reaction's users from position ``start``; the next start (0 at the end)."""
    count = max(1, min(count, MAX_USER_PAGE))
    page = list(users[start : start + count])
    end = start + len(page)
    return page, (end if end < len(users) else 0)
