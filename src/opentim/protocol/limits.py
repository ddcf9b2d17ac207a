"""Size and count limits shared by server and SDK (DESIGN §7)."""

from __future__ import annotations

from typing import Final

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


def valid_user_id(user_id: str) -> bool:
    """User ids are printable ASCII, 1 to 32 bytes (DESIGN §2)."""
    return 0 < len(user_id) <= MAX_USER_ID_BYTES and all(" " <= c <= "~" for c in user_id)


def valid_group_id(group_id: str) -> bool:
    """Group ids are printable ASCII, 1 to 48 bytes."""
    return 0 < len(group_id) <= MAX_GROUP_ID_BYTES and all(" " <= c <= "~" for c in group_id)
