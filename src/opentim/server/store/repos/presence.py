"""Per-user state beside the profile: which devices are connected (on which node), the custom
status, subscriptions to other users, each device's push settings and the all-messages receive
option. Written once for both engines.

Presence rows are the cluster's shared view of who is online: a node adds a row when a session
logs in and removes it when it ends, and at start it clears the rows a previous run of a node of
the same name left (a node that crashed cannot clear its own).
"""

from __future__ import annotations

from opentim.protocol import AllRecvOpt, PushSettings, UserStatus
from opentim.protocol.rules.users import status_type

from ..engine import Engine
from ..sql import Op, execute, row, rows
from ..writes import WriteTx

SUB_STATUS = 1
"""A subscription to a user's status."""
SUB_INFO = 2
"""A subscription to a user's profile changes."""


def _state(user_id: str) -> Op[tuple[str, int]]:
    found = yield row("SELECT custom_status, dropped FROM user_state WHERE user_id = ?", user_id)
    return (found[0], found[1]) if found else ("", 0)


def _devices(user_id: str) -> Op[list[str]]:
    found = yield rows(
        "SELECT device_id, conn_id FROM presence WHERE user_id = ? ORDER BY conn_id", user_id
    )
    return [r[0] or r[1] for r in found]


def _status(user_id: str) -> Op[UserStatus]:
    custom, dropped = yield from _state(user_id)
    devices = yield from _devices(user_id)
    return UserStatus(
        user_id=user_id,
        status_type=status_type(len(devices), bool(dropped)),
        custom_status=custom,
        online_devices=devices,
    )


def _ensure_state(user_id: str) -> Op[None]:
    yield execute(
        "INSERT INTO user_state (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING", user_id
    )


