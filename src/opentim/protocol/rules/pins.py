"""Pinned group messages (``TIMPinGroupMessage``), as a pure rule.

The group's owner and admins pin and unpin; every member reads the list and hears of each
change. A group holds at most ``MAX_PINNED`` pinned messages (Tencent: 10, one more is 10070);
pinning a pinned message is 10071, unpinning one that is not pinned 10004.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from ..codes import ErrorCode
from ..models import MemberRole

MAX_PINNED: Final = 10


def pin_refusal(role: int, pinned: Collection[int], seq: int, pin: bool) -> ErrorCode | None:
    """Why a member of ``role`` may not pin (or unpin) message ``seq`` of a group whose pinned
    messages are ``pinned``; None when they may."""
    if role < MemberRole.ADMIN:
        return ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY
    if pin and seq in pinned:
        return ErrorCode.ERR_SVR_GROUP_MESSAGE_ALREADY_PINNED
    if pin and len(pinned) >= MAX_PINNED:
        return ErrorCode.ERR_SVR_GROUP_PINNED_MESSAGE_COUNT_LIMIT
    if not pin and seq not in pinned:
        return ErrorCode.ERR_SVR_GROUP_INVALID_PARAMETERS
    return None
