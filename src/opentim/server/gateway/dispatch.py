"""Op → service handler table, and the one place service errors become error frames."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from opentim.protocol import ErrorCode, error_response, response
from opentim.protocol.ops import (
    ConvGetReq,
    ConvKey,
    ConvRes,
    ConvsRes,
    DraftReq,
    Empty,
    GroupCreateReq,
    GroupIdReq,
    GroupIdRes,
    GroupJoinReq,
    GroupListRes,
    GroupMembersReq,
    HistoryReq,
    HistoryRes,
    MemberResultsRes,
    ProfileGetReq,
    ProfileSetReq,
    ProfilesRes,
    SyncReq,
    SyncRes,
)

from ..bus.base import BusUnavailableError
from ..services.conversations import ConversationService
from ..services.errors import ServiceError
from ..services.groups import GroupService
from ..services.messages import MessageService
from ..services.users import UserService
from ..store.base import ConvChange, StoreError, StoreUnavailableError
from .sessions import Connection

log = logging.getLogger(__name__)

Handler = Callable[[Connection, Any], Awaitable[msgspec.Struct]]


@dataclass
class Services:
    users: UserService
    messages: MessageService
    conversations: ConversationService
    groups: GroupService


def error_frame(req_id: int, exc: BaseException) -> bytes:
    """Turn any failure into an error frame; unexpected ones are logged with their traceback."""
    if isinstance(exc, ServiceError):
        return error_response(req_id, exc.code, exc.desc)
    if isinstance(exc, StoreUnavailableError):
        log.warning("store unavailable: %s", exc)
        return error_response(req_id, ErrorCode.ERR_SDK_COMM_DATABASE_FAILURE, str(exc))
    if isinstance(exc, StoreError):
        log.error("store failure", exc_info=exc)
        return error_response(req_id, ErrorCode.ERR_SDK_COMM_DATABASE_FAILURE, str(exc))
    if isinstance(exc, BusUnavailableError):
        log.warning("bus unavailable: %s", exc)
        return error_response(req_id, ErrorCode.ERR_SVR_MSG_INTERNAL_ERROR1, str(exc))
    log.error("internal error", exc_info=exc)
    return error_response(req_id, ErrorCode.ERR_SDK_INTERNAL_ERROR, "internal error")


async def ok_frame(req_id: int, result: Awaitable[msgspec.Struct]) -> bytes:
    try:
        return response(req_id, await result)
    except Exception as exc:
        return error_frame(req_id, exc)


def build_handlers(s: Services) -> dict[str, Handler]:
    """The table of every op but login, logout, ping and send (the gateway handles those)."""

    async def profile_set(c: Connection, b: ProfileSetReq) -> msgspec.Struct:
        return await s.users.set_profile(c.user_id, msgspec.structs.asdict(b))

    async def profile_get(c: Connection, b: ProfileGetReq) -> msgspec.Struct:
        return ProfilesRes(profiles=await s.users.profiles(b.user_ids))

    async def history(c: Connection, b: HistoryReq) -> msgspec.Struct:
        msgs = await s.messages.history(c.user_id, b.conv_type, b.conv_id, b.before_seq, b.count)
        return HistoryRes(msgs=msgs)

    async def conv_sync(c: Connection, b: SyncReq) -> msgspec.Struct:
        convs, cursor, more = await s.conversations.sync(c.user_id, b.cursor, b.limit)
        return SyncRes(convs=convs, cursor=cursor, more=more)

    async def conv_get(c: Connection, b: ConvGetReq) -> msgspec.Struct:
        keys = [(k.conv_type, k.conv_id) for k in b.keys]
        return ConvsRes(convs=await s.conversations.get(c.user_id, keys))

    def change(make: Callable[[Any], ConvChange]) -> Handler:
        async def handle(c: Connection, b: Any) -> msgspec.Struct:
            conv = await s.conversations.change(
                c.user_id, b.conv_type, b.conv_id, make(b), c.conn_id
            )
            return ConvRes(conv=conv)

        return handle

    def draft_change(b: DraftReq) -> ConvChange:
        return ConvChange(draft=b.draft) if b.draft is not None else ConvChange(clear_draft=True)

    async def conv_create(c: Connection, b: ConvKey) -> msgspec.Struct:
        before = await s.conversations.get(c.user_id, [(b.conv_type, b.conv_id)])
        conv = await s.conversations.change(
            c.user_id, b.conv_type, b.conv_id, ConvChange(create=True), c.conn_id
        )
        return ConvRes(conv=conv, created=not before or before[0].deleted)

    async def group_create(c: Connection, b: GroupCreateReq) -> msgspec.Struct:
        return GroupIdRes(group_id=await s.groups.create(c.user_id, b))

    async def group_delete(c: Connection, b: GroupIdReq) -> msgspec.Struct:
        await s.groups.delete(c.user_id, b.group_id)
        return Empty()

    async def group_join(c: Connection, b: GroupJoinReq) -> msgspec.Struct:
        await s.groups.join(c.user_id, b.group_id)
        return Empty()

    async def group_quit(c: Connection, b: GroupIdReq) -> msgspec.Struct:
        await s.groups.quit(c.user_id, b.group_id)
        return Empty()

    async def group_invite(c: Connection, b: GroupMembersReq) -> msgspec.Struct:
        return MemberResultsRes(results=await s.groups.invite(c.user_id, b.group_id, b.user_ids))

    async def group_kick(c: Connection, b: GroupMembersReq) -> msgspec.Struct:
        return MemberResultsRes(results=await s.groups.kick(c.user_id, b.group_id, b.user_ids))

    async def group_joined(c: Connection, b: Empty) -> msgspec.Struct:
        return GroupListRes(groups=await s.groups.joined(c.user_id))

    return {
        "profile_set": profile_set,
        "profile_get": profile_get,
        "history": history,
        "conv_sync": conv_sync,
        "conv_get": conv_get,
        "conv_create": conv_create,
        "conv_delete": change(lambda b: ConvChange(delete=True)),
        "conv_pin": change(lambda b: ConvChange(pinned=b.pinned)),
        "conv_draft": change(draft_change),
        "conv_read": change(lambda b: ConvChange(read_up_to=b.seq)),
        "group_create": group_create,
        "group_delete": group_delete,
        "group_join": group_join,
        "group_quit": group_quit,
        "group_invite": group_invite,
        "group_kick": group_kick,
        "group_joined": group_joined,
    }
