"""Message extension rules (``TIMMsgSetMessageExtensions`` and friends), as pure functions.

Extensions are key-value pairs set on a message sent with ``message_support_message_extension``
(others are refused with 6017). Tencent's limits: a key up to 100 bytes, a value up to 1 KB, at
most 20 set or deleted per call, at most 300 per message. Each key has a version, raised by
every set; a set names the version it last saw (0: it believes the key absent). When two users
set the same key at once the first wins and the other gets 23001 with the key as it is now, as
in Tencent's SDK (which then asks again if the app wants to). Deleting a key that is not there
is 23004.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple

from ..codes import ErrorCode

MAX_KEY_BYTES: Final = 100
MAX_VALUE_BYTES: Final = 1024
MAX_PER_CALL: Final = 20
MAX_PER_MSG: Final = 300


class Stored(NamedTuple):
    value: str
    version: int


class Wanted(NamedTuple):
    key: str
    value: str
    version: int
    """The version the caller last saw (0: absent)."""


def valid_key(key: str) -> bool:
    return 0 < len(key.encode()) <= MAX_KEY_BYTES


def valid_value(value: str) -> bool:
    return len(value.encode()) <= MAX_VALUE_BYTES


def set_outcome(
    current: Mapping[str, Stored], wanted: Sequence[Wanted]
) -> tuple[dict[str, ErrorCode | None], dict[str, Stored]]:
    """Per key: the refusal (23001 for a stale version, 6017 past ``MAX_PER_MSG`` keys) or None;
    and the keys whose new state is to be written."""
    codes: dict[str, ErrorCode | None] = {}
    writes: dict[str, Stored] = {}
    count = len(current)
    for w in wanted:
        now = current.get(w.key)
        seen = now.version if now else 0
        if w.version != seen:
            codes[w.key] = ErrorCode.ERR_SVR_MSG_EXTENSION_CONFLICT
        elif now is None and count >= MAX_PER_MSG:
            codes[w.key] = ErrorCode.ERR_INVALID_PARAMETERS
        else:
            codes[w.key] = None
            writes[w.key] = Stored(w.value, seen + 1)
            count += now is None
    return codes, writes
