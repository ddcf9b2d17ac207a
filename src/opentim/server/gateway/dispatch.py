"""The op table (every op of the protocol, one row each: how it is handled, when it may be asked,
which rate limit and turn it takes), and the one place an exception becomes an error frame."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import msgspec

from opentim.protocol import (
    Conversation,
    ErrorCode,
    OpenTimError,
    OpenTimProtocolError,
    When,
    allowed_ops,
    error_response,
    response,
)
from opentim.protocol.frames import Request
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
    GroupInfoReq,
    GroupInfoRes,
    GroupJoinedReq,
    GroupJoinReq,
    GroupListRes,
    GroupMembersReq,
    GroupModifyReq,
    HistoryReq,
    HistoryRes,
    LoginReq,
    MemberListReq,
    MemberListRes,
    MemberModifyReq,
    MemberResultsRes,
    ModifyReq,
    ModifyRes,
    MsgDeleteReq,
    PendencyHandleReq,
    PendencyListReq,
    PendencyListRes,
    PendencyReadReq,
    ProfileGetReq,
    ProfileSetReq,
    ProfilesRes,
    RecvOptGetReq,
    RecvOptItem,
    RecvOptReq,
    RecvOptsRes,
    RevokeReq,
    RevokeRes,
    SendReq,
    SyncReq,
    SyncRes,
)
from opentim.protocol.paging import fitting

from ..bus.base import BusUnavailableError
from ..services.conversations import ConversationService
from ..services.errors import ServiceError
from ..services.extensions import ExtensionService
from ..services.friends import FriendService
from ..services.groups import GroupService
from ..services.messages import MessageService
from ..services.pins import PinService
from ..services.presence import PresenceService
from ..services.push import PushService
from ..services.reactions import ReactionService
from ..services.users import UserService
from ..store.base import ConvChange, StoreUnavailableError
from .extension_ops import EXTENSION_HANDLERS
from .friend_ops import FRIEND_OPS
from .pin_ops import PIN_HANDLERS
from .reaction_ops import REACTION_HANDLERS
from .refusals import REFUSALS
from .sessions import Connection
from .user_ops import USER_HANDLERS

log = logging.getLogger(__name__)

Handler = Callable[["Services", Connection, Any], Awaitable[msgspec.Struct]]
"""A service op: the answer's body, or an exception (``error_frame`` turns it into the answer)."""
Run = Callable[["Gateway", Connection, Request, Any], Awaitable[None]]
"""How a row handles a request: it sends the answer itself (now or later)."""


class Rate(Enum):
    """Which bucket a request takes besides its connection's (gateway/admission.py): after login
    always the user's; before login, the client address's login bucket or none."""

    USER = "user"
    LOGIN = "login"


@dataclass(frozen=True, slots=True)
class Op:
    """One row of the op table."""

    run: Run
    when: When = When.LOGGED_IN
    """When the op may be asked (checked by the session, protocol/session.py)."""
    rate: Rate = Rate.USER
    turn: bool = True
    """Whether the request waits for one of its user's turns (so one user's load cannot fill
    the store reader's queue); a send is queued in order instead, and acknowledged apart."""


class Gateway(Protocol):
    """What the rows use of the gateway (gateway/websocket.py): the services, and the ops it
    handles itself (they act on the connection, not only on state)."""

    services: Services

    async def login(self, conn: Connection, req: Request, body: LoginReq) -> None: ...
    async def logout(self, conn: Connection, req: Request, body: Empty) -> None: ...
    async def ping(self, conn: Connection, req: Request, body: Empty) -> None: ...
    async def send(self, conn: Connection, req: Request, body: SendReq) -> None: ...


@dataclass
class Services:
    users: UserService
    messages: MessageService
    conversations: ConversationService
    groups: GroupService
    friends: FriendService
    presence: PresenceService
    push: PushService
    reactions: ReactionService
    pins: PinService
    extensions: ExtensionService


