"""ConversationManager: the user's conversation list, kept current by sync, pushes and calls.

The list is indexed (``filters.ConvIndex``) so that filtered pages, filtered unread totals and
subscriptions cost what the page or the change costs, not what the list costs.
"""

from __future__ import annotations

import logging

import msgspec

from opentim.protocol import AtInfo, Conversation, ConvType, Draft, ErrorCode, Mark, Message
from opentim.protocol.drafts import now_stamp
from opentim.protocol.limits import MAX_CONVS_PER_CALL
from opentim.protocol.ops import (
    ConvCustomReq,
    ConvDeleteListReq,
    ConvGetReq,
    ConvGroupChange,
    ConvGroupReq,
    ConvKey,
    ConvMarkReq,
    ConvRes,
    ConvResult,
    ConvResultsRes,
    ConvsRes,
    DraftReq,
    PinReq,
    ReadReq,
)

from .core import ClientSession, GroupChanged, Revoked, Updated
from .events import ConvEvent, ConvGroupEvent, ConvGroupEventKind, Events
from .exceptions import ConnectionLostError, SdkError
from .filters import ConvFilter, ConvIndex
from .store import Cache
from .sync import SyncDriver
from .transport import Transport

log = logging.getLogger(__name__)

Key = tuple[int, str]
Convs = list[Conversation]
KeyList = list[Key]
Results = list[ConvResult]
Names = list[str]

_GROUP_KINDS = {
    "created": ConvGroupEventKind.CREATED,
    "deleted": ConvGroupEventKind.DELETED,
    "renamed": ConvGroupEventKind.RENAMED,
    "added": ConvGroupEventKind.ADDED,
    "removed": ConvGroupEventKind.REMOVED,
}


def _keys(keys: KeyList) -> list[ConvKey]:
    return [ConvKey(conv_type=t, conv_id=i) for t, i in keys]


def _shown(conv: Conversation | None) -> Conversation | None:
    """The conversation without what no app sees (its change position, and whether the user
    left the group, which the tips message that says so already showed): a snapshot that
    differs only there is no change to announce. A member who quits or is kicked gets the
    tips message, then the conversation's new state: one event, not two."""
    if conv is None:
        return None
    return msgspec.structs.replace(conv, pos=0, ended=False)


