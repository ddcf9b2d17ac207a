"""Sending and reading messages. A message is written once per channel (read diffusion) and
acknowledged only once durable; its push is one envelope per message, whatever the group size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from opentim.protocol import (
    AT_ALL,
    Conversation,
    ConvType,
    ErrorCode,
    MemberRole,
    Message,
    channel_of,
    push_frame,
)
from opentim.protocol.limits import (
    MAX_ELEMS_BYTES,
    MAX_HISTORY_PAGE,
    MAX_JSON_DEPTH,
    MAX_MSG_BYTES,
    MAX_REVOKE_REASON_BYTES,
    nested_within,
)
from opentim.protocol.ops import ConvPush, ModifyReq, MsgUpdatePush, OutMessage, RevokePush
from opentim.protocol.paging import fitting
from opentim.protocol.ranges import clamp_seq
from opentim.protocol.rules import may_send
from opentim.protocol.rules.modify import elems_modifiable

from ..bus.base import Bus, Envelope, message_envelope
from ..config import Limits
from ..store.base import Appended, NewMessage, Store
from .blocks import Blacklists
from .errors import GroupNotFoundError, NotMemberError, ServiceError
from .users import UserService

# Elements the server writes itself (group tips, group reports) and a client may never send.
SERVER_ONLY_ELEMS = frozenset({5, 8})
KNOWN_ELEMS = frozenset(range(13))

_encoder = msgspec.json.Encoder()


def check_elems(msg: OutMessage) -> None:
    """Refuse empty, unknown, server-only or oversized elements, and an oversized message
    (elements, cloud custom data and the rest together; DESIGN §7)."""
    if not msg.elems:
        raise ServiceError(ErrorCode.ERR_INVALID_MSG_ELEM, "a message needs at least one element")
    for elem in msg.elems:
        kind = elem.get("elem_type")
        if not isinstance(kind, int) or kind not in KNOWN_ELEMS or kind in SERVER_ONLY_ELEMS:
            raise ServiceError(ErrorCode.ERR_INVALID_MSG_ELEM, f"cannot send elem_type {kind!r}")
    if not nested_within(msg.elems):
        raise ServiceError(
            ErrorCode.ERR_INVALID_MSG_ELEM, f"elements nest over {MAX_JSON_DEPTH} levels deep"
        )
    if len(_encoder.encode(msg.elems)) > MAX_ELEMS_BYTES:
        raise ServiceError(
            ErrorCode.ERR_SDK_MSG_BODY_SIZE_LIMIT, f"elements over {MAX_ELEMS_BYTES} bytes"
        )
    if len(_encoder.encode(msg)) > MAX_MSG_BYTES:
        raise ServiceError(
            ErrorCode.ERR_SDK_MSG_BODY_SIZE_LIMIT,
            f"message over {MAX_MSG_BYTES} bytes (elements, cloud_custom_data and the rest)",
        )
    if not msg.msg_id:
        raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, "msg_id is required")


class MessageService:
    """Send, fetch history, and publish messages to their recipients."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        users: UserService,
        clock: Callable[[], float],
        limits: Limits | None = None,
        blacklists: Blacklists | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.users = users
        self.clock = clock
        self.limits = limits or Limits()
        self.blacklists = blacklists or Blacklists(store, clock)

    async def submit(
        self, user_id: str, conv_type: int, conv_id: str, out: OutMessage, conn_id: str
    ) -> Awaitable[Message]:
        """Check and queue a message; the returned awaitable resolves once it is durable.

        Queuing happens before this returns, so one connection's messages keep their order.
        Refused while the bus cannot carry the message to its recipients (BusUnavailableError).
        """
        self.bus.ensure_up()
        check_elems(out)
        at_users = out.at_users
        if conv_type == ConvType.C2C:
            if not conv_id or await self.users.profile(conv_id) is None:
                raise ServiceError(ErrorCode.ERR_INVALID_MSG_RECEIVER, f"no user {conv_id!r}")
            if await self.blacklists.blocks(conv_id, user_id):
                # Tencent's code for a C2C message to a user who blocked the sender.
                raise ServiceError(
                    ErrorCode.ERR_SVR_MSG_IN_PEER_BLACKLIST, "the receiver has blocked the sender"
                )
            owners: tuple[tuple[str, int, str], ...] = (
                (user_id, ConvType.C2C, conv_id),
                (conv_id, ConvType.C2C, user_id),
            )
        elif conv_type == ConvType.GROUP:
            state = await self.store.groups.sender_state(conv_id, user_id)
            if state is None:
                raise GroupNotFoundError(conv_id)
            shutup_all, role, mute_end = state
            if not role:
                raise NotMemberError(f"{user_id!r} is not a member of {conv_id!r}")
            refusal = may_send(role, mute_end, shutup_all, int(self.clock()))
            if refusal is not None:
                raise ServiceError(refusal.code, refusal.desc)
            owners = ()
            at_users = await self._mentioned(conv_id, out.at_users)
        else:
            raise ServiceError(ErrorCode.ERR_INVALID_CONVERSATION, f"bad conv_type {conv_type}")
        new = NewMessage(
            channel_id=channel_of(user_id, conv_type, conv_id),
            conv_type=conv_type,
            sender=user_id,
            receiver=conv_id,
            msg_id=out.msg_id,
            elems=out.elems,
            client_time=out.client_time,
            random=out.random,
            priority=out.priority,
            platform=out.platform,
            cloud_custom_data=out.cloud_custom_data,
            excluded_from_unread=out.excluded_from_unread,
            excluded_from_last=out.excluded_from_last,
            supports_extensions=out.supports_extensions,
            at_users=at_users,
            owners=owners,
        )
        stored = self.store.messages.append(new, int(self.clock()))
        return self._finish(stored, conn_id, new.channel_id)

    async def _mentioned(self, group_id: str, at_users: list[str]) -> list[str]:
        """The mentions a group message keeps: @all and members, each once; ids of non-members
        are dropped (a mention is a hint to the mentioned, never a way to reach anyone else)."""
        if not at_users:
            return []
        members = await self.store.groups.get_members(group_id)
        return [u for u in dict.fromkeys(at_users) if u == AT_ALL or u in members]

    async def _finish(self, stored: Awaitable[Appended], conn_id: str, channel_id: str) -> Message:
        appended = await stored
        msg = appended.msg
        if appended.duplicate and channel_of(msg.sender, msg.conv_type, msg.receiver) != channel_id:
            # msg_id is unique per sender (DESIGN §3): a resend to the same conversation is the
            # same message, but the id of a message elsewhere names nothing here.
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS,
                f"msg_id {msg.msg_id!r} is taken by a message of another conversation",
            )
        sender = self.users.cached_profile(msg.sender) or await self.users.profile(msg.sender)
        msg.sender_profile = sender.card() if sender is not None else None
        if not appended.duplicate:
            self.publish(msg, conn_id)
        return msg

    def publish(
        self, msg: Message, conn_id: str = "", extra_users: list[str] | None = None
    ) -> None:
        """Push ``msg`` to everyone in its channel but connection ``conn_id``."""
        self.bus.publish(message_envelope(msg, conn_id, extra_users))

    async def history(
        self, user_id: str, conv_type: int, conv_id: str, before_seq: int, count: int
    ) -> tuple[list[Message], bool]:
        """Messages of the user's conversation, newest first, older than ``before_seq``, paged
        by bytes as well as by count; and whether more may follow."""
        count = max(1, min(count, MAX_HISTORY_PAGE))
        before_seq = clamp_seq(before_seq)
        msgs = await self.store.messages.history(user_id, conv_type, conv_id, before_seq, count)
        return _page(msgs, count)

    async def catch_up(
        self, user_id: str, conv_type: int, conv_id: str, after_seq: int, count: int
    ) -> tuple[list[Message], bool]:
        """Messages of the user's conversation after ``after_seq``, oldest first, paged by
        bytes as well as by count; and whether more may follow."""
        count = max(1, min(count, MAX_HISTORY_PAGE))
        after_seq = clamp_seq(after_seq)
        msgs = await self.store.messages.messages_after(
            user_id, conv_type, conv_id, after_seq, count
        )
        return _page(msgs, count)

    async def find(self, user_id: str, msg_ids: list[str]) -> list[Message]:
        """Messages by id, among those the user may see (TIMMsgFindMessages)."""
        if len(msg_ids) > MAX_HISTORY_PAGE:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, f"at most {MAX_HISTORY_PAGE} messages per call"
            )
        msgs = await self.store.messages.find(user_id, msg_ids)
        return msgs[: fitting(msgs)]

    async def find_at(
        self, user_id: str, conv_type: int, conv_id: str, seqs: list[int]
    ) -> list[Message]:
        """Messages of one conversation by seq (TIMMsgFindByMsgLocatorList)."""
        if len(seqs) > MAX_HISTORY_PAGE:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, f"at most {MAX_HISTORY_PAGE} messages per call"
            )
        wanted = [clamp_seq(s) for s in seqs if s > 0]
        msgs = await self.store.messages.at_seqs(user_id, conv_type, conv_id, wanted)
        return msgs[: fitting(msgs)]

    async def visible_message(
        self, user_id: str, conv_type: int, conv_id: str, seq: int, msg_id: str = ""
    ) -> Message:
        """A message of one of the user's conversations (group: while a member), which is
        ``msg_id`` when that is given; refused with the conversation's "no such message" code."""
        msg = await self._own_message(user_id, conv_type, conv_id, seq)
        if msg_id and msg.msg_id != msg_id:
            raise ServiceError(no_message_code(conv_type), f"message {seq} is not {msg_id!r}")
        return msg

    async def audience(self, msg: Message) -> list[str]:
        """Who hears of a change to ``msg`` (a revoke, a reaction): both users of a C2C
        message, every member of a group's (read once: such changes are rare)."""
        if msg.conv_type == ConvType.GROUP:
            return list(await self.store.groups.get_members(msg.receiver))
        return list(dict.fromkeys([msg.sender, msg.receiver]))

    async def announce(self, msg: Message, kind: str, body: msgspec.Struct, conn_id: str) -> None:
        """Push a change to ``msg`` to its ``audience``, every device but ``conn_id`` (the one
        that made it has the answer)."""
        users = await self.audience(msg)
        self.bus.publish(Envelope(frame=push_frame(kind, body), users=users, skip_conn=conn_id))

    async def require_member(self, user_id: str, group_id: str) -> None:
        """Refuse (10010, 10007) unless ``user_id`` is a member of the group."""
        if await self.store.groups.get_group(group_id) is None:
            raise GroupNotFoundError(group_id)
        if user_id not in await self.store.groups.get_members(group_id):
            raise NotMemberError(f"{user_id!r} is not a member of {group_id!r}")

    async def _own_message(self, user_id: str, conv_type: int, conv_id: str, seq: int) -> Message:
        """A message of one of the user's conversations (group: while a member)."""
        if conv_type == ConvType.GROUP:
            await self.require_member(user_id, conv_id)
        elif conv_type != ConvType.C2C or not conv_id:
            raise ServiceError(ErrorCode.ERR_INVALID_CONVERSATION, "invalid conversation")
        msg = await self.store.messages.get_message(
            channel_of(user_id, conv_type, conv_id), clamp_seq(seq)
        )
        if msg is None or seq <= 0:
            raise ServiceError(no_message_code(conv_type), f"no message {seq} in {conv_id!r}")
        return msg

    async def revoke(
        self,
        user_id: str,
        conv_type: int,
        conv_id: str,
        seq: int,
        msg_id: str,
        reason: str,
        conn_id: str,
    ) -> tuple[Message, int]:
        """Revoke a message: its elements go, its seq and unread count stay (DESIGN §3), and
        every member of the channel is told, so their conversation's last message follows.

        The sender may revoke within the time limit; in a group the owner or an admin may
        revoke anyone's message at any time.
        """
        if len(reason.encode()) > MAX_REVOKE_REASON_BYTES:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS,
                f"revoke reason over {MAX_REVOKE_REASON_BYTES} bytes",
            )
        msg = await self._own_message(user_id, conv_type, conv_id, seq)
        group = conv_type == ConvType.GROUP
        if msg_id and msg.msg_id != msg_id:
            raise ServiceError(no_message_code(conv_type), f"message {seq} is not {msg_id!r}")
        admin = False
        if group:
            role = (await self.store.groups.get_members(conv_id)).get(user_id, 0)
            admin = role >= MemberRole.ADMIN and not msg.is_tips
        if msg.sender != user_id and not admin:
            code = (
                ErrorCode.ERR_SVR_GROUP_REVOKE_MSG_DENY
                if group
                else ErrorCode.ERR_SDK_INVALID_OPERATION
            )
            raise ServiceError(code, "only the sender (or a group admin) may revoke it")
        if msg.revoked:
            return msg, 0
        window = self.limits.revoke_seconds
        late = window > 0 and self.clock() - msg.server_time > window
        if late and not admin:
            code = (
                ErrorCode.ERR_SVR_GROUP_REVOKE_MSG_TIME_LIMIT
                if group
                else ErrorCode.ERR_SVR_MSG_REVOKE_TIME_LIMIT
            )
            raise ServiceError(code, f"messages may be revoked for {window} s")
        done = await self.store.messages.revoke_message(
            channel_of(user_id, conv_type, conv_id), seq, user_id, reason
        )
        if done is None:
            return msg, 0
        revoked = done.msg
        # A revoke is not a new seq, so it goes past the relay's per-channel ordering, to the
        # channel's users directly (read once: revokes are rare).
        await self.announce(revoked, "revoke", RevokePush(msg=revoked, pos=done.pos), conn_id)
        return revoked, done.pos

    async def modify(self, user_id: str, b: ModifyReq, conn_id: str) -> tuple[Message, int]:
        """Modify a message (TIMMsgModifyMessage): any participant may (rules/modify.py);
        every device of every participant is told, so their conversation's last message
        follows. 8006 when it changed since ``b.version``."""
        msg = await self._own_message(user_id, b.conv_type, b.conv_id, b.seq)
        group = b.conv_type == ConvType.GROUP
        gone = (
            ErrorCode.ERR_SVR_GROUP_REVOKE_MSG_NOT_FOUND
            if group
            else ErrorCode.ERR_SVR_MSG_INVALID_ID
        )
        if (b.msg_id and msg.msg_id != b.msg_id) or msg.revoked or msg.is_tips:
            raise ServiceError(gone, f"no message {b.seq} to modify in {b.conv_id!r}")
        check_elems(
            OutMessage(msg_id=msg.msg_id, elems=b.elems, cloud_custom_data=b.cloud_custom_data)
        )
        if not elems_modifiable(msg.elems, b.elems):
            raise ServiceError(
                ErrorCode.ERR_INVALID_MSG_ELEM,
                "only text, custom, face and location elements may change, kind for kind",
            )
        channel_id = channel_of(user_id, b.conv_type, b.conv_id)
        now, pos = await self.store.messages.modify_message(
            channel_id, b.seq, b.version, b.elems, b.cloud_custom_data
        )
        if now is None or pos == 0:
            # The store changes it only at ``b.version``: someone modified (or revoked) it.
            raise ServiceError(
                ErrorCode.ERR_SDK_MSG_MODIFY_CONFLICT,
                f"message {b.seq} changed since version {b.version}",
            )
        await self.announce(now, "msg_update", MsgUpdatePush(msg=now, pos=pos), conn_id)
        return now, pos

    async def delete(
        self, user_id: str, conv_type: int, conv_id: str, seqs: list[int], conn_id: str
    ) -> Conversation:
        """Delete messages for this user only, on all their devices; others keep them."""
        wanted = list(dict.fromkeys(seqs))
        if not wanted or len(wanted) > MAX_HISTORY_PAGE:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, f"1 to {MAX_HISTORY_PAGE} messages per call"
            )
        # Whether the conversation is the user's comes first, so that a stranger learns
        # nothing about the messages of a channel that is not theirs.
        if not await self.store.convs.get_conversations(user_id, [(conv_type, conv_id)]):
            raise ServiceError(ErrorCode.ERR_INVALID_CONVERSATION, f"no conversation {conv_id!r}")
        for seq in wanted:
            # Only what the user may see counts as there: a member asking for what was said
            # after they left learns nothing of whether the seq exists.
            seen = seq > 0 and await self.store.messages.messages_after(
                user_id, conv_type, conv_id, clamp_seq(seq) - 1, 1
            )
            if not seen or seen[0].seq != seq:
                raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, f"no message {seq}")
        conv = await self.store.messages.delete_messages(user_id, conv_type, conv_id, wanted)
        if conv is None:
            raise ServiceError(ErrorCode.ERR_INVALID_CONVERSATION, f"no conversation {conv_id!r}")
        frame = push_frame("conv", ConvPush(convs=[conv]))
        self.bus.publish(Envelope(frame=frame, users=[user_id], skip_conn=conn_id))
        return conv


def _page(msgs: list[Message], count: int) -> tuple[list[Message], bool]:
    """The messages that fit in one answer, and whether more may follow (cut by bytes, or as
    many as asked for)."""
    n = fitting(msgs)
    return msgs[:n], n < len(msgs) or len(msgs) >= count


__all__ = ["MessageService"]


def no_message_code(conv_type: int) -> ErrorCode:
    """The code for a message that is not there (or not the one named)."""
    if conv_type == ConvType.GROUP:
        return ErrorCode.ERR_SVR_GROUP_REVOKE_MSG_NOT_FOUND
    return ErrorCode.ERR_SVR_MSG_INVALID_ID