def error_frame(req_id: int, exc: BaseException, op: str = "", who: str = "") -> bytes:
    """Turn any failure of ``op`` (asked by ``who``) into an error frame: the server's one
    mapping from exceptions to codes.

    An ``OpenTimError`` answers with its own code and description: a request the rules or the
    protocol refuse (``ServiceError``, ``OpenTimProtocolError``) is noted in the refusal log; a
    service that is away (store, bus) is logged as a warning; any other opentim error (a store
    failure) with its traceback. Anything else is a bug: ``ERR_SDK_INTERNAL_ERROR`` and a
    description that tells nothing, the traceback logged."""
    if not isinstance(exc, OpenTimError):
        log.error("internal error", exc_info=exc)
        return error_response(req_id, ErrorCode.ERR_SDK_INTERNAL_ERROR, "internal error")
    if isinstance(exc, (ServiceError, OpenTimProtocolError)):
        REFUSALS.refused(exc.code, exc.desc, op, who)
    elif isinstance(exc, (StoreUnavailableError, BusUnavailableError)):
        log.warning(
            "%s unavailable: %s", "bus" if isinstance(exc, BusUnavailableError) else "store", exc
        )
    else:
        log.error("%s failed", op or "a request", exc_info=exc)
    return error_response(req_id, exc.code, exc.desc)


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


async def profile_set(s: Services, c: Connection, b: ProfileSetReq) -> msgspec.Struct:
    return await s.users.set_profile(c.user_id, msgspec.structs.asdict(b))


async def profile_get(s: Services, c: Connection, b: ProfileGetReq) -> msgspec.Struct:
    profiles, left = await s.users.profile_page(b.user_ids)
    return ProfilesRes(profiles=profiles, left=left)


async def history(s: Services, c: Connection, b: HistoryReq) -> msgspec.Struct:
    msgs, more = await s.messages.history(c.user_id, b.conv_type, b.conv_id, b.before_seq, b.count)
    return HistoryRes(msgs=msgs, more=more)


async def catch_up(s: Services, c: Connection, b: CatchUpReq) -> msgspec.Struct:
    msgs, more = await s.messages.catch_up(c.user_id, b.conv_type, b.conv_id, b.after_seq, b.count)
    return HistoryRes(msgs=msgs, more=more)


async def conv_sync(s: Services, c: Connection, b: SyncReq) -> msgspec.Struct:
    convs, cursor, more, names, reset = await s.conversations.sync(c.user_id, b.cursor, b.limit)
    return SyncRes(convs=convs, cursor=cursor, more=more, conv_groups=names, reset=reset)


async def conv_get(s: Services, c: Connection, b: ConvGetReq) -> msgspec.Struct:
    keys = [(k.conv_type, k.conv_id) for k in b.keys]
    convs, left = await s.conversations.get_page(c.user_id, keys)
    return ConvsRes(convs=convs, left=[ConvKey(conv_type=t, conv_id=i) for t, i in left])


def change(make: Callable[[Any], ConvChange]) -> Handler:
    """A handler for an op that is one ``ConvChange`` of one conversation."""

    async def handle(s: Services, c: Connection, b: Any) -> msgspec.Struct:
        conv = await s.conversations.change(c.user_id, b.conv_type, b.conv_id, make(b), c.conn_id)
        return ConvRes(conv=conv)

    return handle


async def conv_draft(s: Services, c: Connection, b: DraftReq) -> msgspec.Struct:
    conv = await s.conversations.set_draft(
        c.user_id, b.conv_type, b.conv_id, b.draft, b.edit_time, c.conn_id
    )
    return ConvRes(conv=conv)


async def conv_create(s: Services, c: Connection, b: ConvKey) -> msgspec.Struct:
    before = await s.conversations.get(c.user_id, [(b.conv_type, b.conv_id)])
    conv = await s.conversations.change(
        c.user_id, b.conv_type, b.conv_id, ConvChange(create=True), c.conn_id
    )
    return ConvRes(conv=conv, created=not before or before[0].deleted)


