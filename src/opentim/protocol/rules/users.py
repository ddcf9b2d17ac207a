"""User rules: custom profile fields, a user's status, the all-messages receive window and
user search, as pure functions (no clock reads: times are passed in).

- **Custom profile fields** are ``Tag_Profile_Custom_<name>`` keys, ``<name>`` 1 to 8 ASCII
  letters, string values up to 500 bytes (Tencent's limits); an empty value removes the field;
  a user holds at most ``MAX_CUSTOM_FIELDS`` of them.
- **Status**: online while any device is connected; when the last one goes, offline if it was
  dropped (the app may still get offline pushes), unlogined if it logged out or never logged in.
- **All-messages receive option** (``TIMMsgSetAllReceiveMessageOpt``/``…2``): applies during a
  window, either once (a start time stamp and a duration) or every day (a start time of day in
  UTC and a duration). A duration of 0 means "from the start on, with no end".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Final, NamedTuple

from ..codes import ErrorCode
from ..exceptions import OpenTimError

CUSTOM_PREFIX: Final = "Tag_Profile_Custom_"
MAX_CUSTOM_NAME_BYTES: Final = 8
MAX_CUSTOM_VALUE_BYTES: Final = 500
MAX_CUSTOM_FIELDS: Final = 20
MAX_CUSTOM_STATUS_BYTES: Final = 100
"""A user's custom status (Tencent: 100 bytes)."""
MAX_SUBSCRIPTIONS: Final = 200
"""Users one user may subscribe to, for status and for profile changes each."""
MAX_SEARCH_KEYWORDS: Final = 5
MAX_SEARCH_COUNT: Final = 100
DEFAULT_SEARCH_COUNT: Final = 20
DAY: Final = 86_400


class StatusType(enum.IntEnum):
    """``TIMUserStatusType``."""

    UNKNOWN = 0
    ONLINE = 1
    OFFLINE = 2
    UNLOGINED = 3


class CustomFieldError(OpenTimError):
    """A custom field change that breaks a rule: 40009 (a bad key) or 40601 (a value too long,
    too many fields)."""


def valid_custom_key(key: str) -> bool:
    """``Tag_Profile_Custom_`` followed by 1 to 8 ASCII letters."""
    name = key.removeprefix(CUSTOM_PREFIX)
    return (
        key.startswith(CUSTOM_PREFIX)
        and 0 < len(name) <= MAX_CUSTOM_NAME_BYTES
        and name.isascii()
        and name.isalpha()
    )


def merge_custom(stored: Mapping[str, str], changes: Mapping[str, str]) -> dict[str, str]:
    """The custom fields after ``changes`` (an empty value removes its field), sorted by key.

    Raises:
        CustomFieldError: a bad key, a value over 500 bytes, or more than 20 fields after it.
    """
    merged = dict(stored)
    for key, value in changes.items():
        if not valid_custom_key(key):
            raise CustomFieldError(
                ErrorCode.ERR_SVR_PROFILE_TAG_NOT_FOUND, f"invalid custom key {key!r}"
            )
        if len(value.encode()) > MAX_CUSTOM_VALUE_BYTES:
            raise CustomFieldError(
                ErrorCode.ERR_SVR_PROFILE_SIZE_LIMIT,
                f"custom profile field {key} over {MAX_CUSTOM_VALUE_BYTES} bytes",
            )
        if value:
            merged[key] = value
        else:
            merged.pop(key, None)
    if len(merged) > MAX_CUSTOM_FIELDS:
        raise CustomFieldError(
            ErrorCode.ERR_SVR_PROFILE_SIZE_LIMIT, f"at most {MAX_CUSTOM_FIELDS} custom fields"
        )
    return dict(sorted(merged.items()))


def status_type(online_devices: int, dropped: bool) -> StatusType:
    """A user's status: online with any device connected; else offline when the last device's
    connection was dropped, unlogined when it logged out (or the user never logged in)."""
    if online_devices > 0:
        return StatusType.ONLINE
    return StatusType.OFFLINE if dropped else StatusType.UNLOGINED


def status_changed(before: tuple[int, bool], after: tuple[int, bool]) -> bool:
    """Whether subscribers hear of a change: the status type changed, or the set of online
    devices did (``(online_devices, dropped)`` before and after)."""
    return status_type(*before) != status_type(*after) or before[0] != after[0]


class RecvWindow(NamedTuple):
    """The all-messages receive option and when it applies.

    ``daily``: ``start`` is a time of day (UTC seconds after midnight) and the window recurs
    every day; otherwise ``start`` is a Unix time stamp. ``duration`` 0: no end.
    """

    opt: int = 0
    start: int = 0
    duration: int = 0
    daily: bool = False


def daily_window(opt: int, hour: int, minute: int, second: int, duration: int) -> RecvWindow:
    """The window of ``TIMMsgSetAllReceiveMessageOpt`` (a time of day and a duration)."""
    return RecvWindow(opt, hour * 3600 + minute * 60 + second, duration, True)


def valid_time_of_day(hour: int, minute: int, second: int) -> bool:
    return 0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60


def window_active(window: RecvWindow, now: int) -> bool:
    """Whether the window covers Unix time ``now``."""
    if window.opt == 0:
        return False
    if window.daily:
        if window.duration == 0 or window.duration >= DAY:
            return True
        return (now - window.start) % DAY < window.duration
    if now < window.start:
        return False
    return window.duration == 0 or now < window.start + window.duration


def next_edge(window: RecvWindow, now: int) -> int | None:
    """The first time after ``now`` at which ``window_active`` changes, None if it never does."""
    if window.opt == 0:
        return None
    if window.daily:
        if window.duration == 0 or window.duration >= DAY:
            return None
        offset = (now - window.start) % DAY
        return now + (window.duration - offset if offset < window.duration else DAY - offset)
    if now < window.start:
        return window.start
    end = window.start + window.duration
    return end if window.duration and now < end else None


def effective_recv_opt(conv_opt: int, window: RecvWindow, now: int) -> int:
    """The option that applies to a conversation at ``now``: its own when it has one, else the
    all-messages option while its window is active."""
    if conv_opt != 0:
        return conv_opt
    return window.opt if window_active(window, now) else 0


class SearchQuery(NamedTuple):
    """``TIMSearchUsers``' filter: keywords (any or all of them), gender, birthday range."""

    keywords: tuple[str, ...] = ()
    match_all: bool = False
    gender: int = 0
    min_birthday: int = 0
    max_birthday: int = 0


def search_matches(q: SearchQuery, user_id: str, nick: str, gender: int, birthday: int) -> bool:
    """Whether a user matches: each keyword is looked for, case-insensitively, in the user id and
    the nick name (any keyword, or all with ``match_all``); gender 0 and birthdays 0 filter
    nothing."""
    if q.gender and gender != q.gender:
        return False
    if q.min_birthday and birthday < q.min_birthday:
        return False
    if q.max_birthday and birthday > q.max_birthday:
        return False
    words = [w.casefold() for w in q.keywords if w]
    if not words:
        return True
    hay = (user_id.casefold(), nick.casefold())
    hits = (any(w in h for h in hay) for w in words)
    return all(hits) if q.match_all else any(hits)


def subscription_room(current: Iterable[str], adding: Iterable[str], limit: int) -> bool:
    """Whether ``adding`` fits beside ``current`` within ``limit`` subscriptions."""
    return len(set(current) | set(adding)) <= limit
