"""What offline pushes will need, kept on the server: each device's push token and whether the
app is in the background (with its badge count), and the user's all-messages receive option.

Nothing sends offline pushes yet: a later issue hands these to app backends through webhooks.
The all-messages option is honoured where the per-conversation one is (unread totals, on the
SDK side, through ``rules.users.effective_recv_opt``).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from opentim.protocol import AllRecvOpt, ErrorCode, PushSettings, RecvOpt, push_frame
from opentim.protocol.ops import AllRecvOptPush
from opentim.protocol.rules.users import DAY

from ..bus.base import Bus, Envelope
from ..store.base import Store
from .errors import ServiceError

MAX_PUSH_TOKEN_BYTES = 1024
"""A push token (APNs tokens are 32 bytes, FCM's a few hundred characters)."""


def check_all_recv_opt(opt: AllRecvOpt) -> None:
    """Refuse an option outside ``TIMReceiveMessageOpt``, a time of day past midnight, or a
    value beyond uint32 (6017)."""
    if opt.opt not in set(RecvOpt):
        raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, f"unknown receive option {opt.opt}")
    if not 0 <= opt.start < (DAY if opt.daily else 1 << 32):
        raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, f"invalid start {opt.start}")
    if not 0 <= opt.duration < 1 << 32:
        raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, f"invalid duration {opt.duration}")


class PushService:
    def __init__(self, store: Store, bus: Bus, clock: Callable[[], float]) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock

    async def _update(self, user_id: str, device_id: str, **fields: object) -> None:
        known = {s.device_id: s for s in await self.store.presence.push_settings(user_id)}
        current = known.get(device_id) or PushSettings(device_id=device_id)
        updated = msgspec.structs.replace(current, updated=int(self.clock()), **fields)
        await self.store.presence.set_push(user_id, updated)

    async def set_token(
        self, user_id: str, device_id: str, token: str, business_id: int, token_type: int
    ) -> None:
        if len(token.encode()) > MAX_PUSH_TOKEN_BYTES:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, f"push token over {MAX_PUSH_TOKEN_BYTES} bytes"
            )
        await self._update(
            user_id, device_id, token=token, business_id=business_id, token_type=token_type
        )

    async def set_state(self, user_id: str, device_id: str, background: bool, unread: int) -> None:
        await self._update(
            user_id, device_id, background=background, unread=unread if background else 0
        )

    async def settings(self, user_id: str) -> list[PushSettings]:
        return await self.store.presence.push_settings(user_id)

    async def all_recv_opt(self, user_id: str) -> AllRecvOpt:
        return await self.store.presence.all_recv_opt(user_id)

    async def set_all_recv_opt(self, user_id: str, opt: AllRecvOpt, conn_id: str) -> AllRecvOpt:
        check_all_recv_opt(opt)
        await self.store.presence.set_all_recv_opt(user_id, opt)
        frame = push_frame("all_recv_opt", AllRecvOptPush(opt=opt))
        self.bus.publish(Envelope(frame=frame, users=[user_id], skip_conn=conn_id))
        return opt
