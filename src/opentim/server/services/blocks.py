"""Who each user has blocked, cached for the C2C send path.

Every C2C send asks whether the receiver blocked the sender; asking the store each time cost a
read per message (about three times the server CPU of the send itself). A node keeps each
receiver's blacklist as a frozen set once read. A change made here drops the copy at once; one
made on another node is announced on the bus (``Envelope.blacklist_changed``) and every node
drops its copy, and ``ttl`` bounds how long a copy may live anyway, in case an announcement was
lost while the bus was away (as for profiles, services/users.py).

A read that overlaps a change must not put the old list back: every drop moves ``_epoch`` on, and
a read keeps its answer only when no drop happened while it ran.
"""

from __future__ import annotations

from collections.abc import Callable

from ..store.base import Store

_NONE: frozenset[str] = frozenset()


class Blacklists:
    def __init__(self, store: Store, clock: Callable[[], float], ttl: float | None = None) -> None:
        self.store = store
        self.clock = clock
        self.ttl = ttl
        self._blocked: dict[str, frozenset[str]] = {}
        self._fetched: dict[str, float] = {}
        self._epoch = 0

    async def blocks(self, owner: str, user_id: str) -> bool:
        """Whether ``owner`` has ``user_id`` in their blacklist."""
        cached = self._blocked.get(owner)
        if cached is None or (
            self.ttl is not None and self.clock() - self._fetched.get(owner, 0.0) >= self.ttl
        ):
            epoch = self._epoch
            cached = frozenset(await self.store.friends.blocked_ids(owner)) or _NONE
            if epoch == self._epoch:
                self._blocked[owner] = cached
                if self.ttl is not None:
                    self._fetched[owner] = self.clock()
        return user_id in cached

    def forget(self, owner: str) -> None:
        """Drop ``owner``'s copy: their blacklist changed (here or on another node)."""
        self._epoch += 1
        self._blocked.pop(owner, None)
        self._fetched.pop(owner, None)
