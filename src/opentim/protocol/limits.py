"""Size and count limits shared by server and SDK (DESIGN §7)."""

from __future__ import annotations

from typing import Any, Final

MAX_ELEMS_BYTES: Final = 12_288
"""A message's elements, as UTF-8 JSON (Tencent: a message is at most 12 KB; 8001)."""
MAX_MSG_BYTES: Final = 16_384
"""A whole message as sent (elements, ``cloud_custom_data``, ``at_users``, ids, the rest), as
UTF-8 JSON (8001): what is left beside 12 KB of elements is 4 KB for the rest."""
MAX_REVOKE_REASON_BYTES: Final = 256
"""The reason given with a revoke (6017)."""
MAX_PROFILE_STRING_BYTES: Final = 500
"""Nick, face URL and self signature of a profile (Tencent: 500 bytes each; 40601)."""
MAX_LOCATION_BYTES: Final = 16
"""A profile's location (Tencent: 16 bytes; 40601)."""
MAX_GROUP_FACE_URL_BYTES: Final = 100
"""A group's face URL (Tencent: 100 bytes; 8505)."""
MAX_GROUP_INTRODUCTION_BYTES: Final = 240
"""A group's introduction (Tencent: 240 bytes; 8503)."""
MAX_GROUP_NOTIFICATION_BYTES: Final = 300
"""A group's notification (Tencent: 300 bytes; 8504)."""
MAX_AT_INFO: Final = 100
"""Pending @-mentions a conversation snapshot lists (the latest): however many messages
mention the user, the snapshot stays small."""
MAX_TIP_USERS: Final = 1000
"""Users a group tip lists by id (its member count stays exact): a tip is a stored message too,
and must fit in a page like any other."""
MAX_DRAFT_BYTES: Final = 12_288
MAX_CUSTOM_DATA_BYTES: Final = 256
MAX_USER_ID_BYTES: Final = 32
MAX_GROUP_ID_BYTES: Final = 48
MAX_GROUP_NAME_BYTES: Final = 100
MAX_INVITE_PER_CALL: Final = 20
MAX_GROUPS_PER_INFO_CALL: Final = 50
"""Groups per ``TIMGroupGetGroupInfoList`` call."""
MAX_GROUP_CUSTOM_FIELDS: Final = 16
"""Custom fields a group, or a member in it, holds (and that one call sets)."""
MAX_GROUP_CUSTOM_KEY_BYTES: Final = 16
MAX_GROUP_CUSTOM_VALUE_BYTES: Final = 512
MAX_NAME_CARD_BYTES: Final = 50
MAX_MEMBERS_PAGE: Final = 100
"""Members per ``TIMGroupGetMemberInfoList`` answer."""
MAX_PENDENCIES_PAGE: Final = 100
"""Pendencies per ``TIMGroupGetPendencyList`` answer (also when the app asks for more)."""
MAX_APPLY_MSG_BYTES: Final = 300
"""A join application's or a handling's message."""
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
MAX_LOCAL_CUSTOM_BYTES: Final = 16_384
"""A message's local custom string (TIMMsgSetLocalCustomData), as UTF-8; more: TIM_ERR_PARAM."""
MAX_BATCH_SEND_USERS: Final = 500
"""Receivers per TIMMsgBatchSend call (Tencent's batch send takes at most 500; more: 6017)."""
REVOKE_TIME_LIMIT: Final = 120
"""Seconds after sending during which a message may be revoked (0: no limit)."""
MAX_FRAME_BYTES: Final = 256 * 1024
"""A whole WebSocket frame from a client to the server."""
PAGE_BYTES: Final = 192 * 1024
"""The most the items of one answer or push may take, as JSON: every list the server sends is
cut to this many bytes as well as to its count (a page that holds at least one item). A stored
item within the limits above takes at most about 19 KB (a message with its sender's profile) or
37 KB (a conversation with its draft and last message; 52 KB if its strings are all escaped
control characters), so a page of them, with its envelope, stays under ``MAX_FRAME_BYTES``
(docs/security.md)."""
MAX_SERVER_FRAME_BYTES: Final = 4 * 1024 * 1024
"""The largest frame the SDK accepts from the server. Above ``PAGE_BYTES`` because of rows
stored before the field limits existed: then only the client's frame was limited (to
``MAX_FRAME_BYTES``), so one message could hold up to 256 KiB, and each string field of a
profile as much again, set one call at a time. An oversize item goes alone in its page; the
largest it can be (a conversation: its last message, the sender's four profile strings, the
peer's nick and face URL, a draft) is about 2.1 MiB, which this leaves room for. Items stored
within the limits never come close."""
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
# --- friendship (Tencent's documented limits) ---
MAX_FRIENDS_PER_CALL: Final = 100
"""Users per friendship batch call (add, delete, check, blacklist, follow …)."""
MAX_FRIENDS: Final = 3000
"""Friends per user (30010 over it)."""
MAX_BLACKLIST: Final = 1000
MAX_FRIEND_GROUPS: Final = 30
MAX_FRIEND_GROUP_NAME_BYTES: Final = 30
MAX_FRIEND_REMARK_BYTES: Final = 96
MAX_FRIEND_WORDING_BYTES: Final = 256
MAX_FRIEND_SOURCE_BYTES: Final = 128
MAX_FRIEND_CUSTOM_FIELDS: Final = 20
MAX_FRIEND_CUSTOM_BYTES: Final = 500
MAX_SEARCH_KEYWORDS: Final = 5
MAX_APPLICATIONS_PAGE: Final = 100
FOLLOW_PAGE: Final = 100
MAX_OFFICIAL_ACCOUNT_ID_BYTES: Final = 48
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
