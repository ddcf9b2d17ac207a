"""Op → service handler table, and the one place service errors become error frames."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from opentim.protocol import Conversation, ErrorCode, error_response, response
from opentim.protocol.limits import PAGE_BYTES
from opentim.protocol.ops import (
    CatchUpReq,
    ConvCustomReq,
    ConvDeleteListReq,
    ConvDeleteReq,
    ConvGetReq,
    ConvGroupListRes,
    ConvGroupReq,
    ConvKey,
    ConvMarkReq,
    ConvRes,
    ConvResult,
    ConvResultsRes,
    ConvsRes,
    DraftReq,
    Empty,
    GroupCreateReq,
    GroupIdReq,
    GroupIdRes,
    GroupJoinedReq,
    GroupJoinReq,
    GroupListRes,
    GroupMembersReq,
    HistoryReq,
    HistoryRes,
    MemberResultsRes,
    MsgDeleteReq,
    ProfileGetReq,
    ProfileSetReq,
    ProfilesRes,
    RecvOptGetReq,
    RecvOptItem,
    RecvOptReq,
    RecvOptsRes,
    RevokeReq,
    RevokeRes,
    SyncReq,
    SyncRes,
)
from opentim.protocol.paging import fitting

from ..bus.base import BusUnavailableError
from ..services.conversations import ConversationService
from ..services.errors import ServiceError
from ..services.friends import FriendService
from ..services.groups import GroupService
from ..services.messages import MessageService
from ..services.users import UserService
from ..store.base import ConvChange, StoreError, StoreUnavailableError
from .friend_ops import friend_handlers
from .refusals import REFUSALS
from .sessions import Connection

log = logging.getLogger(__name__)

Handler = Callable[[Connection, Any], Awaitable[msgspec.Struct]]


@dataclass
class Services:
    users: UserService
    messages: MessageService
    conversations: ConversationService
    groups: GroupService
    friends: FriendService


def error_frame(req_id: int, exc: BaseException, op: str = "", who: str = "") -> bytes:
    """Turn any failure of ``op`` (asked by ``who``) into an error frame; a refusal is noted in
    the refusal log, unexpected failures are logged with their traceback."""
    if isinstance(exc, ServiceError):
        REFUSALS.refused(exc.code, exc.desc, op, who)
        return error_response(req_id, exc.code, exc.desc)
    if isinstance(exc, StoreUnavailableError):
        log.warning("store unavailable: %s", exc)
        return error_response(req_id, exc.code, exc.desc)
    if isinstance(exc, StoreError):
        log.error("store failure", exc_info=exc)
        return error_response(req_id, exc.code, exc.desc)
    if isinstance(exc, BusUnavailableError):
        log.warning("bus unavailable: %s", exc)
        return error_response(req_id, exc.code, exc.desc)
    log.error("internal error", exc_info=exc)
    return error_response(req_id, ErrorCode.ERR_SDK_INTERNAL_ERROR, "internal error")


async def ok_frame(
    req_id: int, result: Awaitable[msgspec.Struct], op: str = "", who: str = ""
) -> bytes:
    try:
        return response(req_id, await result)
    except Exception as exc:
        return error_frame(req_id, exc, op, who)


def cut(convs: list[Conversation], budget: int = PAGE_BYTES) -> tuple[list[Conversation], bool]:
    """The changed conversations an answer carries, within ``budget`` bytes, and whether some
    were left out (the answer then says ``more``: the SDK syncs to get them)."""
    n = fitting(convs, budget)
    return convs[:n], n < len(convs)


def results_res(
    results: list[ConvResult], convs: list[Conversation], evicted: list[Conversation] | None = None
) -> ConvResultsRes:
    """A batch answer: the results, and the changed and evicted conversations that fit."""
    kept, more = cut(convs, PAGE_BYTES // 2)
    out, more_out = cut(evicted or [], PAGE_BYTES // 2)
    return ConvResultsRes(results=results, convs=kept, evicted=out, more=more or more_out)


def convs_res(convs: list[Conversation]) -> ConvsRes:
    kept, more = cut(convs)
    return ConvsRes(convs=kept, more=more)


def build_handlers(s: Services) -> dict[str, Handler]:
    """The table of every op but login, logout, ping and send (the gateway handles those)."""

    async def profile_set(c: Connection, b: ProfileSetReq) -> msgspec.Struct:
        return await s.users.set_profile(c.user_id, msgspec.structs.asdict(b))

    async def profile_get(c: Connection, b: ProfileGetReq) -> msgspec.Struct:
        profiles, left = await s.users.profile_page(b.user_ids)
        return ProfilesRes(profiles=profiles, left=left)

    async def history(c: Connection, b: HistoryReq) -> msgspec.Struct:
        msgs, more = await s.messages.history(
            c.user_id, b.conv_type, b.conv_id, b.before_seq, b.count
        )
        return HistoryRes(msgs=msgs, more=more)

    async def catch_up(c: Connection, b: CatchUpReq) -> msgspec.Struct:
        msgs, more = await s.messages.catch_up(
            c.user_id, b.conv_type, b.conv_id, b.after_seq, b.count
        )
        return HistoryRes(msgs=msgs, more=more)

    async def conv_sync(c: Connection, b: SyncReq) -> msgspec.Struct:
        convs, cursor, more, names, reset = await s.conversations.sync(c.user_id, b.cursor, b.limit)
        return SyncRes(convs=convs, cursor=cursor, more=more, conv_groups=names, reset=reset)

    async def conv_get(c: Connection, b: ConvGetReq) -> msgspec.Struct:
        keys = [(k.conv_type, k.conv_id) for k in b.keys]
        convs, left = await s.conversations.get_page(c.user_id, keys)
        return ConvsRes(convs=convs, left=[ConvKey(conv_type=t, conv_id=i) for t, i in left])

    def change(make: Callable[[Any], ConvChange]) -> Handler:
        async def handle(c: Connection, b: Any) -> msgspec.Struct:
            conv = await s.conversations.change(
                c.user_id, b.conv_type, b.conv_id, make(b), c.conn_id
            )
            return ConvRes(conv=conv)

        return handle

    async def conv_draft(c: Connection, b: DraftReq) -> msgspec.Struct:
        conv = await s.conversations.set_draft(
            c.user_id, b.conv_type, b.conv_id, b.draft, b.edit_time, c.conn_id
        )
        return ConvRes(conv=conv)

    async def conv_create(c: Connection, b: ConvKey) -> msgspec.Struct:
        before = await s.conversations.get(c.user_id, [(b.conv_type, b.conv_id)])
        conv = await s.conversations.change(
            c.user_id, b.conv_type, b.conv_id, ConvChange(create=True), c.conn_id
        )
        return ConvRes(conv=conv, created=not before or before[0].deleted)

    def keys_of(b: Any) -> list[tuple[int, str]]:
        return [(k.conv_type, k.conv_id) for k in b.keys]

    async def conv_delete(c: Connection, b: ConvDeleteReq) -> msgspec.Struct:
        change = ConvChange(delete=True, keep_history=not b.clear_messages)
        conv = await s.conversations.change(c.user_id, b.conv_type, b.conv_id, change, c.conn_id)
        return ConvRes(conv=conv)

    async def conv_delete_list(c: Connection, b: ConvDeleteListReq) -> msgspec.Struct:
        results, convs = await s.conversations.delete_many(
            c.user_id, keys_of(b), b.clear_messages, c.conn_id
        )
        return results_res(results, convs)

    async def conv_mark(c: Connection, b: ConvMarkReq) -> msgspec.Struct:
        results, convs = await s.conversations.mark(
            c.user_id, keys_of(b), b.mark, b.enable, c.conn_id
        )
        return results_res(results, convs)

    async def conv_custom(c: Connection, b: ConvCustomReq) -> msgspec.Struct:
        results, convs = await s.conversations.set_custom_data(
            c.user_id, keys_of(b), b.custom_data, c.conn_id
        )
        return results_res(results, convs)

    async def cgroup_create(c: Connection, b: ConvGroupReq) -> msgspec.Struct:
        results, convs = await s.conversations.create_group(
            c.user_id, b.name, keys_of(b), c.conn_id
        )
        return results_res(results, convs)

    async def cgroup_delete(c: Connection, b: ConvGroupReq) -> msgspec.Struct:
        return convs_res(await s.conversations.delete_group(c.user_id, b.name, c.conn_id))

    async def cgroup_rename(c: Connection, b: ConvGroupReq) -> msgspec.Struct:
        convs = await s.conversations.rename_group(c.user_id, b.name, b.new_name, c.conn_id)
        return convs_res(convs)

    async def cgroup_add(c: Connection, b: ConvGroupReq) -> msgspec.Struct:
        results, added, evicted = await s.conversations.add_to_group(
            c.user_id, b.name, keys_of(b), c.conn_id
        )
        return results_res(results, added, evicted)

    async def cgroup_remove(c: Connection, b: ConvGroupReq) -> msgspec.Struct:
        results, convs = await s.conversations.remove_from_group(
            c.user_id, b.name, keys_of(b), c.conn_id
        )
        return results_res(results, convs)

    async def cgroup_list(c: Connection, b: Empty) -> msgspec.Struct:
        return ConvGroupListRes(names=await s.conversations.group_names(c.user_id))

    async def recv_opt_set(c: Connection, b: RecvOptReq) -> msgspec.Struct:
        convs = await s.conversations.set_recv_opt(
            c.user_id, b.conv_type, b.conv_ids, b.opt, c.conn_id
        )
        opts = [RecvOptItem(conv_id=i, opt=b.opt) for i in dict.fromkeys(b.conv_ids)]
        kept, more = cut(convs)
        return RecvOptsRes(opts=opts, convs=kept, more=more)

    async def recv_opt_get(c: Connection, b: RecvOptGetReq) -> msgspec.Struct:
        found = await s.conversations.get_recv_opts(c.user_id, b.user_ids)
        return RecvOptsRes(opts=[RecvOptItem(conv_id=u, opt=o) for u, o in found.items()])

    async def msg_revoke(c: Connection, b: RevokeReq) -> msgspec.Struct:
        msg, pos = await s.messages.revoke(
            c.user_id, b.conv_type, b.conv_id, b.seq, b.msg_id, b.reason, c.conn_id
        )
        return RevokeRes(msg=msg, pos=pos)

    async def msg_delete(c: Connection, b: MsgDeleteReq) -> msgspec.Struct:
        conv = await s.messages.delete(c.user_id, b.conv_type, b.conv_id, b.seqs, c.conn_id)
        return ConvRes(conv=conv)

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

    async def group_joined(c: Connection, b: GroupJoinedReq) -> msgspec.Struct:
        groups, more = await s.groups.joined(c.user_id, b.after_time, b.after_id)
        return GroupListRes(groups=groups, more=more)

    return {
        "profile_set": profile_set,
        "profile_get": profile_get,
        "history": history,
        "catch_up": catch_up,
        "conv_sync": conv_sync,
        "conv_get": conv_get,
        "conv_create": conv_create,
        "conv_delete": conv_delete,
        "conv_delete_list": conv_delete_list,
        "conv_mark": conv_mark,
        "conv_custom": conv_custom,
        "conv_clear_history": change(lambda b: ConvChange(clear_history=True)),
        "cgroup_create": cgroup_create,
        "cgroup_delete": cgroup_delete,
        "cgroup_rename": cgroup_rename,
        "cgroup_add": cgroup_add,
        "cgroup_remove": cgroup_remove,
        "cgroup_list": cgroup_list,
        "recv_opt_set": recv_opt_set,
        "recv_opt_get": recv_opt_get,
        "msg_revoke": msg_revoke,
        "msg_delete": msg_delete,
        "conv_pin": change(lambda b: ConvChange(pinned=b.pinned)),
        "conv_draft": conv_draft,
        "conv_read": change(lambda b: ConvChange(read_up_to=b.seq)),
        "group_create": group_create,
        "group_delete": group_delete,
        "group_join": group_join,
        "group_quit": group_quit,
        "group_invite": group_invite,
        "group_kick": group_kick,
        "group_joined": group_joined,
        **friend_handlers(s.friends),
    }
