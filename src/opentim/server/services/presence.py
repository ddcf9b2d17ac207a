"""User status and subscriptions: who is online (in a cluster too), custom status, and who hears
of a user's status and profile changes.

Status lives in the store (``presence`` rows, one per logged-in session, and ``user_state``), so
any node answers for any user; a change is pushed through the bus to the subscribers' devices,
wherever they are connected. Profile changes reach the user's own devices, the users who
subscribed to the user's info, and whoever ``audience`` adds: the friendship service plugs in
there (``PresenceService.audiences``) so that friends hear of changes too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from opentim.protocol import ErrorCode, Profile, UserStatus, push_frame
from opentim.protocol.limits import valid_user_id
from opentim.protocol.ops import ProfilePush, StatusPush
from opentim.protocol.rules.users import (
    MAX_CUSTOM_STATUS_BYTES,
    MAX_SUBSCRIPTIONS,
    subscription_room,
)

from ..bus.base import Bus, Envelope
from ..store.base import Store
from ..store.repos.presence import SUB_INFO, SUB_STATUS
from .errors import ServiceError

log = logging.getLogger(__name__)

Audience = Callable[[str], Awaitable[list[str]]]
"""Given a user whose profile changed, more users who should hear of it (e.g. their friends)."""


class PresenceService:
    def __init__(self, store: Store, bus: Bus, node: str) -> None:
        self.store = store
        self.bus = bus
        self.node = node
        self.audiences: list[Audience] = []
        """Further sources of "who hears of this user's profile change" (friendship adds one)."""

    async def start(self) -> None:
        """Forget the sessions a previous run of this node left (it could not end them)."""
        for user_id in await self.store.presence.clear_node(self.node):
            await self._announce_status(user_id)

    # --- devices come and go -----------------------------------------------------------------
    async def connected(self, user_id: str, conn_id: str, device_id: str, platform: int) -> None:
        before, after = await self.store.presence.connected(
            user_id, conn_id, self.node, device_id, platform
        )
        if before != after:
            await self._publish_status(after)

    async def disconnected(self, user_id: str, conn_id: str, *, dropped: bool) -> None:
        before, after = await self.store.presence.disconnected(user_id, conn_id, dropped=dropped)
        if before != after:
            await self._publish_status(after)

    async def _announce_status(self, user_id: str) -> None:
        for status in await self.store.presence.statuses([user_id]):
            await self._publish_status(status)

    async def _publish_status(self, status: UserStatus, *, to_self: bool = False) -> None:
        """Push ``status`` to its subscribers (and, ``to_self``, to the user's own devices: a
        custom status set on one device reaches the others, as in Tencent's SDK)."""
        users = await self.store.presence.subscribers(status.user_id, SUB_STATUS)
        if to_self:
            users = list(dict.fromkeys([status.user_id, *users]))
        if users:
            frame = push_frame("status", StatusPush(statuses=[status]))
            self.bus.publish(Envelope(frame=frame, users=users))

    # --- status calls ------------------------------------------------------------------------
    async def statuses(self, user_ids: list[str]) -> list[UserStatus]:
        return await self.store.presence.statuses(list(dict.fromkeys(user_ids)))

    async def set_custom_status(self, user_id: str, custom: str) -> UserStatus:
        if len(custom.encode()) > MAX_CUSTOM_STATUS_BYTES:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS,
                f"custom status over {MAX_CUSTOM_STATUS_BYTES} bytes",
            )
        status = await self.store.presence.set_custom_status(user_id, custom)
        await self._publish_status(status, to_self=True)
        return status

    async def subscribe(self, user_id: str, kind: int, targets: list[str]) -> None:
        ids = list(dict.fromkeys(targets))
        bad = [t for t in ids if not valid_user_id(t)]
        if bad or not ids:
            raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, f"invalid user ids {bad!r}")
        current = await self.store.presence.subscribed(user_id, kind)
        if not subscription_room(current, ids, MAX_SUBSCRIPTIONS):
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, f"at most {MAX_SUBSCRIPTIONS} subscriptions"
            )
        await self.store.presence.subscribe(user_id, kind, ids)

    async def unsubscribe(self, user_id: str, kind: int, targets: list[str]) -> None:
        """Drop subscriptions to ``targets``; an empty list drops all of ``kind``."""
        await self.store.presence.unsubscribe(user_id, kind, list(targets) or None)

    async def subscribe_status(self, user_id: str, targets: list[str]) -> list[UserStatus]:
        """Subscribe; the targets' statuses as they are now."""
        await self.subscribe(user_id, SUB_STATUS, targets)
        return await self.statuses(targets)

    # --- profile changes ---------------------------------------------------------------------
    async def audience(self, user_id: str) -> list[str]:
        """Everyone who hears of ``user_id``'s profile changes, the user first."""
        users = [user_id, *await self.store.presence.subscribers(user_id, SUB_INFO)]
        for more in self.audiences:
            try:
                users += await more(user_id)
            except Exception:  # one failing source must not silence the others
                log.exception("profile audience of %s", user_id)
        return list(dict.fromkeys(users))

    async def profile_changed(self, profile: Profile, changed: list[str]) -> None:
        frame = push_frame("profile", ProfilePush(profile=profile, changed=changed))
        self.bus.publish(Envelope(frame=frame, users=await self.audience(profile.user_id)))