def keys_of(b: Any) -> list[tuple[int, str]]:
    return [(k.conv_type, k.conv_id) for k in b.keys]


async def conv_delete(s: Services, c: Connection, b: ConvDeleteReq) -> msgspec.Struct:
    delete = ConvChange(delete=True, keep_history=not b.clear_messages)
    conv = await s.conversations.change(c.user_id, b.conv_type, b.conv_id, delete, c.conn_id)
    return ConvRes(conv=conv)


async def conv_delete_list(s: Services, c: Connection, b: ConvDeleteListReq) -> msgspec.Struct:
    results, convs = await s.conversations.delete_many(
        c.user_id, keys_of(b), b.clear_messages, c.conn_id
    )
    return results_res(results, convs)


async def conv_mark(s: Services, c: Connection, b: ConvMarkReq) -> msgspec.Struct:
    results, convs = await s.conversations.mark(c.user_id, keys_of(b), b.mark, b.enable, c.conn_id)
    return results_res(results, convs)


async def conv_custom(s: Services, c: Connection, b: ConvCustomReq) -> msgspec.Struct:
    results, convs = await s.conversations.set_custom_data(
        c.user_id, keys_of(b), b.custom_data, c.conn_id
    )
    return results_res(results, convs)


async def cgroup_create(s: Services, c: Connection, b: ConvGroupReq) -> msgspec.Struct:
    results, convs = await s.conversations.create_group(c.user_id, b.name, keys_of(b), c.conn_id)
    return results_res(results, convs)


async def cgroup_delete(s: Services, c: Connection, b: ConvGroupReq) -> msgspec.Struct:
    return convs_res(await s.conversations.delete_group(c.user_id, b.name, c.conn_id))


async def cgroup_rename(s: Services, c: Connection, b: ConvGroupReq) -> msgspec.Struct:
    convs = await s.conversations.rename_group(c.user_id, b.name, b.new_name, c.conn_id)
    return convs_res(convs)


async def cgroup_add(s: Services, c: Connection, b: ConvGroupReq) -> msgspec.Struct:
    results, added, evicted = await s.conversations.add_to_group(
        c.user_id, b.name, keys_of(b), c.conn_id
    )
    return results_res(results, added, evicted)


async def cgroup_remove(s: Services, c: Connection, b: ConvGroupReq) -> msgspec.Struct:
    results, convs = await s.conversations.remove_from_group(
        c.user_id, b.name, keys_of(b), c.conn_id
    )
    return results_res(results, convs)


async def cgroup_list(s: Services, c: Connection, b: Empty) -> msgspec.Struct:
    return ConvGroupListRes(names=await s.conversations.group_names(c.user_id))


async def recv_opt_set(s: Services, c: Connection, b: RecvOptReq) -> msgspec.Struct:
    convs = await s.conversations.set_recv_opt(c.user_id, b.conv_type, b.conv_ids, b.opt, c.conn_id)
    opts = [RecvOptItem(conv_id=i, opt=b.opt) for i in dict.fromkeys(b.conv_ids)]
    kept, more = cut(convs)
    return RecvOptsRes(opts=opts, convs=kept, more=more)


async def recv_opt_get(s: Services, c: Connection, b: RecvOptGetReq) -> msgspec.Struct:
    found = await s.conversations.get_recv_opts(c.user_id, b.user_ids)
    return RecvOptsRes(opts=[RecvOptItem(conv_id=u, opt=o) for u, o in found.items()])


async def msg_revoke(s: Services, c: Connection, b: RevokeReq) -> msgspec.Struct:
    msg, pos = await s.messages.revoke(
        c.user_id, b.conv_type, b.conv_id, b.seq, b.msg_id, b.reason, c.conn_id
    )
    return RevokeRes(msg=msg, pos=pos)


async def msg_modify(s: Services, c: Connection, b: ModifyReq) -> msgspec.Struct:
    msg, pos = await s.messages.modify(c.user_id, b, c.conn_id)
    return ModifyRes(msg=msg, pos=pos)


