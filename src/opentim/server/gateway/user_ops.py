"""The op table's rows for users (issue 11): status, subscriptions, search, push settings, the
all-messages receive option, and finding and reading messages in bulk."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from opentim.protocol import AllRecvOpt
from opentim.protocol.ops import (
    Empty,
    HistoryRes,
    MsgFindReq,
    PushStateReq,
    PushTokenReq,
    StatusesRes,
    StatusSetReq,
    UserIdsReq,
    UserSearchReq,
    UserSearchRes,
)
from opentim.protocol.rules.users import SearchQuery
from opentim.server.store.repos.presence import SUB_INFO, SUB_STATUS

from .sessions import Connection

if TYPE_CHECKING:
    from .dispatch import Handler, Services


async def user_search(s: Services, c: Connection, b: UserSearchReq) -> msgspec.Struct:
    query = SearchQuery(
        keywords=tuple(b.keywords),
        match_all=b.match_all,
        gender=b.gender,
        min_birthday=b.min_birthday,
        max_birthday=b.max_birthday,
    )
    profiles, total, cursor = await s.users.search(query, b.count, b.cursor)
    return UserSearchRes(profiles=profiles, total=total, cursor=cursor, finished=not cursor)


async def status_get(s: Services, c: Connection, b: UserIdsReq) -> msgspec.Struct:
    return StatusesRes(statuses=await s.presence.statuses(b.user_ids))


async def status_set(s: Services, c: Connection, b: StatusSetReq) -> msgspec.Struct:
    return await s.presence.set_custom_status(c.user_id, b.custom_status)


async def status_subscribe(s: Services, c: Connection, b: UserIdsReq) -> msgspec.Struct:
    return StatusesRes(statuses=await s.presence.subscribe_status(c.user_id, b.user_ids))


async def status_unsubscribe(s: Services, c: Connection, b: UserIdsReq) -> msgspec.Struct:
    await s.presence.unsubscribe(c.user_id, SUB_STATUS, b.user_ids)
    return Empty()


async def info_subscribe(s: Services, c: Connection, b: UserIdsReq) -> msgspec.Struct:
    await s.presence.subscribe(c.user_id, SUB_INFO, b.user_ids)
    return Empty()


async def info_unsubscribe(s: Services, c: Connection, b: UserIdsReq) -> msgspec.Struct:
    await s.presence.unsubscribe(c.user_id, SUB_INFO, b.user_ids)
    return Empty()


async def push_token(s: Services, c: Connection, b: PushTokenReq) -> msgspec.Struct:
    await s.push.set_token(c.user_id, c.device_id, b.token, b.business_id, b.token_type)
    return Empty()


async def push_state(s: Services, c: Connection, b: PushStateReq) -> msgspec.Struct:
    await s.push.set_state(c.user_id, c.device_id, b.background, b.unread)
    return Empty()


async def all_recv_opt_set(s: Services, c: Connection, b: AllRecvOpt) -> msgspec.Struct:
    return await s.push.set_all_recv_opt(c.user_id, b, c.conn_id)


async def all_recv_opt_get(s: Services, c: Connection, b: Empty) -> msgspec.Struct:
    return await s.push.all_recv_opt(c.user_id)


async def msg_find(s: Services, c: Connection, b: MsgFindReq) -> msgspec.Struct:
    if b.conv_id:
        msgs = await s.messages.find_at(c.user_id, b.conv_type, b.conv_id, b.seqs)
    else:
        msgs = await s.messages.find(c.user_id, b.msg_ids)
    return HistoryRes(msgs=msgs)


async def conv_read_all(s: Services, c: Connection, b: Empty) -> msgspec.Struct:
    from .dispatch import convs_res

    return convs_res(await s.conversations.read_all(c.user_id, c.conn_id))


USER_HANDLERS: dict[str, Handler] = {
    "user_search": user_search,
    "status_get": status_get,
    "status_set": status_set,
    "status_subscribe": status_subscribe,
    "status_unsubscribe": status_unsubscribe,
    "info_subscribe": info_subscribe,
    "info_unsubscribe": info_unsubscribe,
    "push_token": push_token,
    "push_state": push_state,
    "all_recv_opt_set": all_recv_opt_set,
    "all_recv_opt_get": all_recv_opt_get,
    "msg_find": msg_find,
    "conv_read_all": conv_read_all,
}
"""The service ops of ``protocol.ops.USER_OPS``; dispatch.py makes them rows of its table."""
