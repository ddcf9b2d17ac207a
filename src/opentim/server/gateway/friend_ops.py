"""The friendship ops (protocol/friendship.py): each hands its body to the FriendService."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from opentim.protocol import friendship as fs
from opentim.protocol.ops import Empty

from ..services.friends import FriendService
from .sessions import Connection

FriendHandler = Callable[[FriendService, Connection, Any], Awaitable[msgspec.Struct]]


async def friend_add(f: FriendService, c: Connection, b: fs.FriendAddReq) -> msgspec.Struct:
    return await f.add(c.user_id, b)


async def friend_delete(f: FriendService, c: Connection, b: fs.TypedIdsReq) -> msgspec.Struct:
    return fs.ResultsRes(results=await f.delete(c.user_id, b.user_ids, b.type))


async def friend_check(f: FriendService, c: Connection, b: fs.TypedIdsReq) -> msgspec.Struct:
    return fs.RelationsRes(results=await f.check(c.user_id, b.user_ids, b.type))


async def friend_list(f: FriendService, c: Connection, b: Empty) -> msgspec.Struct:
    return fs.FriendsRes(friends=await f.friends(c.user_id))


async def friend_info(f: FriendService, c: Connection, b: fs.IdsReq) -> msgspec.Struct:
    return fs.FriendInfosRes(results=await f.infos(c.user_id, b.user_ids))


async def friend_modify(f: FriendService, c: Connection, b: fs.FriendModifyReq) -> msgspec.Struct:
    await f.modify(c.user_id, b)
    return Empty()


async def friend_search(f: FriendService, c: Connection, b: fs.FriendSearchReq) -> msgspec.Struct:
    return fs.FriendInfosRes(results=await f.search(c.user_id, b.keywords, b.fields))


async def friend_apps(f: FriendService, c: Connection, b: fs.ApplicationsReq) -> msgspec.Struct:
    return await f.applications(c.user_id, b.type, b.limit)


async def friend_answer(f: FriendService, c: Connection, b: fs.AnswerReq) -> msgspec.Struct:
    return await f.answer(c.user_id, b.user_id, b.action, b.remark, b.group_name)


async def friend_apps_read(f: FriendService, c: Connection, b: fs.ReadReq) -> msgspec.Struct:
    await f.report_read(c.user_id, b.time)
    return Empty()


async def friend_apps_delete(f: FriendService, c: Connection, b: fs.TypedIdsReq) -> msgspec.Struct:
    return fs.ResultsRes(results=await f.delete_applications(c.user_id, b.type, b.user_ids))


async def black_add(f: FriendService, c: Connection, b: fs.IdsReq) -> msgspec.Struct:
    return fs.ResultsRes(results=await f.block(c.user_id, b.user_ids))


async def black_delete(f: FriendService, c: Connection, b: fs.IdsReq) -> msgspec.Struct:
    return fs.ResultsRes(results=await f.unblock(c.user_id, b.user_ids))


async def black_list(f: FriendService, c: Connection, b: Empty) -> msgspec.Struct:
    return fs.FriendsRes(friends=await f.blacklist(c.user_id))


async def fgroup_create(f: FriendService, c: Connection, b: fs.FriendGroupReq) -> msgspec.Struct:
    return fs.ResultsRes(results=await f.create_groups(c.user_id, b.names, b.user_ids))


async def fgroup_delete(f: FriendService, c: Connection, b: fs.FriendGroupReq) -> msgspec.Struct:
    await f.delete_groups(c.user_id, b.names)
    return Empty()


async def fgroup_modify(f: FriendService, c: Connection, b: fs.FriendGroupReq) -> msgspec.Struct:
    name = b.names[0] if b.names else ""
    results = await f.change_group(c.user_id, name, b.new_name, b.user_ids, b.remove_ids)
    return fs.ResultsRes(results=results)


async def fgroup_list(f: FriendService, c: Connection, b: fs.FriendGroupReq) -> msgspec.Struct:
    return fs.FriendGroupsRes(groups=await f.groups(c.user_id, b.names))


async def follow(f: FriendService, c: Connection, b: fs.IdsReq) -> msgspec.Struct:
    return fs.ResultsRes(results=await f.follow(c.user_id, b.user_ids, True))


async def unfollow(f: FriendService, c: Connection, b: fs.IdsReq) -> msgspec.Struct:
    return fs.ResultsRes(results=await f.follow(c.user_id, b.user_ids, False))


async def follow_list(f: FriendService, c: Connection, b: fs.FollowListReq) -> msgspec.Struct:
    users, cursor = await f.follow_list(c.user_id, b.kind, b.cursor)
    return fs.FollowListRes(users=users, cursor=cursor)


async def follow_counts(f: FriendService, c: Connection, b: fs.IdsReq) -> msgspec.Struct:
    return fs.FollowCountsRes(results=await f.follow_counts(b.user_ids))


async def follow_check(f: FriendService, c: Connection, b: fs.IdsReq) -> msgspec.Struct:
    return fs.RelationsRes(results=await f.follow_check(c.user_id, b.user_ids))


async def oa_subscribe(f: FriendService, c: Connection, b: fs.AccountIdReq) -> msgspec.Struct:
    await f.subscribe(c.user_id, b.account_id, True)
    return Empty()


async def oa_unsubscribe(f: FriendService, c: Connection, b: fs.AccountIdReq) -> msgspec.Struct:
    await f.subscribe(c.user_id, b.account_id, False)
    return Empty()


async def oa_info(f: FriendService, c: Connection, b: fs.AccountsReq) -> msgspec.Struct:
    return fs.AccountsRes(results=await f.accounts(c.user_id, b.account_ids))


FRIEND_OPS: dict[str, FriendHandler] = {
    "friend_add": friend_add,
    "friend_delete": friend_delete,
    "friend_check": friend_check,
    "friend_list": friend_list,
    "friend_info": friend_info,
    "friend_modify": friend_modify,
    "friend_search": friend_search,
    "friend_apps": friend_apps,
    "friend_answer": friend_answer,
    "friend_apps_read": friend_apps_read,
    "friend_apps_delete": friend_apps_delete,
    "black_add": black_add,
    "black_delete": black_delete,
    "black_list": black_list,
    "fgroup_create": fgroup_create,
    "fgroup_delete": fgroup_delete,
    "fgroup_modify": fgroup_modify,
    "fgroup_list": fgroup_list,
    "follow": follow,
    "unfollow": unfollow,
    "follow_list": follow_list,
    "follow_counts": follow_counts,
    "follow_check": follow_check,
    "oa_subscribe": oa_subscribe,
    "oa_unsubscribe": oa_unsubscribe,
    "oa_info": oa_info,
}