async def msg_delete(s: Services, c: Connection, b: MsgDeleteReq) -> msgspec.Struct:
    conv = await s.messages.delete(c.user_id, b.conv_type, b.conv_id, b.seqs, c.conn_id)
    return ConvRes(conv=conv)


async def group_create(s: Services, c: Connection, b: GroupCreateReq) -> msgspec.Struct:
    return GroupIdRes(group_id=await s.groups.create(c.user_id, b))


async def group_delete(s: Services, c: Connection, b: GroupIdReq) -> msgspec.Struct:
    await s.groups.delete(c.user_id, b.group_id)
    return Empty()


async def group_join(s: Services, c: Connection, b: GroupJoinReq) -> msgspec.Struct:
    await s.groups.join(c.user_id, b.group_id, b.hello)
    return Empty()


async def group_quit(s: Services, c: Connection, b: GroupIdReq) -> msgspec.Struct:
    await s.groups.quit(c.user_id, b.group_id)
    return Empty()


async def group_invite(s: Services, c: Connection, b: GroupMembersReq) -> msgspec.Struct:
    return MemberResultsRes(results=await s.groups.invite(c.user_id, b.group_id, b.user_ids))


async def group_kick(s: Services, c: Connection, b: GroupMembersReq) -> msgspec.Struct:
    return MemberResultsRes(results=await s.groups.kick(c.user_id, b.group_id, b.user_ids))


async def group_joined(s: Services, c: Connection, b: GroupJoinedReq) -> msgspec.Struct:
    groups, more = await s.groups.joined(c.user_id, b.after_time, b.after_id)
    return GroupListRes(groups=groups, more=more)


async def group_info(s: Services, c: Connection, b: GroupInfoReq) -> msgspec.Struct:
    return GroupInfoRes(results=await s.groups.info(c.user_id, b.group_ids))


async def group_modify(s: Services, c: Connection, b: GroupModifyReq) -> msgspec.Struct:
    await s.groups.modify_info(c.user_id, b)
    return Empty()


async def group_members(s: Services, c: Connection, b: MemberListReq) -> msgspec.Struct:
    members, next_seq = await s.groups.members(
        c.user_id, b.group_id, b.user_ids, b.role_flag, b.next_seq
    )
    return MemberListRes(members=members, next_seq=next_seq)


async def group_member_modify(s: Services, c: Connection, b: MemberModifyReq) -> msgspec.Struct:
    await s.groups.modify_member(c.user_id, b)
    return Empty()


async def group_pendencies(s: Services, c: Connection, b: PendencyListReq) -> msgspec.Struct:
    found, next_start, read_time, unread = await s.groups.pendencies(c.user_id, b.start, b.limit)
    return PendencyListRes(
        pendencies=found, next_start=next_start, read_time=read_time, unread=unread
    )


async def group_pendency_handle(s: Services, c: Connection, b: PendencyHandleReq) -> msgspec.Struct:
    await s.groups.handle_pendency(c.user_id, b)
    return Empty()


async def group_pendency_read(s: Services, c: Connection, b: PendencyReadReq) -> msgspec.Struct:
    await s.groups.read_pendencies(c.user_id, b.time)
    return Empty()


def answered(handler: Handler) -> Run:
    """A row's ``run`` for a service op: the answer or the error frame, sent when ready."""

    async def run(g: Gateway, c: Connection, req: Request, body: Any) -> None:
        c.send(await ok_frame(req.id, handler(g.services, c, body), req.op, c.user_id))

    return run


def friendship(
    handler: Callable[[FriendService, Connection, Any], Awaitable[msgspec.Struct]],
) -> Handler:
    """A friendship op's handler, given the friendship service."""

    async def handle(s: Services, c: Connection, b: Any) -> msgspec.Struct:
        return await handler(s.friends, c, b)

    return handle


