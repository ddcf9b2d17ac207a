"""Login (UserSig check, auto-registration) and profiles, with a profile cache for the hot path.

With several nodes, a profile may change on another node. The change is announced on the bus
(``Envelope.profile_changed``) and every node drops its copy; ``profile_ttl`` bounds how long a
copy may live anyway, in case an announcement was lost while the bus was away.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from opentim.protocol import ErrorCode, Profile, verify_usersig
from opentim.protocol.limits import (
    MAX_LOCATION_BYTES,
    MAX_PROFILE_STRING_BYTES,
    RESERVED_USER_ID_PREFIX,
    reserved_user_id,
    valid_user_id,
)
from opentim.protocol.paging import fitting
from opentim.protocol.rules.users import (
    DEFAULT_SEARCH_COUNT,
    MAX_SEARCH_COUNT,
    MAX_SEARCH_KEYWORDS,
    CustomFieldError,
    SearchQuery,
    merge_custom,
)

from ..bus.base import Bus, Envelope
from ..store.base import Store
from .errors import ServiceError

PROFILE_FIELDS = frozenset(
    {
        "nick",
        "face_url",
        "gender",
        "self_signature",
        "location",
        "language",
        "birthday",
        "level",
        "role",
        "add_permission",
    }
)

PROFILE_STRING_LIMITS = {
    "nick": MAX_PROFILE_STRING_BYTES,
    "face_url": MAX_PROFILE_STRING_BYTES,
    "self_signature": MAX_PROFILE_STRING_BYTES,
    "location": MAX_LOCATION_BYTES,
}
"""Bytes of UTF-8 each string field of a profile may hold (DESIGN §7; 40601 over it)."""


ProfileListener = Callable[[Profile, list[str]], Awaitable[None]]
"""Told of a changed profile and the names of the fields that changed."""


def changed_fields(before: Profile, after: Profile) -> list[str]:
    """The names of the fields (and ``custom:<key>`` for custom ones) that differ."""
    old, new = msgspec.structs.asdict(before), msgspec.structs.asdict(after)
    names = [n for n in PROFILE_FIELDS if old[n] != new[n]]
    keys = set(before.custom) | set(after.custom)
    names += [f"custom:{k}" for k in keys if before.custom.get(k) != after.custom.get(k)]
    return sorted(names)


def check_profile(changes: dict[str, Any]) -> None:
    """Refuse a profile change with a string field over its limit (40601), nothing stored."""
    for name, limit in PROFILE_STRING_LIMITS.items():
        value = changes.get(name)
        if isinstance(value, str) and len(value.encode()) > limit:
            raise ServiceError(
                ErrorCode.ERR_SVR_PROFILE_SIZE_LIMIT, f"profile {name} over {limit} bytes"
            )


class UserService:
    """Accounts and profiles. Profiles are cached: every message carries its sender's."""

    def __init__(
        self,
        store: Store,
        *,
        sdkappid: int,
        secret_key: str,
        auto_register: bool,
        clock: Callable[[], float],
        bus: Bus | None = None,
        profile_ttl: float | None = None,
    ) -> None:
        self.store = store
        self.sdkappid = sdkappid
        self.secret_key = secret_key
        self.auto_register = auto_register
        self.clock = clock
        self.bus = bus
        self.profile_ttl = profile_ttl
        self._profiles: dict[str, Profile] = {}
        self._fetched: dict[str, float] = {}
        self.listeners: list[ProfileListener] = []
        """Told of every profile change (the presence service pushes it to its audience)."""

    def _keep(self, profile: Profile) -> None:
        self._profiles[profile.user_id] = profile
        if self.profile_ttl is not None:
            self._fetched[profile.user_id] = self.clock()

    def forget(self, user_id: str) -> None:
        """Drop the cached profile (it changed on another node)."""
        self._profiles.pop(user_id, None)
        self._fetched.pop(user_id, None)

    async def login(self, user_id: str, user_sig: str, sdkappid: int) -> tuple[Profile, int]:
        """Check the UserSig; return the user's profile and the sig's expiry time."""
        if not valid_user_id(user_id):
            raise ServiceError(ErrorCode.ERR_SDK_COMM_INVALID_IDENTIFIER, "invalid user id")
        if reserved_user_id(user_id):
            # @TIM#SYSTEM signs group tips: nobody may log in as it, nor register it.
            raise ServiceError(
                ErrorCode.ERR_SDK_COMM_INVALID_IDENTIFIER,
                f"user ids starting with {RESERVED_USER_ID_PREFIX!r} are reserved",
            )
        if sdkappid != self.sdkappid:
            raise ServiceError(
                ErrorCode.ERR_SVR_ACCOUNT_USERSIG_MISMATCH_SDKAPPID,
                f"this server serves sdkappid {self.sdkappid}",
            )
        expires = verify_usersig(
            self.secret_key, self.sdkappid, user_id, user_sig, int(self.clock())
        )
        profile = await self.store.users.ensure_user(user_id, create=self.auto_register)
        if profile is None:
            raise ServiceError(
                ErrorCode.ERR_SVR_ACCOUNT_NOT_FOUND, f"no account {user_id!r} and no auto-register"
            )
        self._keep(profile)
        return profile, expires

    async def profile(self, user_id: str) -> Profile | None:
        """A user's profile, or None for an unknown user."""
        cached = self._profiles.get(user_id)
        if cached is not None and (
            self.profile_ttl is None
            or self.clock() - self._fetched.get(user_id, 0.0) < self.profile_ttl
        ):
            return cached
        found = await self.store.users.get_profiles([user_id])
        profile = found.get(user_id)
        if profile is not None:
            self._keep(profile)
        return profile

    def cached_profile(self, user_id: str) -> Profile | None:
        return self._profiles.get(user_id)

    async def profiles(self, user_ids: list[str]) -> list[Profile]:
        found = await self.store.users.get_profiles(list(dict.fromkeys(user_ids)))
        for profile in found.values():
            self._keep(profile)
        return [found[u] for u in user_ids if u in found]

    async def profile_page(self, user_ids: list[str]) -> tuple[list[Profile], list[str]]:
        """The profiles of ``user_ids`` that fit in one answer (paged by bytes), and the ids
        not looked at, to ask again for."""
        ids = list(dict.fromkeys(user_ids))
        found = await self.profiles(ids)
        n = fitting(found)
        if n == len(found):
            return found, []
        last = ids.index(found[n - 1].user_id)
        return found[:n], ids[last + 1 :]

    async def set_profile(self, user_id: str, changes: dict[str, Any]) -> Profile:
        """Change the caller's own profile; only known fields, ``None`` meaning unchanged;
        ``custom`` merges custom fields (protocol/rules/users.py)."""
        clean = {k: v for k, v in changes.items() if k in PROFILE_FIELDS and v is not None}
        check_profile(clean)
        custom = changes.get("custom")
        before = await self.profile(user_id)
        if before is None:
            raise ServiceError(ErrorCode.ERR_SVR_PROFILE_ACCOUNT_NOT_FOUND, "no such user")
        if custom:
            try:
                merge_custom(before.custom, custom)  # refuse before anything is stored
            except CustomFieldError as exc:
                raise ServiceError(exc.code, exc.desc) from exc
        profile = await self.store.users.update_profile(user_id, clean, custom or None)
        self._keep(profile)
        if self.bus is not None:
            self.bus.publish(Envelope(profile_changed=user_id))
        changed = changed_fields(before, profile)
        if changed:
            for listener in self.listeners:
                await listener(profile, changed)
        return profile

    async def search(
        self, query: SearchQuery, count: int, cursor: str
    ) -> tuple[list[Profile], int, str]:
        """Users matching ``query`` after ``cursor`` (a user id), at most ``count`` (default
        20, at most 100); the total that match, and the next cursor ("" at the end)."""
        if len(query.keywords) > MAX_SEARCH_KEYWORDS:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, f"at most {MAX_SEARCH_KEYWORDS} keywords"
            )
        count = min(count or DEFAULT_SEARCH_COUNT, MAX_SEARCH_COUNT)
        found, total, more = await self.store.users.search(query, cursor, count)
        page = found[: fitting(found)]
        nxt = page[-1].user_id if page and (more or len(page) < len(found)) else ""
        return page, total, nxt