class ConversationManager:
    """The cached list and the calls that change it. Every change fires its event before the
    call that made it returns. The sync core keeps it current (it is the core's ``ConvList``);
    pushed revokes and conversation-group changes come through the transport."""

    def __init__(
        self,
        session: ClientSession,
        transport: Transport,
        cache: Cache,
        events: Events,
        sync: SyncDriver,
    ) -> None:
        self._session = session
        self._transport = transport
        self._cache = cache
        self._events = events
        self._sync = sync
        transport.on(Revoked, self._on_revoked)
        transport.on(Updated, self._on_updated)
        transport.on(GroupChanged, lambda a: self._on_group_change(a.change))
        self._convs: dict[Key, Conversation] = {}
        self._total = 0
        self._pending_drafts: dict[Key, DraftReq] = {}
        """Draft edits not yet on the server (made offline, or in flight)."""
        self._index = ConvIndex()
        self._group_names: Names = []
        self._groups_known = False

    # --- reading ----------------------------------------------------------------------------
    def list(self, include_hidden: bool = False) -> Convs:
        """Visible conversations, ordered as the reference orders them: by ``order_key``,
        largest first (pinned first, then newest activity). Conversations carrying the Hide
        mark stay out until a new message arrives, unless ``include_hidden``."""
        return self._index.ordered(include_hidden)

    def cached(self, conv_type: int, conv_id: str) -> Conversation | None:
        conv = self._convs.get((conv_type, conv_id))
        return None if conv is None or conv.deleted else conv

    def total_unread(self) -> int:
        """Unread messages over every visible conversation, leaving out the conversations
        whose receive option is Not_Receive, Not_Notify or Not_Notify_Except_At (reference
        6.11); the same total as ``unread_total(None)``."""
        return self._total

    def page(
        self, conv_filter: ConvFilter, next_seq: int = 0, count: int = 100
    ) -> tuple[Convs, int, bool]:
        """One page of the conversations ``conv_filter`` selects, in list order.

        Start a pass with ``next_seq`` 0 and go on with the ``next_seq`` each page returns,
        until ``finished``. A pass is stable: it walks the order the list had when it began,
        so a conversation that moves meanwhile is returned once, neither skipped nor repeated
        (see ``filters``).

        Raises:
            SdkError: 6017 when ``next_seq`` is not from a live pass of the same filter.
        """
        try:
            return self._index.page(conv_filter, next_seq, max(1, count))
        except KeyError as exc:
            raise SdkError(
                ErrorCode.ERR_INVALID_PARAMETERS, f"next_seq {next_seq} is not from this filter"
            ) from exc

    def unread_total(self, conv_filter: ConvFilter | None = None) -> int:
        """Unread over the conversations ``conv_filter`` selects (all when None), leaving out
        do-not-disturb ones, as ``total_unread``."""
        return self._index.unread_total(conv_filter)

    def subscribe_unread(self, conv_filter: ConvFilter) -> None:
        """From now on, ``events.filter_unread`` fires each time this filter's total changes
        (and only then). Several filters may be subscribed at once."""
        self._index.subscribe(conv_filter)

    def unsubscribe_unread(self, conv_filter: ConvFilter) -> bool:
        """Stop the events of a subscribed filter; False when it was not subscribed."""
        return self._index.unsubscribe(conv_filter)

    def group_names(self) -> Names:
        """The user's conversation groups (folders), in creation order (synced)."""
        return list(self._group_names)

    async def get(self, keys: KeyList) -> Convs:
        """The user's conversations among ``keys``, in that order; unknown ones are left out."""
        missing = [k for k in keys if k not in self._convs]
        for start in range(0, len(missing), MAX_CONVS_PER_CALL):  # the server's limit per call
            chunk = missing[start : start + MAX_CONVS_PER_CALL]
            while chunk:
                res = await self._transport.request(
                    "conv_get", ConvGetReq(keys=_keys(chunk)), ConvsRes
                )
                self.apply(res.convs)
                left = [(k.conv_type, k.conv_id) for k in res.left]
                if len(left) >= len(chunk):
                    break  # no progress: never loop on a server that does not page
                chunk = left  # a full answer (paged by bytes): ask for the rest
        return [c for k in keys if (c := self.cached(*k)) is not None]

    # --- changing ---------------------------------------------------------------------------
    async def _change(self, op: str, body: msgspec.Struct) -> Conversation:
        res = await self._transport.request(op, body, ConvRes)
        self.apply([res.conv])
        return self._convs.get((res.conv.conv_type, res.conv.conv_id), res.conv)

    async def create(self, conv_type: int, conv_id: str) -> Conversation:
        """Create the conversation on the server if it is new (every device sees it)."""
        return await self._change("conv_create", ConvKey(conv_type=conv_type, conv_id=conv_id))

    async def delete(self, conv_type: int, conv_id: str) -> None:
        """Delete the conversation and its history for this user, on all their devices."""
        await self._change("conv_delete", ConvKey(conv_type=conv_type, conv_id=conv_id))

    async def pin(self, conv_type: int, conv_id: str, pinned: bool) -> Conversation:
        return await self._change(
            "conv_pin", PinReq(conv_type=conv_type, conv_id=conv_id, pinned=pinned)
        )

    async def set_draft(self, conv_type: int, conv_id: str, draft: Draft) -> Conversation:
        """Set the draft, stamped now in UTC seconds from this device's clock: the app's
        ``draft.edit_time`` is ignored (the reference's headers make it read-only).

        Online, the server stores it and its answer is the one ``UPDATED`` event here (the
        user's other devices get theirs by push). Offline, it shows here at once (one event)
        and goes out after the next sync. On a conversation the user does not have, the server
        creates it first, as ``create`` does (``ADDED`` on every device). Across devices the
        later stamp wins, a tie going to the edit the server got last (DESIGN §3).
        """
        stamp = now_stamp()
        draft = msgspec.structs.replace(draft, edit_time=stamp)
        return await self._draft(
            DraftReq(conv_type=conv_type, conv_id=conv_id, draft=draft, edit_time=stamp)
        )

    async def cancel_draft(self, conv_type: int, conv_id: str) -> Conversation:
        """Cancel the draft, stamped as ``set_draft`` stamps, online or offline alike.

        Raises:
            SdkError: 6004 when the user has no such conversation (there is no draft).
        """
        return await self._draft(
            DraftReq(conv_type=conv_type, conv_id=conv_id, edit_time=now_stamp())
        )

    async def _draft(self, req: DraftReq) -> Conversation:
        key = (req.conv_type, req.conv_id)
        if self._transport.connected and key not in self._pending_drafts:
            try:
                return await self._change("conv_draft", req)
            except ConnectionLostError:
                pass  # it may or may not have arrived: keep it as an offline edit
        old = self._convs.get(key)
        if old is None or old.deleted:
            if req.draft is None:
                raise SdkError(ErrorCode.ERR_INVALID_CONVERSATION, "no such conversation")
            # Not here yet: shown at once, the server creates it when the edit goes out.
            old = old or Conversation(conv_type=req.conv_type, conv_id=req.conv_id, deleted=True)
        local = msgspec.structs.replace(old, draft=req.draft, deleted=False)
        if req.draft is not None:
            local.activity = max(old.activity, old.pos) + 1  # drafting moves it up, as a bump
        self._replace(old, local)
        self._pending_drafts[key] = req
        if self._transport.connected:
            await self._push_draft(key)
        return self._convs.get(key, local)

    async def _push_draft(self, key: Key) -> None:
        req = self._pending_drafts.get(key)
        if req is None:
            return
        try:
            res = await self._transport.request("conv_draft", req, ConvRes)
        except ConnectionLostError:
            return  # stays pending: it goes out after the next sync
        except SdkError as exc:
            if exc.code == ErrorCode.ERR_SDK_NOT_LOGGED_IN:
                raise  # logged out meanwhile: it stays pending for the next sync
            self._pending_drafts.pop(key, None)
            local = self._convs.get(key)
            if local is not None and local.pos == 0:
                # Made here offline and refused (no such user, not a member): it goes.
                self.apply([msgspec.structs.replace(local, deleted=True, draft=None)])
            raise
        if self._pending_drafts.get(key) is req:
            del self._pending_drafts[key]
        self.apply([res.conv])

    async def push_pending_drafts(self) -> None:
        """Send draft edits made while offline (after a sync, so the server's are known)."""
        for key in list(self._pending_drafts):
            try:
                await self._push_draft(key)
            except SdkError as exc:
                if exc.code == ErrorCode.ERR_SDK_NOT_LOGGED_IN:
                    return  # logged out meanwhile: the edits wait for the next sync
                log.warning("draft of %s refused: %s", key, exc)

    async def mark_read(self, conv_type: int, conv_id: str, seq: int = 0) -> Conversation:
        """Mark the conversation read up to ``seq`` (0: everything so far). For C2C, the peer
        gets a read receipt."""
        return await self._change(
            "conv_read", ReadReq(conv_type=conv_type, conv_id=conv_id, seq=seq)
        )

    async def clear_history(self, conv_type: int, conv_id: str) -> Conversation:
        """Hide the conversation's history so far for this user (every device), keeping the
        conversation in the list; it is read up to now."""
        return await self._change(
            "conv_clear_history", ConvKey(conv_type=conv_type, conv_id=conv_id)
        )

    async def _batch(self, op: str, body: msgspec.Struct) -> ConvResultsRes:
        res = await self._transport.request(op, body, ConvResultsRes)
        self.apply(res.convs + res.evicted)
        if res.more:
            self._sync.sync_soon()
        return res

    async def delete_many(self, keys: KeyList, clear_messages: bool = True) -> Results:
        """Delete several conversations (at most 100); ``clear_messages`` false keeps their
        history readable. One result per key (6004: no such conversation)."""
        req = ConvDeleteListReq(keys=_keys(keys), clear_messages=clear_messages)
        return (await self._batch("conv_delete_list", req)).results

    async def mark(self, keys: KeyList, mark: int, enable: bool) -> Results:
        """Set (``enable``) or clear mark bits: ``Mark.STAR``/``UNREAD``/``FOLD``/``HIDE`` or
        app bits ``1 << 32`` … ``1 << 63``. Marks are flags: the Unread mark does not change
        unread counts; a Hide mark keeps the conversation out of ``list()`` until a new
        message arrives."""
        req = ConvMarkReq(keys=_keys(keys), mark=mark, enable=enable)
        return (await self._batch("conv_mark", req)).results

    async def set_custom_data(self, keys: KeyList, custom_data: str) -> Results:
        """Set the same custom data (at most 256 bytes) on each conversation; synced."""
        req = ConvCustomReq(keys=_keys(keys), custom_data=custom_data)
        return (await self._batch("conv_custom", req)).results

    # --- conversation groups (folders) ------------------------------------------------------
    async def create_group(self, name: str, keys: KeyList) -> Results:
        res = await self._batch("cgroup_create", ConvGroupReq(name=name, keys=_keys(keys)))
        self._on_group_change(ConvGroupChange(kind="created", name=name, convs=res.convs))
        return res.results

    async def delete_group(self, name: str) -> None:
        res = await self._transport.request("cgroup_delete", ConvGroupReq(name=name), ConvsRes)
        self.apply(res.convs)
        if res.more:
            self._sync.sync_soon()
        self._on_group_change(ConvGroupChange(kind="deleted", name=name))

    async def rename_group(self, name: str, new_name: str) -> None:
        req = ConvGroupReq(name=name, new_name=new_name)
        res = await self._transport.request("cgroup_rename", req, ConvsRes)
        self.apply(res.convs)
        if res.more:
            self._sync.sync_soon()
        self._on_group_change(ConvGroupChange(kind="renamed", name=name, new_name=new_name))

    async def add_to_group(self, name: str, keys: KeyList) -> Results:
        """Add conversations to a group; a full group (1,000) evicts its earliest added, which
        is reported as a removal with reason 1."""
        res = await self._batch("cgroup_add", ConvGroupReq(name=name, keys=_keys(keys)))
        if res.convs:
            self._on_group_change(ConvGroupChange(kind="added", name=name, convs=res.convs))
        if res.evicted:
            self._on_group_change(
                ConvGroupChange(kind="removed", name=name, convs=res.evicted, reason=1)
            )
        return res.results

    async def remove_from_group(self, name: str, keys: KeyList) -> Results:
        res = await self._batch("cgroup_remove", ConvGroupReq(name=name, keys=_keys(keys)))
        if res.convs:
            self._on_group_change(ConvGroupChange(kind="removed", name=name, convs=res.convs))
        return res.results

    def _on_group_change(self, change: ConvGroupChange) -> None:
        """Fold a conversation-group change (ours, or pushed from another device) into the
        group list and announce it."""
        names = self._group_names
        if change.kind == "created" and change.name not in names:
            names.append(change.name)
        elif change.kind == "deleted" and change.name in names:
            names.remove(change.name)
        elif change.kind == "renamed" and change.name in names:
            names[names.index(change.name)] = change.new_name
        self.apply(change.convs)
        convs = [self._convs.get((c.conv_type, c.conv_id), c) for c in change.convs]
        self._events.emit_conv_group(
            ConvGroupEvent(
                kind=_GROUP_KINDS[change.kind],
                name=change.name,
                new_name=change.new_name,
                convs=convs,
                reason=change.reason,
            )
        )

    def set_group_names(self, names: Names) -> None:
        """The group list as a sync reports it: after the first sync, announce the groups
        created or deleted while this device was away (the first sync only learns the list)."""
        before = self._group_names
        self._group_names = list(names)
        known, self._groups_known = self._groups_known, True
        if not known:
            return
        for name in before:
            if name not in names:
                self._events.emit_conv_group(
                    ConvGroupEvent(kind=ConvGroupEventKind.DELETED, name=name)
                )
        for name in names:
            if name not in before:
                members = [c for c in self.list(include_hidden=True) if name in c.groups]
                self._events.emit_conv_group(
                    ConvGroupEvent(kind=ConvGroupEventKind.CREATED, name=name, convs=members)
                )

    # --- applying what the server says ------------------------------------------------------
    def restore(self, snapshots: Convs) -> None:
        """Fill an empty list from the local cache, silently (no events: nothing changed)."""
        for snap in snapshots:
            self._convs[(snap.conv_type, snap.conv_id)] = snap
            if not snap.deleted:
                self._total += snap.counted_unread
        self._index.load(snapshots)

    def _replace(self, old: Conversation, new: Conversation) -> None:
        """Swap in a locally made snapshot, with its event."""
        self._convs[(new.conv_type, new.conv_id)] = new
        added: Convs = []
        updated: Convs = []
        total_before = self._total
        self._classify(old, new, added, updated, [])
        self._emit(added, updated, [], total_before)
        self._cache.save_state([new], None)

    def snapshots(self) -> dict[Key, Conversation]:
        """Every snapshot held, tombstones included (a copy)."""
        return dict(self._convs)

    def apply(self, snapshots: Convs, *, force: bool = False) -> None:
        """Apply conversation snapshots; stale ones (smaller ``pos``) are ignored, unless
        ``force``: a resync from another history, whose positions are not comparable."""
        added: Convs = []
        updated: Convs = []
        deleted: Convs = []
        changed: Convs = []
        total_before = self._total
        for snap in snapshots:
            key = (snap.conv_type, snap.conv_id)
            old = self._convs.get(key)
            if old is not None and snap.pos < old.pos and not force:
                continue
            pending = self._pending_drafts.get(key)
            if pending is not None and snap.draft != pending.draft:
                # A local edit not yet on the server: keep showing it.
                snap = msgspec.structs.replace(snap, draft=pending.draft)
            self._convs[key] = snap
            changed.append(snap)
            self._classify(old, snap, added, updated, deleted)
        self._emit(added, updated, deleted, total_before)
        self._cache.save_state(changed, None)

    def apply_message(self, msg: Message) -> bool:
        """Fold a new message into its conversation; False when the conversation is unknown
        here and must be fetched."""
        me = self._session.user_id
        key = (msg.conv_type, msg.conv_id_for(me))
        old = self._convs.get(key)
        if old is None:
            return False
        if msg.seq <= old.max_seq or old.ended:
            return True
        new = msgspec.structs.replace(
            old,
            max_seq=msg.seq,
            count=msg.count,
            activity=max(old.activity, msg.activity),
            pos=max(old.pos, msg.activity),
            deleted=False,
        )
        if not msg.excluded_from_last:
            new.last_msg = msg
        if msg.sender == me:
            new.read_seq, new.read_count = msg.seq, msg.count
            new.at_info = []
        else:
            if msg.conv_type == ConvType.C2C:
                # The peer's message reads everything before it (as on the server).
                new.peer_read_seq = max(new.peer_read_seq, msg.seq)
            at_type = msg.at_type_for(me)
            if at_type:
                new.at_info = [*old.at_info, AtInfo(seq=msg.seq, at_type=at_type)]
        if new.marks & Mark.HIDE and msg.seq > new.hide_seq:
            new.marks &= ~Mark.HIDE  # a new message shows a hidden conversation again
        self._convs[key] = new
        added: Convs = []
        updated: Convs = []
        total_before = self._total
        self._classify(old, new, added, updated, [])
        self._emit(added, updated, [], total_before)
        self._cache.save_state([new], None)
        return True

    def _on_revoked(self, revoked: Revoked) -> None:
        """Pushed: a message was revoked (by its sender, an admin, or another device)."""
        self.apply_changed(revoked.msg, revoked.pos)
        self._events.emit_revoked([revoked.msg])

    def _on_updated(self, updated: Updated) -> None:
        """Pushed: a message was modified (by a participant, or this user on another device)."""
        self.apply_changed(updated.msg, updated.pos)
        self._events.emit_updated([updated.msg])

    def apply_peer_read(self, peer: str, seq: int) -> None:
        """The C2C peer read up to ``seq`` (a receipt): the conversation remembers it, for
        ``message_is_peer_read``. Read positions never go back; no conversation event (the
        list shows nothing of it); the next sync brings the same from the server."""
        key = (ConvType.C2C, peer)
        old = self._convs.get(key)
        if old is None or seq <= old.peer_read_seq:
            return
        new = msgspec.structs.replace(old, peer_read_seq=seq)
        self._convs[key] = new
        self._index.update(key, new)
        self._cache.save_state([new], None)

    def apply_changed(self, msg: Message, pos: int) -> None:
        """A message was revoked or modified: its conversation's last message follows."""
        key = (msg.conv_type, msg.conv_id_for(self._session.user_id))
        old = self._convs.get(key)
        if old is None or old.last_msg is None or old.last_msg.seq != msg.seq:
            return
        self.apply([msgspec.structs.replace(old, last_msg=msg, pos=max(old.pos, pos))])

    def _classify(
        self,
        old: Conversation | None,
        new: Conversation,
        added: Convs,
        updated: Convs,
        deleted: Convs,
    ) -> None:
        was_visible = old is not None and not old.deleted
        old_counted = 0 if old is None or old.deleted else old.counted_unread
        new_counted = 0 if new.deleted else new.counted_unread
        self._total += new_counted - old_counted
        self._index.update((new.conv_type, new.conv_id), new)
        if new.deleted:
            if was_visible:
                deleted.append(new)
        elif was_visible:
            # A new message changes max_seq: no need to copy both to see the change.
            assert old is not None
            if new.max_seq != old.max_seq or _shown(new) != _shown(old):
                updated.append(new)
        else:
            added.append(new)

    def _emit(
        self,
        added: Convs,
        updated: Convs,
        deleted: Convs,
        total_before: int,
    ) -> None:
        events = self._events
        if added:
            events.emit_conversations(ConvEvent.ADDED, added)
        if deleted:
            events.emit_conversations(ConvEvent.DELETED, deleted)
        if updated:
            events.emit_conversations(ConvEvent.UPDATED, updated)
        if self._total != total_before:
            events.emit_total_unread(self._total)
        for conv_filter, total in self._index.changed_totals():
            events.emit_filter_unread(conv_filter, total)

    def clear(self) -> None:
        self._convs.clear()
        self._pending_drafts.clear()
        self._total = 0
        self._index.clear()
        self._group_names = []
        self._groups_known = False