# The op table: one row for every op of protocol.OPS (tests/server/test_op_table.py checks both
# ways); the rows of the ops the gateway handles itself call its method of the same name.
OP_TABLE: dict[str, Op] = {
    "login": Op(
        lambda g, c, r, b: g.login(c, r, b), when=When.BEFORE_LOGIN, rate=Rate.LOGIN, turn=False
    ),
    "logout": Op(lambda g, c, r, b: g.logout(c, r, b), turn=False),
    "ping": Op(lambda g, c, r, b: g.ping(c, r, b), when=When.ALWAYS, turn=False),
    "send": Op(lambda g, c, r, b: g.send(c, r, b), turn=False),
    "profile_set": Op(answered(profile_set)),
    "profile_get": Op(answered(profile_get)),
    "history": Op(answered(history)),
    "catch_up": Op(answered(catch_up)),
    "conv_sync": Op(answered(conv_sync)),
    "conv_get": Op(answered(conv_get)),
    "conv_create": Op(answered(conv_create)),
    "conv_delete": Op(answered(conv_delete)),
    "conv_delete_list": Op(answered(conv_delete_list)),
    "conv_mark": Op(answered(conv_mark)),
    "conv_custom": Op(answered(conv_custom)),
    "conv_clear_history": Op(answered(change(lambda b: ConvChange(clear_history=True)))),
    "cgroup_create": Op(answered(cgroup_create)),
    "cgroup_delete": Op(answered(cgroup_delete)),
    "cgroup_rename": Op(answered(cgroup_rename)),
    "cgroup_add": Op(answered(cgroup_add)),
    "cgroup_remove": Op(answered(cgroup_remove)),
    "cgroup_list": Op(answered(cgroup_list)),
    "recv_opt_set": Op(answered(recv_opt_set)),
    "recv_opt_get": Op(answered(recv_opt_get)),
    "msg_revoke": Op(answered(msg_revoke)),
    "msg_delete": Op(answered(msg_delete)),
    "conv_pin": Op(answered(change(lambda b: ConvChange(pinned=b.pinned)))),
    "conv_draft": Op(answered(conv_draft)),
    "conv_read": Op(answered(change(lambda b: ConvChange(read_up_to=b.seq)))),
    "group_create": Op(answered(group_create)),
    "group_delete": Op(answered(group_delete)),
    "group_join": Op(answered(group_join)),
    "group_quit": Op(answered(group_quit)),
    "group_invite": Op(answered(group_invite)),
    "group_kick": Op(answered(group_kick)),
    "group_joined": Op(answered(group_joined)),
    # friendship (gateway/friend_ops.py)
    **{op: Op(answered(friendship(h))) for op, h in FRIEND_OPS.items()},
    "group_info": Op(answered(group_info)),
    "group_modify": Op(answered(group_modify)),
    "group_members": Op(answered(group_members)),
    "group_member_modify": Op(answered(group_member_modify)),
    "group_pendencies": Op(answered(group_pendencies)),
    "group_pendency_handle": Op(answered(group_pendency_handle)),
    "group_pendency_read": Op(answered(group_pendency_read)),
}
"""The op table: a row for every op of ``protocol.OPS`` (tests/server/test_op_table.py)."""

# --- issue 11, users (gateway/user_ops.py) -----------------------------------------------------
OP_TABLE.update({op: Op(answered(handler)) for op, handler in USER_HANDLERS.items()})
# --- issue 12, reactions (gateway/reaction_ops.py) --------------------------------------------
OP_TABLE.update({op: Op(answered(handler)) for op, handler in REACTION_HANDLERS.items()})
OP_TABLE.update({op: Op(answered(handler)) for op, handler in PIN_HANDLERS.items()})
OP_TABLE.update({op: Op(answered(handler)) for op, handler in EXTENSION_HANDLERS.items()})

# --- issue 12, modify ---------------------------------------------------------------------------
OP_TABLE["msg_modify"] = Op(answered(msg_modify))

WHEN = {op: row.when for op, row in OP_TABLE.items()}
"""The table's ``when`` column."""
ALLOWED = allowed_ops(WHEN)
"""Per session state, the ops a session accepts (protocol/session.py), from ``WHEN``."""