class Presence:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- status ------------------------------------------------------------------------------
    async def statuses(self, user_ids: list[str]) -> list[UserStatus]:
        def read() -> Op[list[UserStatus]]:
            out = []
            for user_id in user_ids:
                out.append((yield from _status(user_id)))
            return out

        return await self.engine.read(read) if user_ids else []

    async def connected(
        self, user_id: str, conn_id: str, node: str, device_id: str, platform: int
    ) -> tuple[UserStatus, UserStatus]:
        """Record a logged-in session; the user's status before and after."""

        def write(tx: WriteTx) -> Op[tuple[UserStatus, UserStatus]]:
            before = yield from _status(user_id)
            yield execute(
                "INSERT INTO presence (user_id, conn_id, node, device_id, platform) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, conn_id) DO NOTHING",
                user_id,
                conn_id,
                node,
                device_id,
                platform,
            )
            after = yield from _status(user_id)
            return before, after

        return await self.engine.write(write)

    async def disconnected(
        self, user_id: str, conn_id: str, *, dropped: bool
    ) -> tuple[UserStatus, UserStatus]:
        """Forget a session (``dropped``: it was not a logout); the status before and after."""

        def write(tx: WriteTx) -> Op[tuple[UserStatus, UserStatus]]:
            before = yield from _status(user_id)
            yield execute(
                "DELETE FROM presence WHERE user_id = ? AND conn_id = ?", user_id, conn_id
            )
            yield from _ensure_state(user_id)
            yield execute(
                "UPDATE user_state SET dropped = ? WHERE user_id = ?", int(dropped), user_id
            )
            after = yield from _status(user_id)
            return before, after

        return await self.engine.write(write)

    async def clear_node(self, node: str) -> list[str]:
        """Remove every presence row of ``node``; the users they belonged to."""

        def write(tx: WriteTx) -> Op[list[str]]:
            found = yield rows("SELECT DISTINCT user_id FROM presence WHERE node = ?", node)
            yield execute("DELETE FROM presence WHERE node = ?", node)
            users = [r[0] for r in found]
            for user_id in users:
                yield from _ensure_state(user_id)
                yield execute("UPDATE user_state SET dropped = 1 WHERE user_id = ?", user_id)
            return users

        return await self.engine.write(write)

    async def set_custom_status(self, user_id: str, custom: str) -> UserStatus:
        def write(tx: WriteTx) -> Op[UserStatus]:
            yield from _ensure_state(user_id)
            yield execute(
                "UPDATE user_state SET custom_status = ? WHERE user_id = ?", custom, user_id
            )
            return (yield from _status(user_id))

        return await self.engine.write(write)

    # --- subscriptions -----------------------------------------------------------------------
    async def subscribed(self, user_id: str, kind: int) -> list[str]:
        """Whom ``user_id`` subscribed to (of ``kind``)."""

        def read() -> Op[list[str]]:
            found = yield rows(
                "SELECT target FROM subscriptions WHERE user_id = ? AND kind = ? ORDER BY target",
                user_id,
                kind,
            )
            return [r[0] for r in found]

        return await self.engine.read(read)

    async def subscribers(self, target: str, kind: int) -> list[str]:
        """Who subscribed to ``target`` (of ``kind``)."""

        def read() -> Op[list[str]]:
            found = yield rows(
                "SELECT user_id FROM subscriptions WHERE target = ? AND kind = ? ORDER BY user_id",
                target,
                kind,
            )
            return [r[0] for r in found]

        return await self.engine.read(read)

    async def subscribe(self, user_id: str, kind: int, targets: list[str]) -> None:
        def write(tx: WriteTx) -> Op[None]:
            for target in targets:
                yield execute(
                    "INSERT INTO subscriptions (user_id, kind, target) VALUES (?, ?, ?) "
                    "ON CONFLICT (user_id, kind, target) DO NOTHING",
                    user_id,
                    kind,
                    target,
                )

        await self.engine.write(write)

    async def unsubscribe(self, user_id: str, kind: int, targets: list[str] | None) -> None:
        """Drop subscriptions to ``targets`` (None: all of this kind)."""

        def write(tx: WriteTx) -> Op[None]:
            if targets is None:
                yield execute(
                    "DELETE FROM subscriptions WHERE user_id = ? AND kind = ?", user_id, kind
                )
                return
            for target in targets:
                yield execute(
                    "DELETE FROM subscriptions WHERE user_id = ? AND kind = ? AND target = ?",
                    user_id,
                    kind,
                    target,
                )

        await self.engine.write(write)

    # --- push settings -----------------------------------------------------------------------
    async def push_settings(self, user_id: str) -> list[PushSettings]:
        def read() -> Op[list[PushSettings]]:
            found = yield rows(
                "SELECT device_id, token, business_id, token_type, background, unread, updated "
                "FROM push_devices WHERE user_id = ? ORDER BY device_id",
                user_id,
            )
            return [
                PushSettings(
                    device_id=r[0],
                    token=r[1],
                    business_id=r[2],
                    token_type=r[3],
                    background=bool(r[4]),
                    unread=r[5],
                    updated=r[6],
                )
                for r in found
            ]

        return await self.engine.read(read)

    async def set_push(self, user_id: str, s: PushSettings) -> None:
        def write(tx: WriteTx) -> Op[None]:
            yield execute(
                "INSERT INTO push_devices (user_id, device_id, token, business_id, token_type, "
                "background, unread, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id, device_id) DO UPDATE SET token = excluded.token, "
                "business_id = excluded.business_id, token_type = excluded.token_type, "
                "background = excluded.background, unread = excluded.unread, "
                "updated = excluded.updated",
                user_id,
                s.device_id,
                s.token,
                s.business_id,
                s.token_type,
                int(s.background),
                s.unread,
                s.updated,
            )

        await self.engine.write(write)

    # --- all-messages receive option ---------------------------------------------------------
    async def all_recv_opt(self, user_id: str) -> AllRecvOpt:
        def read() -> Op[AllRecvOpt]:
            found = yield row(
                "SELECT recv_opt, recv_start, recv_duration, recv_daily FROM user_state "
                "WHERE user_id = ?",
                user_id,
            )
            if not found:
                return AllRecvOpt()
            return AllRecvOpt(opt=found[0], start=found[1], duration=found[2], daily=bool(found[3]))

        return await self.engine.read(read)

    async def set_all_recv_opt(self, user_id: str, opt: AllRecvOpt) -> None:
        def write(tx: WriteTx) -> Op[None]:
            yield from _ensure_state(user_id)
            yield execute(
                "UPDATE user_state SET recv_opt = ?, recv_start = ?, recv_duration = ?, "
                "recv_daily = ? WHERE user_id = ?",
                opt.opt,
                opt.start,
                opt.duration,
                int(opt.daily),
                user_id,
            )

        await self.engine.write(write)
