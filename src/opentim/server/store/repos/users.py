"""Users: accounts and profiles."""

from __future__ import annotations

from typing import Any

import msgspec

from opentim.protocol import Profile
from opentim.protocol.rules.users import SearchQuery, merge_custom, search_matches

from ..base import StoreError
from ..engine import Engine
from ..sql import Op, execute, rows, value
from ..writes import WriteTx

_json = msgspec.json.Encoder()
_profile_decoder = msgspec.json.Decoder(Profile)
SEARCH_BATCH = 1000
"""Users read per query while searching (search walks every account: fine for the thousands
a self-hosted app has; an index comes with a later issue if needed)."""


def _profile(user_id: str, *, lock: bool = False) -> Op[Profile | None]:
    text = yield value(
        "SELECT profile FROM users WHERE user_id = ?" + (" FOR UPDATE" if lock else ""), user_id
    )
    return _profile_decoder.decode(text) if text else None


class Users:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def ensure_user(self, user_id: str, create: bool) -> Profile | None:
        """The user's profile; with ``create``, a new account for an unknown id."""
        profile = await self.engine.read(lambda: _profile(user_id))
        if profile is not None or not create:
            return profile

        def write(tx: WriteTx) -> Op[None]:
            yield execute(
                "INSERT INTO users (user_id, profile, created) VALUES (?, ?, 0) "
                "ON CONFLICT DO NOTHING",
                user_id,
                _json.encode(Profile(user_id=user_id)).decode(),
            )

        await self.engine.write(write)
        return await self.engine.read(lambda: _profile(user_id))

    async def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        def read() -> Op[dict[str, Profile]]:
            found = yield rows(
                "SELECT user_id, profile FROM users WHERE user_id = ANY(?)", user_ids
            )
            return {r[0]: _profile_decoder.decode(r[1]) for r in found}

        return await self.engine.read(read) if user_ids else {}

    async def update_profile(
        self, user_id: str, changes: dict[str, Any], custom: dict[str, str] | None = None
    ) -> Profile:
        """Apply ``changes`` (field → value) and merge ``custom`` fields (rules/users.py)."""

        def write(tx: WriteTx) -> Op[Profile]:
            stored = yield from _profile(user_id, lock=True)
            if stored is None:
                raise StoreError(f"no user {user_id!r}")
            if custom:
                changes["custom"] = merge_custom(stored.custom, custom)
            profile = msgspec.structs.replace(stored, **changes)
            yield execute(
                "UPDATE users SET profile = ? WHERE user_id = ?",
                _json.encode(profile).decode(),
                user_id,
            )
            return profile

        return await self.engine.write(write)

    async def search(
        self, query: SearchQuery, after: str, count: int
    ) -> tuple[list[Profile], int, bool]:
        """Up to ``count`` matching profiles with ids after ``after``, in id order; how many
        match in all; whether more match after those returned."""

        def read() -> Op[tuple[list[Profile], int, bool]]:
            page: list[Profile] = []
            total, more, last = 0, False, ""
            while True:
                found = yield rows(
                    "SELECT user_id, profile FROM users WHERE user_id > ? ORDER BY user_id LIMIT ?",
                    last,
                    SEARCH_BATCH,
                )
                for user_id, text in found:
                    p = _profile_decoder.decode(text)
                    if not search_matches(query, user_id, p.nick, p.gender, p.birthday):
                        continue
                    total += 1
                    if user_id > after:
                        if len(page) < count:
                            page.append(p)
                        else:
                            more = True
                if len(found) < SEARCH_BATCH:
                    return page, total, more
                last = found[-1][0]

        return await self.engine.read(read, snapshot=True)
