"""Each user's conversation list: sync by change cursor, get, create, delete, pin, draft, read;
marks, custom data, receive options and conversation groups (folders), with their limits.

Every change moves the conversation's change position in the store, so a device that syncs
later sees it, and is pushed to the user's other devices at once (``publish``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec

from opentim.protocol import (
    Conversation,
    ConvType,
    Draft,
    ErrorCode,
    RecvOpt,
    encode_token,
    parse_token,
    push_frame,
    valid_marks,
)
from opentim.protocol.cursors import FRESH, SyncToken
from opentim.protocol.drafts import draft_stamp
from opentim.protocol.limits import MAX_DRAFT_BYTES, SYNC_PAGE
from opentim.protocol.ops import ConvGroupChange, ConvGroupPush, ConvPush, ConvResult, ReadPush
from opentim.protocol.paging import chunks, fitting

from ..bus.base import Bus, Envelope
from ..config import Limits
from ..store.base import ConvChange, DuplicateConvGroupError, Key, Store
from .errors import ConvNotFoundError, GroupNotFoundError, NotMemberError, ServiceError
from .users import UserService

_encoder = msgspec.json.Encoder()
log = logging.getLogger(__name__)


def _refuse(code: int, desc: str) -> ServiceError:
    return ServiceError(code, desc)


class ConversationService:
    """Per-user conversation state; every change is pushed to the user's other devices."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        users: UserService,
        limits: Limits | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.users = users
        self.limits = limits or Limits()
        self.clock = clock or users.clock

    def publish(self, user_id: str, convs: list[Conversation], conn_id: str = "") -> None:
        """Tell ``user_id``'s devices (but connection ``conn_id``) about changed conversations,
        in as many pushes as it takes to keep each within a page (DESIGN §7)."""
        for part in chunks(convs):
            frame = push_frame("conv", ConvPush(convs=part))
            self.bus.publish(Envelope(frame=frame, users=[user_id], skip_conn=conn_id))

    def publish_group_change(self, user_id: str, change: ConvGroupChange, conn_id: str) -> None:
        """Tell the user's other devices about a change to their conversation groups; a change
        with more conversations than a page holds goes as several (``created`` as ``created``
        then ``added``)."""
        parts = chunks(change.convs) or [[]]
        for i, part in enumerate(parts):
            kind = "added" if i and change.kind == "created" else change.kind
            piece = msgspec.structs.replace(change, kind=kind, convs=part)
            frame = push_frame("cgroup", ConvGroupPush(change=piece))
            self.bus.publish(Envelope(frame=frame, users=[user_id], skip_conn=conn_id))

    async def sync(
        self, user_id: str, cursor: str, limit: int
    ) -> tuple[list[Conversation], str, bool, list[str], bool]:
        """A page of the user's conversations changed since ``cursor`` (a sync token), the
        names of the user's conversation groups, and whether the token was refused as another
        history's (the page then starts a full pass; protocol/cursors.py)."""
        token = parse_token(cursor)
        db_id = self.store.db_id
        reset = False
        if token.phase != FRESH:
            if token.db != db_id:
                reset = True
                why = "another database" if token.db else "before database identities"
            elif max(token.pos, token.horizon) > await self.store.clock_now():
                reset = True
                why = "a position beyond this database's clock"
            if reset:
                log.info("sync token of %s is from %s: full resync", user_id, why)
                token = SyncToken()
        limit = max(1, min(limit, SYNC_PAGE))
        convs, after, more = await self.store.convs.sync_conversations(user_id, token, limit)
        while (fit := fitting(convs)) < len(convs):
            # Over a page in bytes: read the page again with as many as fit, so the store
            # makes the token for exactly those (each pass is smaller; one always fits).
            limit = fit
            convs, after, more = await self.store.convs.sync_conversations(user_id, token, limit)
        # The group names ride on the last page only: that is where the SDK reads them.
        names = [] if more else await self.store.conv_groups.conv_groups(user_id)
        return convs, encode_token(msgspec.structs.replace(after, db=db_id)), more, names, reset

    async def get(self, user_id: str, keys: list[tuple[int, str]]) -> list[Conversation]:
        return await self.store.convs.get_conversations(user_id, keys)

    async def get_page(
        self, user_id: str, keys: list[tuple[int, str]]
    ) -> tuple[list[Conversation], list[tuple[int, str]]]:
        """The conversations among ``keys`` that fit in one answer, in the order of ``keys``,
        and the keys not looked at, to ask again for."""
        wanted = list(dict.fromkeys(keys))
        found = {(c.conv_type, c.conv_id): c for c in await self.get(user_id, wanted)}
        convs = [found[k] for k in wanted if k in found]
        n = fitting(convs)
        if n == len(convs):
            return convs, []
        last = wanted.index((convs[n - 1].conv_type, convs[n - 1].conv_id))
        return convs[:n], wanted[last + 1 :]

    @staticmethod
    def _check_key(conv_type: int, conv_id: str) -> None:
        if conv_type not in (ConvType.C2C, ConvType.GROUP) or not conv_id:
            raise ServiceError(ErrorCode.ERR_INVALID_CONVERSATION, "invalid conversation")

    async def change(
        self, user_id: str, conv_type: int, conv_id: str, change: ConvChange, conn_id: str
    ) -> Conversation:
        """Apply a change to an existing conversation (or create one) and publish it."""
        self.bus.ensure_up()
        self._check_key(conv_type, conv_id)
        if change.draft is not None and len(_encoder.encode(change.draft)) > MAX_DRAFT_BYTES:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, f"draft over {MAX_DRAFT_BYTES} bytes"
            )
        if change.create:
            await self._check_can_create(user_id, conv_type, conv_id)
        conv = await self.store.convs.change_conversation(user_id, conv_type, conv_id, change)
        if conv is None:
            raise ConvNotFoundError(conv_id)
        self.publish(user_id, [conv], conn_id)
        if change.read_up_to is not None and conv_type == ConvType.C2C:
            self._receipt(user_id, conv)
        return conv

    async def set_draft(
        self,
        user_id: str,
        conv_type: int,
        conv_id: str,
        draft: Draft | None,
        stamp: int,
        conn_id: str,
    ) -> Conversation:
        """Set the draft (``draft``) or cancel it (None), stamped ``stamp`` by the SDK.

        The server keeps the stamp as ``protocol.drafts.draft_stamp`` makes it, and the edit
        takes effect unless the stored edit carries a later stamp (``draft_edit_wins``). A
        draft set on a conversation the user does not have creates it first, as
        ``TIMConvCreate`` would (6032, 10010, 10007 when that cannot be); cancelling a draft
        there is 6004, as before.
        """
        when = draft_stamp(stamp, int(self.clock()))
        if draft is None:
            change = ConvChange(clear_draft=True, draft_time=when)
        else:
            draft = msgspec.structs.replace(draft, edit_time=when)
            change = ConvChange(draft=draft, draft_time=when)
        try:
            return await self.change(user_id, conv_type, conv_id, change, conn_id)
        except ConvNotFoundError:
            if draft is None:
                raise
        change.create = True
        return await self.change(user_id, conv_type, conv_id, change, conn_id)

    def _receipt(self, reader: str, conv: Conversation) -> None:
        """Tell the C2C peer how far ``reader`` has read (TIMSetMsgReadedReceiptCallback)."""
        last = conv.last_msg
        receipt = ReadPush(
            reader=reader,
            seq=conv.read_seq,
            time=int(self.clock()),
            msg_id=last.msg_id if last is not None and last.seq == conv.read_seq else "",
        )
        frame = push_frame("read", receipt)
        self.bus.publish(Envelope(frame=frame, users=[conv.conv_id]))

    async def _check_can_create(self, user_id: str, conv_type: int, conv_id: str) -> None:
        if conv_type == ConvType.C2C:
            if await self.users.profile(conv_id) is None:
                raise ServiceError(ErrorCode.ERR_INVALID_MSG_RECEIVER, f"no user {conv_id!r}")
            return
        if await self.store.groups.get_group(conv_id) is None:
            raise GroupNotFoundError(conv_id)
        if user_id not in await self.store.groups.get_members(conv_id):
            raise NotMemberError(f"{user_id!r} is not a member of {conv_id!r}")

    # --- batch calls: one result per conversation -------------------------------------------
    def _check_batch(self, keys: list[Key]) -> None:
        if not keys:
            raise _refuse(ErrorCode.ERR_INVALID_PARAMETERS, "no conversations given")
        if len(keys) > self.limits.convs_per_call:
            raise _refuse(
                ErrorCode.ERR_SVR_CONV_CONV_MARK_REQ_COUNT_EXCEED_LIMIT,
                f"at most {self.limits.convs_per_call} conversations per call",
            )

    async def change_many(
        self, user_id: str, keys: list[Key], change: ConvChange, conn_id: str
    ) -> tuple[list[ConvResult], list[Conversation]]:
        """Apply ``change`` to each conversation; results in the order of ``keys`` (6004 for
        ids that are not valid or not the user's), and the snapshots that changed."""
        self.bus.ensure_up()
        valid = list(
            dict.fromkeys(k for k in keys if k[0] in (ConvType.C2C, ConvType.GROUP) and k[1])
        )
        snapshots = await self.store.convs.change_conversations(user_id, valid, change)
        found = dict(zip(valid, snapshots, strict=True))
        results: list[ConvResult] = []
        changed: list[Conversation] = []
        for conv_type, conv_id in keys:
            conv = found.get((conv_type, conv_id))
            if conv is None:
                results.append(
                    ConvResult(
                        conv_type=conv_type,
                        conv_id=conv_id,
                        code=ErrorCode.ERR_INVALID_CONVERSATION,
                        desc="no such conversation",
                    )
                )
            else:
                results.append(ConvResult(conv_type=conv_type, conv_id=conv_id))
                changed.append(conv)
        unique = list({(c.conv_type, c.conv_id): c for c in changed}.values())
        self.publish(user_id, unique, conn_id)
        return results, unique

    async def read_all(self, user_id: str, conn_id: str) -> list[Conversation]:
        """Read every conversation of the user that has unread messages
        (TIMMsgMarkAllMessageAsRead); the snapshots that changed."""
        keys = await self.store.convs.unread_keys(user_id)
        changed: list[Conversation] = []
        step = self.limits.convs_per_call
        for i in range(0, len(keys), step):
            _, convs = await self.change_many(
                user_id, keys[i : i + step], ConvChange(read_up_to=0), conn_id
            )
            changed += convs
        return changed

    async def delete_many(
        self, user_id: str, keys: list[Key], clear_messages: bool, conn_id: str
    ) -> tuple[list[ConvResult], list[Conversation]]:
        if not keys:
            raise _refuse(ErrorCode.ERR_INVALID_PARAMETERS, "no conversations given")
        if len(keys) > self.limits.convs_per_call:
            raise _refuse(
                ErrorCode.ERR_INVALID_PARAMETERS,
                f"at most {self.limits.convs_per_call} conversations per call",
            )
        change = ConvChange(delete=True, keep_history=not clear_messages)
        return await self.change_many(user_id, keys, change, conn_id)

    async def mark(
        self, user_id: str, keys: list[Key], mark: int, enable: bool, conn_id: str
    ) -> tuple[list[ConvResult], list[Conversation]]:
        """Set or clear mark bits (built-in 0-3, app 32-63); 51006 over the per-call limit,
        51008 when more conversations than the limit would carry a mark."""
        if not valid_marks(mark):
            raise _refuse(
                ErrorCode.ERR_INVALID_PARAMETERS,
                f"mark {mark:#x}: use the built-in bits 0x1-0x8 or bits 32-63",
            )
        self._check_batch(keys)
        if enable:
            current = await self.store.convs.get_conversations(user_id, list(dict.fromkeys(keys)))
            newly = sum(1 for c in current if not c.deleted and not c.marks)
            marked = await self.store.convs.count_conversations(user_id, marked=True)
            if newly and marked + newly > self.limits.marked_convs:
                raise _refuse(
                    ErrorCode.ERR_SVR_CONV_CONV_MARK_TOTAL_COUNT_EXCEED_LIMIT,
                    f"at most {self.limits.marked_convs} marked conversations",
                )
        change = ConvChange(mark_set=mark) if enable else ConvChange(mark_clear=mark)
        return await self.change_many(user_id, keys, change, conn_id)

    async def set_custom_data(
        self, user_id: str, keys: list[Key], custom_data: str, conn_id: str
    ) -> tuple[list[ConvResult], list[Conversation]]:
        """Set the same custom data on each conversation (at most 256 bytes)."""
        limit = self.limits.custom_data_bytes
        if len(custom_data.encode()) > limit:
            raise _refuse(ErrorCode.ERR_INVALID_PARAMETERS, f"custom data over {limit} bytes")
        self._check_batch(keys)
        if custom_data:
            current = await self.store.convs.get_conversations(user_id, list(dict.fromkeys(keys)))
            newly = sum(1 for c in current if not c.deleted and not c.custom_data)
            holding = await self.store.convs.count_conversations(user_id, custom_data=True)
            if newly and holding + newly > self.limits.marked_convs:
                raise _refuse(
                    ErrorCode.ERR_SVR_CONV_CONV_MARK_TOTAL_COUNT_EXCEED_LIMIT,
                    f"at most {self.limits.marked_convs} conversations with custom data",
                )
        return await self.change_many(user_id, keys, ConvChange(custom_data=custom_data), conn_id)

    # --- receive options --------------------------------------------------------------------
    async def set_recv_opt(
        self, user_id: str, conv_type: int, conv_ids: list[str], opt: int, conn_id: str
    ) -> list[Conversation]:
        """Set the receive option: per peer user for C2C (at most 30 per call), per member for
        a group. Kept on the server and synced to every device."""
        self.bus.ensure_up()
        if opt not in set(RecvOpt):
            raise _refuse(ErrorCode.ERR_INVALID_PARAMETERS, f"bad receive option {opt}")
        ids = list(dict.fromkeys(conv_ids))
        if not ids or not all(ids):
            raise _refuse(ErrorCode.ERR_INVALID_PARAMETERS, "no ids given")
        if conv_type == ConvType.C2C:
            if len(ids) > self.limits.recv_opt_users:
                raise _refuse(
                    ErrorCode.ERR_INVALID_PARAMETERS,
                    f"at most {self.limits.recv_opt_users} users per call",
                )
            known = {p.user_id for p in await self.users.profiles(ids)}
            missing = [u for u in ids if u not in known]
            if missing:
                raise _refuse(ErrorCode.ERR_INVALID_MSG_RECEIVER, f"no users {missing!r}")
        elif conv_type == ConvType.GROUP:
            for group_id in ids:
                if await self.store.groups.get_group(group_id) is None:
                    raise GroupNotFoundError(group_id)
                if user_id not in await self.store.groups.get_members(group_id):
                    raise NotMemberError(f"{user_id!r} is not a member of {group_id!r}")
        else:
            raise _refuse(ErrorCode.ERR_INVALID_CONVERSATION, f"bad conv_type {conv_type}")
        keys = [(conv_type, i) for i in ids]
        change = ConvChange(recv_opt=opt, ensure=True)
        convs = [c for c in await self.store.convs.change_conversations(user_id, keys, change) if c]
        self.publish(user_id, convs, conn_id)
        return convs

    async def get_recv_opts(self, user_id: str, user_ids: list[str]) -> dict[str, int]:
        """C2C receive options for ``user_ids`` (Receive where none was set)."""
        if len(user_ids) > self.limits.recv_opt_users:
            raise _refuse(
                ErrorCode.ERR_INVALID_PARAMETERS,
                f"at most {self.limits.recv_opt_users} users per call",
            )
        found = await self.store.convs.recv_opts(
            user_id, ConvType.C2C, list(dict.fromkeys(user_ids))
        )
        return {u: found.get(u, RecvOpt.RECEIVE) for u in user_ids}

    # --- conversation groups ----------------------------------------------------------------
    def _check_name(self, name: str) -> None:
        if not name:
            raise _refuse(ErrorCode.ERR_INVALID_PARAMETERS, "a conversation group needs a name")
        if len(name.encode()) > self.limits.conv_group_name_bytes:
            raise _refuse(
                ErrorCode.ERR_SVR_CONV_CONV_GROUP_NAME_EXCEED_LENGTH,
                f"conversation group names are at most {self.limits.conv_group_name_bytes} bytes",
            )

    @staticmethod
    def _no_group(name: str) -> ServiceError:
        return _refuse(
            ErrorCode.ERR_SVR_CONV_CONV_GROUP_NOT_EXIST, f"no conversation group {name!r}"
        )

    @staticmethod
    def _results(keys: list[Key], done: list[Conversation], code: int) -> list[ConvResult]:
        ok = {(c.conv_type, c.conv_id) for c in done}
        return [
            ConvResult(conv_type=t, conv_id=i)
            if (t, i) in ok
            else ConvResult(conv_type=t, conv_id=i, code=code, desc="not done")
            for t, i in keys
        ]

    async def create_group(
        self, user_id: str, name: str, keys: list[Key], conn_id: str
    ) -> tuple[list[ConvResult], list[Conversation]]:
        self.bus.ensure_up()
        self._check_name(name)
        self._check_batch(keys)
        if len(await self.store.conv_groups.conv_groups(user_id)) >= self.limits.conv_groups:
            raise _refuse(
                ErrorCode.ERR_SVR_CONV_CONV_GROUP_TOTAL_COUNT_EXCEED_LIMIT,
                f"at most {self.limits.conv_groups} conversation groups",
            )
        try:
            added = await self.store.conv_groups.create_conv_group(
                user_id, name, keys, int(self.clock())
            )
        except DuplicateConvGroupError as exc:
            raise _refuse(
                ErrorCode.ERR_INVALID_PARAMETERS, f"conversation group {name!r} exists"
            ) from exc
        self.publish(user_id, added, conn_id)
        self.publish_group_change(
            user_id, ConvGroupChange(kind="created", name=name, convs=added), conn_id
        )
        return self._results(keys, added, ErrorCode.ERR_INVALID_CONVERSATION), added

    async def delete_group(self, user_id: str, name: str, conn_id: str) -> list[Conversation]:
        self.bus.ensure_up()
        self._check_name(name)
        convs = await self.store.conv_groups.delete_conv_group(user_id, name)
        if convs is None:
            raise self._no_group(name)
        self.publish(user_id, convs, conn_id)
        self.publish_group_change(user_id, ConvGroupChange(kind="deleted", name=name), conn_id)
        return convs

    async def rename_group(
        self, user_id: str, name: str, new_name: str, conn_id: str
    ) -> list[Conversation]:
        self.bus.ensure_up()
        self._check_name(name)
        self._check_name(new_name)
        try:
            convs = await self.store.conv_groups.rename_conv_group(user_id, name, new_name)
        except DuplicateConvGroupError as exc:
            raise _refuse(
                ErrorCode.ERR_INVALID_PARAMETERS, f"conversation group {new_name!r} exists"
            ) from exc
        if convs is None:
            raise self._no_group(name)
        self.publish(user_id, convs, conn_id)
        self.publish_group_change(
            user_id, ConvGroupChange(kind="renamed", name=name, new_name=new_name), conn_id
        )
        return convs

    async def add_to_group(
        self, user_id: str, name: str, keys: list[Key], conn_id: str
    ) -> tuple[list[ConvResult], list[Conversation], list[Conversation]]:
        """Add conversations; a group over its limit evicts its earliest added (reason 1)."""
        self.bus.ensure_up()
        self._check_name(name)
        self._check_batch(keys)
        found = await self.store.conv_groups.add_to_conv_group(
            user_id, name, keys, self.limits.convs_per_group
        )
        if found is None:
            raise self._no_group(name)
        added, evicted = found
        self.publish(user_id, added + evicted, conn_id)
        if added:
            self.publish_group_change(
                user_id, ConvGroupChange(kind="added", name=name, convs=added), conn_id
            )
        if evicted:
            self.publish_group_change(
                user_id,
                ConvGroupChange(kind="removed", name=name, convs=evicted, reason=1),
                conn_id,
            )
        current = await self.store.convs.get_conversations(user_id, keys)
        members = [c for c in current if name in c.groups]
        return self._results(keys, members, ErrorCode.ERR_INVALID_CONVERSATION), added, evicted

    async def remove_from_group(
        self, user_id: str, name: str, keys: list[Key], conn_id: str
    ) -> tuple[list[ConvResult], list[Conversation]]:
        self.bus.ensure_up()
        self._check_name(name)
        self._check_batch(keys)
        removed = await self.store.conv_groups.remove_from_conv_group(user_id, name, keys)
        if removed is None:
            raise self._no_group(name)
        self.publish(user_id, removed, conn_id)
        if removed:
            self.publish_group_change(
                user_id, ConvGroupChange(kind="removed", name=name, convs=removed), conn_id
            )
        return self._results(keys, removed, ErrorCode.ERR_INVALID_CONVERSATION), removed

    async def group_names(self, user_id: str) -> list[str]:
        return await self.store.conv_groups.conv_groups(user_id)
