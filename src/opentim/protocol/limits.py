"""Size and count limits shared by server and SDK (DESIGN §7)."""

from __future__ import annotations

from typing import Any, Final

MAX_ELEMS_BYTES: Final = 12_288
"""A message's elements, as UTF-8 JSON."""
MAX_DRAFT_BYTES: Final = 12_288
MAX_CUSTOM_DATA_BYTES: Final = 256
MAX_USER_ID_BYTES: Final = 32
MAX_GROUP_ID_BYTES: Final = 48
MAX_GROUP_NAME_BYTES: Final = 100
MAX_INVITE_PER_CALL: Final = 20
MAX_GROUP_MEMBERS: Final = 100_000
SYNC_PAGE: Final = 100
"""Conversations per sync page."""
MAX_HISTORY_PAGE: Final = 100
MAX_CONVS_PER_CALL: Final = 100
"""Conversations per mark, custom-data, conversation-group or delete-list call (51006)."""
MAX_MARKED_CONVS: Final = 1000
"""Conversations with a mark, or with custom data, per user (51008)."""
MAX_CONV_GROUPS: Final = 20
"""Conversation groups per user (51010)."""
MAX_CONV_GROUP_NAME_BYTES: Final = 32
"""A conversation group's name (51011)."""
MAX_CONVS_PER_GROUP: Final = 1000
"""Conversations per conversation group; adding more evicts the earliest added (reason 1)."""
MAX_RECV_OPT_USERS: Final = 30
"""Users per TIMMsgSetC2CReceiveMessageOpt / TIMMsgGetC2CReceiveMessageOpt call."""
REVOKE_TIME_LIMIT: Final = 120
"""Seconds after sending during which a message may be revoked (0: no limit)."""
MAX_FRAME_BYTES: Final = 256 * 1024
"""A whole WebSocket frame: a message plus envelope and profiles."""
MAX_WIRE_FRAME_BYTES: Final = 4 * MAX_FRAME_BYTES
"""A frame up to this size that is over ``MAX_FRAME_BYTES`` is answered with 8001 (the
connection stays); a bigger one closes the connection (1009, "message too big") unread."""
MAX_AT_USERS: Final = 30
"""Users a group message may mention (``message_group_at_user_array``), @all included."""
MAX_USERS_PER_CALL: Final = 100
"""Users per profile read."""
MAX_ELEMS_PER_MSG: Final = 50
"""Elements per message (their size is bounded by ``MAX_ELEMS_BYTES`` too)."""
MAX_CREATE_MEMBERS: Final = 500
"""Initial members per group creation (more join by invitation, 20 per call)."""
MAX_LIST_ARG: Final = 1000
"""The longest list any other request may carry; the configurable per-call limits (such as
``convs_per_call``) apply first, with their own codes."""
MAX_JSON_DEPTH: Final = 32
"""How deeply an app's JSON (message elements, a draft) may nest."""
MAX_USERSIG_CHARS: Final = 8192
"""A UserSig's length; a real one is a few hundred characters."""
MAX_USERSIG_JSON_BYTES: Final = 64 * 1024
"""A UserSig's decompressed size: a sig that inflates further is refused unread (70003)."""
RESERVED_USER_ID_PREFIX: Final = "@TIM#"
"""User ids opentim keeps for itself (``@TIM#SYSTEM`` sends group tips): no login or account."""


def valid_user_id(user_id: str) -> bool:
    """User ids are printable ASCII, 1 to 32 bytes (DESIGN §2)."""
    return 0 < len(user_id) <= MAX_USER_ID_BYTES and all(" " <= c <= "~" for c in user_id)


def reserved_user_id(user_id: str) -> bool:
    """Ids of opentim's own senders (``@TIM#SYSTEM``), never a user's account."""
    return user_id.startswith(RESERVED_USER_ID_PREFIX)


def valid_group_id(group_id: str) -> bool:
    """Group ids are printable ASCII, 1 to 48 bytes."""
    return 0 < len(group_id) <= MAX_GROUP_ID_BYTES and all(" " <= c <= "~" for c in group_id)


def nested_within(value: Any, depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether decoded JSON nests at most ``depth`` arrays and objects deep (walked without
    recursion, so a hostile value cannot exhaust the stack here)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        for child in children:
            if isinstance(child, (dict, list)):
                if level >= depth:
                    return False
                stack.append((child, level + 1))
    return True
