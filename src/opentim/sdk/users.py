"""UserManager: profiles, user status and subscriptions, user search, this device's push
settings, and the all-messages receive option (server state; protocol/ops.py USER_OPS)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec

from opentim.protocol import UNCOUNTED_RECV_OPTS, AllRecvOpt, Profile, UserStatus
from opentim.protocol.ops import (
    Empty,
    ProfileGetReq,
    ProfileSetReq,
    ProfilesRes,
    PushStateReq,
    PushTokenReq,
    StatusesRes,
    StatusSetReq,
    UserIdsReq,
    UserSearchReq,
    UserSearchRes,
)
from opentim.protocol.rules.users import RecvWindow, SearchQuery, effective_recv_opt, next_edge

from .events import Events

T = TypeVar("T")
Request = Callable[[str, msgspec.Struct, type[T]], Awaitable[T]]
"""How a manager asks the server: ``request(op, body, answer type)``."""


class UserManager:
    def __init__(
        self,
        request: Request[Any],
        events: Events,
        clock: Callable[[], float],
        on_edge: Callable[[], None] | None = None,
    ) -> None:
        self._request = request
        self._events = events
        self._clock = clock
        self._on_edge = on_edge
        """Called when the all-messages option's window opens or closes by itself (the unread
        total the app sees may change then)."""
        self._edge_timer: asyncio.TimerHandle | None = None
        self.profile: Profile | None = None
        """This user's profile as last known (login, a change here or on another device)."""
        self.all_recv_opt = AllRecvOpt()
        """The all-messages receive option, as last known (login, a change, a push)."""

    async def _ask(self, op: str, body: msgspec.Struct, result: type[T]) -> T:
        answer: T = await self._request(op, body, result)
        return answer

    # --- profiles ---------------------------------------------------------------------------
    async def set_profile(self, **changes: Any) -> Profile:
        """Change this user's profile (``nick``, ``face_url`` … and ``custom``: a dict of
        ``Tag_Profile_Custom_*`` → value, "" removing one)."""
        self.profile = await self._ask("profile_set", ProfileSetReq(**changes), Profile)
        return self.profile

    async def get_profiles(self, user_ids: list[str]) -> list[Profile]:
        """The profiles of the known users among ``user_ids`` (asked again for the ids a full
        answer left), in the order asked."""
        profiles: list[Profile] = []
        left = list(user_ids)
        while left:
            res = await self._ask("profile_get", ProfileGetReq(user_ids=left), ProfilesRes)
            profiles += res.profiles
            if not res.profiles or not res.left:
                break
            left = res.left
        return profiles

    async def search(self, query: SearchQuery, count: int = 0, cursor: str = "") -> UserSearchRes:
        body = UserSearchReq(
            keywords=list(query.keywords),
            match_all=query.match_all,
            gender=query.gender,
            min_birthday=query.min_birthday,
            max_birthday=query.max_birthday,
            count=count,
            cursor=cursor,
        )
        return await self._ask("user_search", body, UserSearchRes)

    async def subscribe_info(self, user_ids: list[str]) -> None:
        await self._ask("info_subscribe", UserIdsReq(user_ids=user_ids), Empty)

    async def unsubscribe_info(self, user_ids: list[str]) -> None:
        """Stop hearing of these users' profile changes ([]: of everyone's)."""
        await self._ask("info_unsubscribe", UserIdsReq(user_ids=user_ids), Empty)

    # --- status -----------------------------------------------------------------------------
    async def statuses(self, user_ids: list[str]) -> list[UserStatus]:
        res = await self._ask("status_get", UserIdsReq(user_ids=user_ids), StatusesRes)
        return res.statuses

    async def set_custom_status(self, custom: str) -> UserStatus:
        return await self._ask("status_set", StatusSetReq(custom_status=custom), UserStatus)

    async def subscribe_status(self, user_ids: list[str]) -> list[UserStatus]:
        """Subscribe; the users' status as it is now."""
        res = await self._ask("status_subscribe", UserIdsReq(user_ids=user_ids), StatusesRes)
        return res.statuses

    async def unsubscribe_status(self, user_ids: list[str]) -> None:
        """Stop hearing of these users' status ([]: of everyone's)."""
        await self._ask("status_unsubscribe", UserIdsReq(user_ids=user_ids), Empty)

    # --- this device's push settings --------------------------------------------------------
    async def set_push_token(self, token: str, business_id: int = 0, token_type: int = 0) -> None:
        body = PushTokenReq(token=token, business_id=business_id, token_type=token_type)
        await self._ask("push_token", body, Empty)

    async def set_app_state(self, background: bool, unread: int = 0) -> None:
        await self._ask("push_state", PushStateReq(background=background, unread=unread), Empty)

    # --- the all-messages receive option ----------------------------------------------------
    async def set_all_recv_opt(self, opt: AllRecvOpt) -> AllRecvOpt:
        self._learnt(await self._ask("all_recv_opt_set", opt, AllRecvOpt))
        self._events.emit_all_recv_opt(self.all_recv_opt)
        return self.all_recv_opt

    async def get_all_recv_opt(self) -> AllRecvOpt:
        self._learnt(await self._ask("all_recv_opt_get", Empty(), AllRecvOpt))
        return self.all_recv_opt

    def recv_opt_now(self, conv_opt: int) -> int:
        """The receive option that applies now to a conversation with ``conv_opt``: its own,
        else the all-messages one while its window is open."""
        o = self.all_recv_opt
        window = RecvWindow(o.opt, o.start, o.duration, o.daily)
        return effective_recv_opt(conv_opt, window, int(self._clock()))

    def _learnt(self, opt: AllRecvOpt) -> None:
        """A new all-messages option: keep it, and wake up at its window's next edge."""
        self.all_recv_opt = opt
        if self._edge_timer is not None:
            self._edge_timer.cancel()
            self._edge_timer = None
        now = self._clock()
        edge = next_edge(RecvWindow(opt.opt, opt.start, opt.duration, opt.daily), int(now))
        if edge is not None and self._on_edge is not None:
            self._edge_timer = asyncio.get_running_loop().call_later(edge - now, self._edge)

    def _edge(self) -> None:
        self._edge_timer = None
        if self._on_edge is not None:
            self._on_edge()
        self._learnt(self.all_recv_opt)  # the next edge (a daily window has one every day)

    def stop(self) -> None:
        """No more edge wake-ups (logout, close)."""
        if self._edge_timer is not None:
            self._edge_timer.cancel()
            self._edge_timer = None

    def total_now(self, total: int) -> int:
        """The unread total the app sees: none while the all-messages option's window is open
        with an option that leaves conversations out of totals (every conversation without an
        option of its own takes it; those with one are left out already), else ``total``."""
        return 0 if self.recv_opt_now(0) in UNCOUNTED_RECV_OPTS else total

    # --- pushes -----------------------------------------------------------------------------
    def on_profile(self, profile: Profile, changed: list[str]) -> None:
        if self.profile is not None and profile.user_id == self.profile.user_id:
            self.profile = profile
        self._events.emit_profile(profile, changed)

    def on_all_recv_opt(self, opt: AllRecvOpt) -> None:
        self._learnt(opt)
        self._events.emit_all_recv_opt(opt)
