"""Each user's conversation list: sync by change cursor, get, create, delete, pin, draft, read."""

from __future__ import annotations

import msgspec

from opentim.protocol import (
    Conversation,
    ConvType,
    ErrorCode,
    OpenTimProtocolError,
    encode_token,
    parse_token,
    push_frame,
)
from opentim.protocol.limits import MAX_DRAFT_BYTES, SYNC_PAGE
from opentim.protocol.ops import ConvPush

from ..bus.base import Bus, Envelope
from ..store.base import ConvChange, Store
from .errors import ConvNotFoundError, GroupNotFoundError, NotMemberError, ServiceError
from .users import UserService

_encoder = msgspec.json.Encoder()


class ConversationService:
    """Per-user conversation state; every change is pushed to the user's other devices."""

    def __init__(self, store: Store, bus: Bus, users: UserService) -> None:
        self.store = store
        self.bus = bus
        self.users = users

    def publish(self, user_id: str, convs: list[Conversation], conn_id: str = "") -> None:
        """Tell ``user_id``'s devices (but connection ``conn_id``) about changed conversations."""
        if convs:
            frame = push_frame("conv", ConvPush(convs=convs))
            self.bus.publish(Envelope(frame=frame, users=[user_id], skip_conn=conn_id))

    async def sync(
        self, user_id: str, cursor: str, limit: int
    ) -> tuple[list[Conversation], str, bool]:
        """A page of the user's conversations changed since ``cursor`` (a sync token)."""
        try:
            token = parse_token(cursor)
        except OpenTimProtocolError as exc:
            raise ServiceError(exc.code, exc.desc) from exc
        convs, after, more = await self.store.sync_conversations(
            user_id, token, max(1, min(limit, SYNC_PAGE))
        )
        return convs, encode_token(after), more

    async def get(self, user_id: str, keys: list[tuple[int, str]]) -> list[Conversation]:
        return await self.store.get_conversations(user_id, keys)

    async def change(
        self, user_id: str, conv_type: int, conv_id: str, change: ConvChange, conn_id: str
    ) -> Conversation:
        """Apply a change to an existing conversation (or create one) and publish it."""
        self.bus.ensure_up()
        if conv_type not in (ConvType.C2C, ConvType.GROUP) or not conv_id:
            raise ServiceError(ErrorCode.ERR_INVALID_CONVERSATION, "invalid conversation")
        if change.draft is not None and len(_encoder.encode(change.draft)) > MAX_DRAFT_BYTES:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, f"draft over {MAX_DRAFT_BYTES} bytes"
            )
        if change.create:
            await self._check_can_create(user_id, conv_type, conv_id)
        conv = await self.store.change_conversation(user_id, conv_type, conv_id, change)
        if conv is None:
            raise ConvNotFoundError(conv_id)
        self.publish(user_id, [conv], conn_id)
        return conv

    async def _check_can_create(self, user_id: str, conv_type: int, conv_id: str) -> None:
        if conv_type == ConvType.C2C:
            if await self.users.profile(conv_id) is None:
                raise ServiceError(ErrorCode.ERR_INVALID_MSG_RECEIVER, f"no user {conv_id!r}")
            return
        if await self.store.get_group(conv_id) is None:
            raise GroupNotFoundError(conv_id)
        if user_id not in await self.store.get_members(conv_id):
            raise NotMemberError(f"{user_id!r} is not a member of {conv_id!r}")
